#!/usr/bin/env python
"""Benchmark of the waiter engine (module_utils/waiters.py) against the emulator: prints figures, not a test.

Every wait kind runs as Ansible runs a module (a Python process with the module arguments), all at the same time
against one emulator whose CreateImage, CopyImage, ImportImage and ExportImage last ``--duration`` real seconds
(fixture ``durations`` at time scale 1; the real cloud takes minutes to hours):

* ecs_image creates 2 images (from the running and the stopped instance);
* then, at once: ecs_image_copy of image 1 to 1 region, ecs_image_copy of image 2 to 10 other regions,
  ecs_image_export of each image; ecs_image_import of 3 images runs from the start;
* instances, from the start: ecs_instance launches 2 instances, then at once ecs_instance_power stops and
  starts the first, and ecs_disk_replace stops the second, replaces its system disk and starts it. These
  transitions last the emulator's default durations (stop 10 s, start 15 s, launch 20 s, replace 40 s at time
  scale 1); instances report no progress, so these waits are aimed at the typical durations
  (module_utils/instances.TRANSITION_SECONDS).

Figures (from the emulator's request log, GET /_emulator/requests, and its backend's finishing times):

* detection latency: the resource ready (image Available, task Finished, instance Stopped/Running, new system
  disk In_use) -> the module acted on it (its process returned, or, between the steps of ecs_disk_replace, its
  next write was sent), median and max per kind (target: median <= 1 s); and ready -> the poll that saw it;
* polls per minute of each waited resource (its reads from the write to the module's return; target <= 6);
* total polls per minute of the 10-region copy (every DescribeImages of its copies; target <= 60).

    .venv/bin/python tests/benchmarks/waits.py [--duration 120]
"""
from __future__ import print_function

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import benchlib  # removes the proxy variables, puts tests/emulator on sys.path
from benchlib import collection_root, parallel
from ecs_emulator.server import DEFAULT_FIXTURE, start_emulator  # noqa: E402  pylint: disable=wrong-import-position
from ecs_emulator.testing import admin  # noqa: E402  pylint: disable=wrong-import-position

TARGET_LATENCY = 1.0
TARGET_RATE = 6.0
TARGET_TOTAL = 60.0
VERBOSE = False


def run_module(name, args, env):
    """Run a module like Ansible does; returns (result, start time, time the result was printed)."""
    return benchlib.run_module(name, args, env)[:3]


class Waited:
    """One waited resource: when its write was made, when it was ready, when the module returned."""

    def __init__(self, kind, key, write_time, ready, returned, region=None, match=None):
        self.kind, self.key, self.write_time, self.ready, self.returned, self.region = (
            kind, key, write_time, ready, returned, region)
        self.match = match or self.reads_image_or_task
        self.polls = []

    def reads_image_or_task(self, entry):
        keys = self.key if isinstance(self.key, tuple) else (self.key,)
        params = entry.get('params') or {}
        return entry.get('action') in ('DescribeImages', 'DescribeTaskAttribute') and \
            (params.get('ImageId') in keys or params.get('TaskId') in keys)

    def attach(self, log):
        self.polls = sorted(e['time'] for e in log if self.match(e) and self.write_time <= e['time'] <= self.returned)

    @property
    def latency(self):
        return self.returned - self.ready

    @property
    def seen_after(self):
        seen = [t for t in self.polls if t >= self.ready]
        return seen[0] - self.ready if seen else None

    @property
    def rate(self):
        return len(self.polls) / max(1e-6, (self.returned - self.write_time) / 60.0)


def write_time(log, action, match):
    times = [e['time'] for e in log if e.get('action') == action and e.get('status') == 200 and match(e)]
    return min(times) if times else None


INSTANCE_WRITES = ('RunInstances', 'StopInstance', 'StartInstance', 'ReplaceSystemDisk')
JOB_KINDS = {'RunInstances': 'launch', 'StopInstance': 'stop', 'StartInstance': 'start',
             'ReplaceSystemDisk': 'replace'}


