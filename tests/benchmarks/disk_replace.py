#!/usr/bin/env python
"""Benchmark of ecs_disk_replace against the emulator: API calls and the time the module adds on top of the
emulator's simulated durations of the operations themselves (stop + replace + start).

    .venv/bin/python tests/benchmarks/disk_replace.py [--time-scale 1.0] [--rounds 1] [--subprocess]

For each scenario it prints the API calls by action (from the emulator's request log), the wall time of the
module's run, the simulated time of the operations it waited for (durations x time scale), and the overhead
= wall - simulated, absolute and as a share of the simulated time (target: under 10 %).

The module runs in this process (its own code path: argument parsing, reads, plan, calls, waits); with
--subprocess it also runs as Ansible runs it (a new Python process per task), which adds the interpreter and
SDK start-up of the machine - printed separately because it does not grow with the operation.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections import Counter
from contextlib import redirect_stdout

from benchlib import ROOT, admin, collection_root, last_seq, module_env, requests_since, run_module


def run_in_process(args: dict) -> dict:
    """Run the module's main() here with ``args``; returns its JSON result."""
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes
    from ansible_collections.alicloud.ecs_images.plugins.modules import ecs_disk_replace

    basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    basic._ANSIBLE_PROFILE = 'legacy'
    out = io.StringIO()
    with redirect_stdout(out):
        try:
            ecs_disk_replace.main()
        except SystemExit:
            pass
    return json.loads(out.getvalue())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--time-scale', type=float, default=1.0,
                    help='emulator time scale (1.0 = the simulated durations in real seconds; default 1.0)')
    ap.add_argument('--rounds', type=int, default=1, help='repetitions of each scenario (default 1)')
    ap.add_argument('--subprocess', action='store_true',
                    help='also run each scenario as a separate Python process, as Ansible does')
    opts = ap.parse_args(argv)

    coll = collection_root()
    sys.path.insert(0, coll)
    from ecs_emulator.backend.core import DEFAULT_DURATIONS
    from ecs_emulator.server import start_emulator
    from ecs_emulator.testvars import test_vars

    emu = start_emulator(time_scale=opts.time_scale)
    try:
        os.environ.update(emu.env())        # for the in-process runs
        env = module_env(emu)               # for the --subprocess runs
        tv = test_vars(admin(emu, 'GET', 'resources'), admin(emu, 'GET', 'accounts'), emu.admin_url)
        durations = dict(DEFAULT_DURATIONS)
        with open(ROOT / 'tests/emulator/ecs_emulator/fixtures/default.json', encoding='utf-8') as f:
            durations.update(json.load(f).get('durations') or {})
        running, stopped = tv['test_instance_running'], tv['test_instance_stopped']
        images = ['centos_7_9_x64_20G_alibase_20240628.vhd', 'debian_12_6_x64_20G_alibase_20240823.vhd']

        scenarios = []
        for rnd in range(opts.rounds):
            image = images[rnd % 2]
            scenarios += [
                ('running: stop + replace + start', {'instance_id': running, 'image_id': image, 'stop': True,
                                                     'password_inherit': True},
                 ('StopInstance', 'ReplaceSystemDisk', 'StartInstance')),
                ('running: idempotent rerun', {'instance_id': running, 'image_id': image, 'stop': True,
                                               'password_inherit': True}, ()),
                ('stopped: replace only', {'instance_id': stopped, 'image_id': image,
                                           'key_pair_name': tv['test_key_pair_name']}, ('ReplaceSystemDisk',)),
            ]
        print('ecs_disk_replace benchmark - emulator time scale %g; simulated durations (s): %s'
              % (opts.time_scale, ', '.join('%s %s' % (a, durations[a])
                                            for a in ('StopInstance', 'ReplaceSystemDisk', 'StartInstance'))))
        header = ('scenario', 'mode', 'calls', 'wall s', 'sim s', 'over s', 'over %', 'calls by action')
        print('%-34s %-10s %6s %9s %9s %9s %8s  %s' % header)
        worst = 0.0
        modes = ['in-process'] + (['subprocess'] if opts.subprocess else [])
        for name, args, ops in scenarios:
            for mode in modes:
                if mode == 'subprocess' and ops:
                    # put the instance back so the subprocess run does the same work
                    back = dict(args, image_id=images[0] if args['image_id'] != images[0] else images[1])
                    run_in_process(back)
                mark = last_seq(emu)
                t0 = time.monotonic()
                result = (run_in_process(args) if mode == 'in-process' else
                          run_module('ecs_disk_replace', args, env, check=False).result)
                wall = time.monotonic() - t0
                if result.get('failed'):
                    print('FAILED: %s' % result.get('msg'))
                    return 1
                reqs = requests_since(emu, mark)
                by_action = Counter(r['action'] for r in reqs)
                sim = sum(durations[o] for o in ops) * opts.time_scale
                over = wall - sim
                ratio = (100.0 * over / sim) if sim else float('nan')
                if sim and mode == 'in-process':
                    worst = max(worst, ratio)
                print('%-34s %-10s %6d %9.2f %9.2f %9.2f %8s  %s' % (
                    name, mode, len(reqs), wall, sim, over, ('%.1f' % ratio) if sim else '-',
                    ', '.join('%s %d' % kv for kv in sorted(by_action.items()))))
        print('worst in-process overhead over the simulated durations: %.1f %% (target < 10 %%)' % worst)
        return 0 if worst < 10.0 else 3
    finally:
        emu.stop()


if __name__ == '__main__':
    sys.exit(main())
