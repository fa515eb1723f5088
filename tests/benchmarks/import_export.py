#!/usr/bin/env python
"""Benchmark ecs_image_import and ecs_image_export against the emulator.

For each run it prints the API calls the module made (ECS by action, and OSS) and the detection latency:
the time from the moment the import task / image (or the export task) completed in the emulator to the
moment the module returned. The module is run as Ansible runs it (a Python process with the module
arguments), without ansible-playbook around it.

    .venv/bin/python tests/benchmarks/import_export.py [--runs 3] [--time-scale 0.02]

Figures depend on the poll schedule of module_utils.waiters (first poll after 1 s, then x1.5 up to 10 s):
with a transition of D real seconds the latency is at most the poll interval reached at D.
"""
from __future__ import print_function

import argparse
import collections
import statistics

from benchlib import last_seq, module_env, requests_since, run_module
from ecs_emulator.server import start_emulator


def timed(run):
    """(result, wall seconds, time of return) of a benchlib.run_module run: the module returned when its process
    ended."""
    return run.result, run.ended - run.started, run.ended


def summarize(reqs):
    ecs = collections.Counter(r['action'] for r in reqs if not r['action'].startswith('oss:'))
    oss = collections.Counter(r['action'] for r in reqs if r['action'].startswith('oss:'))
    return ecs, oss


def fmt_counter(counter):
    return ', '.join('%s %d' % kv for kv in sorted(counter.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--time-scale', type=float, default=0.02,
                        help='emulator time scale (import = 600 simulated s, export = 300 simulated s)')
    opts = parser.parse_args()

    emu = start_emulator(time_scale=opts.time_scale)
    try:
        env = module_env(emu)
        backend = emu.state.backend
        imp_lat, exp_lat, imp_calls, exp_calls = [], [], [], []
        print('emulator time scale %.3f: import lasts %.1f s, export %.1f s (real)'
              % (opts.time_scale, 600 * opts.time_scale, 300 * opts.time_scale))
        image_id = None
        for n in range(opts.runs):
            seq = last_seq(emu)
            res, wall, returned = timed(run_module('ecs_image_import', {
                'name': 'bench-import-%d' % n, 'oss_bucket': 'ecs-images-hz',
                'oss_object': 'disks/alinux3-minimal.raw', 'format': 'RAW'}, env))
            task = backend.tasks[res['task_id']]
            latency = returned - task.finished_time
            ecs, oss = summarize(requests_since(emu, seq))
            imp_lat.append(latency)
            imp_calls.append(sum(ecs.values()))
            image_id = res['image_id']
            print('import %d: %s %s, wall %.2f s, detection latency %.2f s; ECS calls %d (%s); OSS calls %d (%s)'
                  % (n, res['image_id'], res['image']['status'], wall, latency, sum(ecs.values()), fmt_counter(ecs),
                     sum(oss.values()), fmt_counter(oss)))

        seq = last_seq(emu)
        res, wall = timed(run_module('ecs_image_import', {
            'name': 'bench-import-0', 'oss_bucket': 'ecs-images-hz', 'oss_object': 'disks/alinux3-minimal.raw',
            'format': 'RAW'}, env))[:2]
        ecs, oss = summarize(requests_since(emu, seq))
        print('import rerun: changed=%s, wall %.2f s; ECS calls %d (%s); OSS calls %d'
              % (res['changed'], wall, sum(ecs.values()), fmt_counter(ecs), sum(oss.values())))

        for n in range(opts.runs):
            seq = last_seq(emu)
            res, wall, returned = timed(run_module('ecs_image_export', {
                'image_id': image_id, 'oss_bucket': 'ecs-exports-hz', 'oss_prefix': 'bench%d' % n,
                'image_format': 'raw'}, env))
            task = backend.tasks[res['task_id']]
            latency = returned - task.finished_time
            ecs, oss = summarize(requests_since(emu, seq))
            exp_lat.append(latency)
            exp_calls.append(sum(ecs.values()))
            print('export %d: %s %s -> %s, wall %.2f s, detection latency %.2f s; ECS calls %d (%s); OSS calls %d '
                  '(%s)' % (n, res['task_id'], res['task_status'], ','.join(res['oss_objects']), wall, latency,
                            sum(ecs.values()), fmt_counter(ecs), sum(oss.values()), fmt_counter(oss)))

        seq = last_seq(emu)
        res, wall = timed(run_module('ecs_image_export', {
            'image_id': image_id, 'oss_bucket': 'ecs-exports-hz', 'oss_prefix': 'bench0', 'image_format': 'raw'},
            env))[:2]
        ecs, oss = summarize(requests_since(emu, seq))
        print('export rerun: changed=%s, wall %.2f s; ECS calls %d (%s); OSS calls %d'
              % (res['changed'], wall, sum(ecs.values()), fmt_counter(ecs), sum(oss.values())))

        print('SUMMARY import: detection latency mean %.2f s, max %.2f s; ECS calls mean %.1f'
              % (statistics.mean(imp_lat), max(imp_lat), statistics.mean(imp_calls)))
        print('SUMMARY export: detection latency mean %.2f s, max %.2f s; ECS calls mean %.1f'
              % (statistics.mean(exp_lat), max(exp_lat), statistics.mean(exp_calls)))
    finally:
        emu.stop()


if __name__ == '__main__':
    main()