def instance_jobs(env, vars_, backend, prefix):
    """Launch 2 instances (ecs_instance), then at once: stop and start the first (ecs_instance_power), replace
    the system disk of the second with stop and start (ecs_disk_replace). Returns {label: (result, printed)}."""
    region = vars_['test_region']
    base = vars_['test_public_image_id']
    other = sorted(i.image_id for i in backend.system.get(region, {}).values()
                   if i.alias == 'system' and i.image_id != base and (i.os_type or '').lower() == 'linux'
                   and i.architecture == 'x86_64' and i.status == 'Available')
    if not other:
        raise SystemExit('the fixture needs a second public Linux x86_64 image in %s' % region)
    out = {}
    res, _start, printed = run_module('ecs_instance', {
        'region': region, 'name': '%s-vm' % prefix, 'tags': {'bench': prefix}, 'image_id': base, 'count': 2,
        'instance_type': vars_['test_instance_type'], 'vswitch_id': vars_['test_vswitch_id'],
        'security_group_ids': [vars_['test_security_group_id']], 'key_pair_name': vars_['test_key_pair_name'],
        'state': 'running'}, env)
    out['launch'] = (res, printed)
    first, second = res['launched']

    def power():
        for state in ('stopped', 'running'):
            out['power_' + state] = run_module('ecs_instance_power', {
                'region': region, 'instance_id': first, 'state': state}, env)[0::2]

    def replace():
        out['replace'] = run_module('ecs_disk_replace', {
            'region': region, 'instance_id': second, 'image_id': other[0], 'stop': True,
            'key_pair_name': vars_['test_key_pair_name']}, env)[0::2]

    parallel([('power', power), ('replace', replace)])
    return out


def instance_waits(log, backend, results):
    """One Waited per instance transition the instance jobs requested: from its write to the moment the module
    acted on the end state (the module's next write to the instance, or its return)."""
    waited = []
    launched = results['launch'][0]['launched']
    returns = {launched[0]: sorted([results['launch'][1], results['power_stopped'][1],
                                    results['power_running'][1]]),
               launched[1]: sorted([results['launch'][1], results['replace'][1]])}
    jobs = [j for j in backend.finished_jobs if j.kind in JOB_KINDS.values()]
    for iid in launched:
        # the accepted writes start the waits; any write attempt (also one the cloud refuses for a few seconds
        # after a transition, realism transient_conflict) shows that the module acted on the end state
        attempts = [e for e in log if e.get('action') in INSTANCE_WRITES[1:]
                    and (e.get('params') or {}).get('InstanceId') == iid]
        writes = sorted((e['time'], e['action']) for e in attempts if e.get('status') == 200)
        writes.append(max((e['time'], e['action']) for e in log if e.get('action') == 'RunInstances'
                          and e.get('status') == 200 and e['time'] <= returns[iid][0]))
        writes.sort()
        acted = sorted(set(e['time'] for e in attempts) | set(returns[iid]))
        disk_ids = tuple(j.data['disk'].disk_id for j in jobs if j.kind == 'replace'
                         and j.data['instance'].instance_id == iid)
        for when, action in writes:
            kind = JOB_KINDS[action]
            job = min((j for j in jobs if j.kind == kind and j.data['instance'].instance_id == iid
                       and j.created >= when - 1.0), key=lambda j: j.created)
            after = min(t for t in acted if t > job.end)

            def match(entry, iid=iid, disk_ids=disk_ids):
                params = entry.get('params') or {}
                if entry.get('action') == 'DescribeInstances':
                    return iid in str(params.get('InstanceIds'))
                return entry.get('action') == 'DescribeDisks' and any(d in str(params.get('DiskIds')) for d in disk_ids)
            waited.append(Waited(kind, iid, when, job.end, after, match=match))
    return waited


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--duration', type=float, default=120.0,
                        help='real seconds of one CreateImage, CopyImage, ImportImage, ExportImage (default 120)')
    parser.add_argument('--verbose', action='store_true', help='print the poll times of every waited resource')
    opts = parser.parse_args()
    global VERBOSE  # pylint: disable=global-statement
    VERBOSE = opts.verbose

    with open(DEFAULT_FIXTURE) as handle:
        fixture = json.load(handle)
    fixture.setdefault('durations', {}).update(dict((action, opts.duration) for action in (
        'CreateImage', 'CopyImage', 'ImportImage', 'ExportImage')))
    emu = start_emulator(time_scale=1.0, fixture=fixture)
    try:
        env = dict(os.environ)
        env.update(emu.env())
        env['PYTHONPATH'] = collection_root()
        backend = emu.state.backend
        vars_ = json.loads(subprocess.run(
            [sys.executable, '-m', 'ecs_emulator.testvars', '--admin', emu.admin_url], env=env, check=True,
            stdout=subprocess.PIPE, universal_newlines=True).stdout)
        region = vars_['test_region']
        others = [r for r in admin(emu, 'GET', 'resources')['regions'] if r != region]
        if len(others) < 11:
            raise SystemExit('the fixture needs 11 regions besides %s' % region)
        print('waits benchmark: CreateImage, CopyImage, ImportImage and ExportImage last %.0f s each (emulator, '
              'realism on)' % opts.duration)
        prefix = 'bench%d' % int(time.time())
        waited = []

        def create(n, instance):
            res, _start, printed = run_module('ecs_image', {'name': '%s-img%d' % (prefix, n),
                                                            'instance_id': instance}, env)
            return res['image']['image_id'], printed

        def import_(n):
            res, _start, printed = run_module('ecs_image_import', {
                'name': '%s-imp%d' % (prefix, n), 'oss_bucket': vars_['test_oss_bucket'],
                'oss_object': vars_['test_oss_objects']['raw'], 'format': 'RAW'}, env)
            return res['image_id'], res['task_id'], printed

        jobs = [('create0', lambda: create(0, vars_['test_instance_running'])),
                ('create1', lambda: create(1, vars_['test_instance_stopped']))]
        jobs += [('import%d' % n, (lambda n=n: import_(n))) for n in range(3)]
        first = {}

        def phase_one():
            first.update(parallel(jobs[:2]))

        def copy(image_id, regions, name):
            res, _start, printed = run_module('ecs_image_copy', {
                'image_id': image_id, 'destination_regions': regions, 'name': name}, env)
            return dict((r, i['image_id']) for r, i in res['images'].items()), printed

        def export(image_id, n):
            res, _start, printed = run_module('ecs_image_export', {
                'image_id': image_id, 'oss_bucket': vars_['test_export_bucket'], 'oss_prefix': '%sx%d' % (prefix, n)},
                env)
            return res['task_id'], printed

        def phase_two():
            phase_one()
            img0, img1 = first['create0'][0], first['create1'][0]
            first.update(parallel([
                ('copy1', lambda: copy(img0, others[:1], '%s-copy1' % prefix)),
                ('copy10', lambda: copy(img1, others[1:11], '%s-copy10' % prefix)),
                ('export0', lambda: export(img0, 0)),
                ('export1', lambda: export(img1, 1))]))

        started = time.time()
        results = parallel([('phases', phase_two), ('instances', lambda: instance_jobs(env, vars_, backend, prefix))]
                           + list(jobs[2:]))
        results.update(first)
        wall = time.time() - started
        log = admin(emu, 'GET', 'requests')['requests']

        for n in range(2):
            image_id, printed = results['create%d' % n]
            waited.append(Waited('create', image_id, write_time(log, 'CreateImage', lambda e, n=n: e['params'].get(
                'ImageName') == '%s-img%d' % (prefix, n)), backend.images[image_id].job.end, printed))
        for n in range(3):
            image_id, task_id, printed = results['import%d' % n]
            img = backend.images[image_id]
            ready = max(backend.tasks[task_id].finished_time, img.job.end if img.job else 0)
            waited.append(Waited('import', (image_id, task_id),
                                 write_time(log, 'ImportImage',
                                            lambda e, n=n: e['params'].get('ImageName') == '%s-imp%d' % (prefix, n)),
                                 ready, printed))
        copy_waits = {}
        for label in ('copy1', 'copy10'):
            copies, printed = results[label]
            for dest, image_id in copies.items():
                item = Waited('copy', image_id, write_time(log, 'CopyImage', lambda e, d=dest: e['params'].get(
                    'DestinationRegionId') == d), backend.images[image_id].job.end, printed, dest)
                waited.append(item)
                copy_waits.setdefault(label, []).append(item)
        for n in range(2):
            task_id, printed = results['export%d' % n]
            waited.append(Waited('export', task_id, write_time(log, 'ExportImage', lambda e, n=n: e['params'].get(
                'OSSPrefix') == '%sx%d' % (prefix, n)), backend.tasks[task_id].finished_time, printed))
        waited.extend(instance_waits(log, backend, results['instances']))
        if VERBOSE:
            for iid in results['instances']['launch'][0]['launched']:
                t0 = min(e['time'] for e in log if iid in json.dumps(e.get('params')))
                print(iid, ' '.join('%.2f:%s:%s' % (e['time'] - t0, e['action'], e.get('code') or e.get('status'))
                                    for e in log if iid in json.dumps(e.get('params'))))
        for item in waited:
            if item.write_time is None:
                raise SystemExit('no write found for %s %s' % (item.kind, item.key))
            item.attach(log)
        report(waited, copy_waits, log, wall)
    finally:
        emu.stop()


def report(waited, copy_waits, log, wall):
    print('\n%-8s %-34s %-14s %8s %10s %12s %6s %9s' % ('kind', 'resource', 'region', 'wait s', 'latency s',
                                                        'seen after s', 'polls', 'polls/min'))
    for item in waited:
        key = item.key if not isinstance(item.key, tuple) else '/'.join(item.key)
        print('%-8s %-34s %-14s %8.1f %10.2f %12s %6d %9.2f' % (
            item.kind, key, item.region or '-', item.returned - item.write_time, item.latency,
            '%.2f' % item.seen_after if item.seen_after is not None else '-', len(item.polls), item.rate))
        if VERBOSE:
            print('         polls at %s s after the write; ready at %.2f s' % (
                ', '.join('%.2f' % (t - item.write_time) for t in item.polls), item.ready - item.write_time))
    print()
    single = [w for w in waited if w.kind != 'copy'] + copy_waits.get('copy1', [])
    for kind in ('create', 'copy', 'import', 'export', 'launch', 'stop', 'start', 'replace'):
        items = [w for w in single if w.kind == kind]
        latencies = [w.latency for w in items]
        median = statistics.median(latencies)
        print('detection latency %-7s (ready -> module acted): median %.2f s, max %.2f s over %d   (target '
              'median <= %.0f s: %s)' % (kind, median, max(latencies), len(items), TARGET_LATENCY,
                                         'met' if median <= TARGET_LATENCY else 'NOT met'))
    every = [w.latency for w in single]
    print('detection latency, every wait (ready -> module acted): median %.2f s over %d   (target median <= %.0f s: '
          '%s)' % (statistics.median(every), len(every), TARGET_LATENCY,
                   'met' if statistics.median(every) <= TARGET_LATENCY else 'NOT met'))
    seen = [w.seen_after for w in waited if w.seen_after is not None]
    print('ready -> poll that saw it, every resource (incl. 10-region copy): median %.2f s, max %.2f s over %d'
          % (statistics.median(seen), max(seen), len(seen)))
    ten = copy_waits.get('copy10', [])
    if ten:
        last_ready = max(w.ready for w in ten)
        print('10-region copy: last copy ready -> module returned: %.2f s' % (ten[0].returned - last_ready))
    rates = [w.rate for w in waited]
    print('polls per minute per waited resource: mean %.2f, max %.2f over %d resources   (target <= %.0f: %s)'
          % (statistics.mean(rates), max(rates), len(rates), TARGET_RATE,
             'met' if max(rates) <= TARGET_RATE else 'NOT met (max)' if statistics.mean(rates) <= TARGET_RATE
             else 'NOT met'))
    if ten:
        ids = set(w.key for w in ten)
        start = min(w.write_time for w in ten)
        end = ten[0].returned
        polls = [e for e in log if e.get('action') == 'DescribeImages'
                 and (e.get('params') or {}).get('ImageId') in ids and start <= e['time'] <= end]
        total = len(polls) / ((end - start) / 60.0)
        print('10-region copy: %d polls in %.1f s = %.1f polls/min in all   (target <= %.0f: %s)'
              % (len(polls), end - start, total, TARGET_TOTAL, 'met' if total <= TARGET_TOTAL else 'NOT met'))
    print('wall time of the benchmark: %.0f s' % wall)
    transition_sensitivity()


def transition_sensitivity():
    """The emulator's instance transitions last exactly their typical durations; the real cloud's vary. The same
    engine on a simulated clock: how late a transition is noticed when it takes 0.25x to 3x the typical time."""
    sys.path.insert(0, collection_root())
    from ansible_collections.alicloud.ecs_images.plugins.module_utils.instances import TRANSITION_SECONDS
    from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import poll_times
    factors = (0.25, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0)
    print('\ninstance transitions lasting a multiple of their typical duration (engine on a simulated clock): '
          'latency s / polls per minute')
    print('%-11s %8s  %s' % ('transition', 'typical', '  '.join('%11s' % ('x%g' % f) for f in factors)))
    for kind in ('force_stop', 'stop', 'start', 'launch', 'replace'):
        typical = TRANSITION_SECONDS[kind]
        cells = []
        for factor in factors:
            times = poll_times(typical * factor, expected=typical)
            cells.append('%5.1f / %4.1f' % (times[-1] - typical * factor, len(times) * 60.0 / times[-1]))
        print('%-11s %7.0fs  %s' % (kind, typical, '  '.join(cells)))


if __name__ == '__main__':
    main()
