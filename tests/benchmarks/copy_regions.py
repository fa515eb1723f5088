#!/usr/bin/env python
"""Benchmark of alicloud.ecs_images.ecs_image_copy against the local emulator (prints figures, not a test).

Measures, with a copy that takes about --copy-seconds of real time (the emulator's time scale is set so that a
CopyImage of 300 simulated seconds lasts that long):

* the wall time of copying one image to 1 region and to 10 regions in one module run (target: 10 regions
  within 1.3x of 1 region);
* the API calls the module sent, in total and per destination region (from the emulator's request log);
* the polling: interval between two polls of the same copy (target: never under 2 s);
* the time from the last copy becoming Available (CopyImage request time + queue + copy duration, computed
  from the emulator's request log and time scale) to the module returning (target: median under 1 s).

The module runs as a separate process (python plugins/modules/ecs_image_copy.py ARGS.json), exactly as
Ansible runs it, minus the controller overhead.

    .venv/bin/python tests/benchmarks/copy_regions.py [--copy-seconds 20] [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import time

from benchlib import module_env, run_module

COPY_SIM_SECONDS = 300.0     # emulator's default CopyImage duration (simulated seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--copy-seconds', type=float, default=20.0, help='real duration of one copy (default 20)')
    ap.add_argument('--repeat', type=int, default=2, help='runs of each case (default 2)')
    opts = ap.parse_args()

    from ecs_emulator.server import start_emulator
    from ecs_emulator.testing import acs_client, admin, call

    emu = start_emulator(time_scale=0.001)
    try:
        env = module_env(emu)
        source_region = env['ALIBABA_CLOUD_REGION_ID']
        resources = admin(emu, 'GET', 'resources')
        regions = [r for r in resources['regions'] if r != source_region]
        if len(regions) < 11:
            raise SystemExit('the fixture needs 11 regions besides %s, it has %d' % (source_region, len(regions)))
        primary = resources['accounts'][emu.accounts[0]['account_id']]
        stopped = [i['InstanceId'] for i in primary['regions'][source_region]['instances'] if i['Status'] == 'Stopped']
        client = acs_client(emu)
        image_id = call(client, 'CreateImage', RegionId=source_region, InstanceId=stopped[0],
                        ImageName='bench-copy-source')['ImageId']
        deadline = time.time() + 60
        while time.time() < deadline:
            images = call(client, 'DescribeImages', RegionId=source_region, ImageId=image_id,
                          Status='Creating,Available')['Images']['Image']
            if images and images[0]['Status'] == 'Available':
                break
            time.sleep(0.2)
        scale = opts.copy_seconds / COPY_SIM_SECONDS
        admin(emu, 'PUT', 'config', {'time_scale': scale})
        print('ecs_image_copy benchmark: one copy lasts %.1f s (time scale %.4f), %d run(s) per case'
              % (opts.copy_seconds, scale, opts.repeat))

        cases = []
        region_sets = {1: [regions[0]], 10: regions[1:11]}
        for run in range(opts.repeat):
            for count in (1, 10):
                dest = region_sets[count]
                admin(emu, 'DELETE', 'requests')
                name = 'bench-copy-%d-%d' % (count, run)
                done = run_module('ecs_image_copy', {
                    'image_id': image_id, 'destination_regions': dest, 'name': name, 'wait_timeout': 600}, env)
                log = admin(emu, 'GET', 'requests')['requests']
                cases.append(analyse(count, dest, done, log, scale))
        report(cases, opts.copy_seconds)
    finally:
        emu.stop()


def analyse(count, dest, run, log, scale):
    """Figures of one module run (benchlib.ModuleRun) from the emulator's request log."""
    result, started, ended = run.result, run.started, run.ended
    copies = {}
    for entry in log:
        if entry['action'] == 'CopyImage' and entry.get('status') == 200:
            copies[entry['params']['DestinationRegionId']] = entry['time']
    ids = dict((region, image['image_id']) for region, image in result['images'].items())
    # copies to distinct regions do not queue: Available at CopyImage time + duration
    available = dict((region, copies[region] + COPY_SIM_SECONDS * scale) for region in dest)
    calls_per_region = {}
    polls = {}
    for entry in log:
        params = entry.get('params') or {}
        region = params.get('DestinationRegionId') if entry['action'] == 'CopyImage' else entry.get('region_id')
        calls_per_region[region] = calls_per_region.get(region, 0) + 1
        if entry['action'] == 'DescribeImages' and params.get('ImageId') in ids.values():
            polls.setdefault(params['ImageId'], []).append(entry['time'])
    intervals = []
    detect = []
    last_poll = max(t for times in polls.values() for t in times) if polls else None
    for region in dest:
        times = sorted(polls.get(ids[region], []))
        intervals += [b - a for a, b in zip(times[1:], times[2:])]   # skip the read right after CopyImage
        seen = [t for t in times if t >= available[region]]
        if seen:
            detect.append(seen[0] - available[region])
    return {
        'regions': count, 'wall': ended - started, 'calls': len(log),
        'per_region': [calls_per_region.get(r, 0) for r in dest],
        'other_calls': sum(v for k, v in calls_per_region.items() if k not in dest),
        'latency': ended - max(available.values()),
        'latency_result': run.printed - max(available.values()),
        'after_last_poll': ended - last_poll if last_poll else None,
        'detect': detect, 'min_interval': min(intervals) if intervals else None,
        'median_interval': statistics.median(intervals) if intervals else None,
        'changed': result['changed'], 'copied': len(result['copied_regions']),
    }


def report(cases, copy_seconds):
    print()
    print('%-8s %-4s %8s %6s %14s %11s %14s %12s %12s' % ('regions', 'run', 'wall s', 'calls', 'calls/region',
                                                          'other calls', 'latency s', 'min poll s', 'median poll'))
    for idx, c in enumerate(cases):
        print('%-8d %-4d %8.2f %6d %14s %11d %14.3f %12s %12s' % (
            c['regions'], idx // 2, c['wall'], c['calls'],
            '%d-%d' % (min(c['per_region']), max(c['per_region'])), c['other_calls'], c['latency'],
            '%.2f' % c['min_interval'] if c['min_interval'] is not None else '-',
            '%.2f' % c['median_interval'] if c['median_interval'] is not None else '-'))
    one = [c['wall'] for c in cases if c['regions'] == 1]
    ten = [c['wall'] for c in cases if c['regions'] == 10]
    latencies = [c['latency'] for c in cases]
    detects = [d for c in cases for d in c['detect']]
    intervals = [c['min_interval'] for c in cases if c['min_interval'] is not None]
    print()
    print('copy duration                         : %.1f s' % copy_seconds)
    print('wall time, 1 region  (median)         : %.2f s' % statistics.median(one))
    print('wall time, 10 regions (median)        : %.2f s' % statistics.median(ten))
    ratio = statistics.median(ten) / statistics.median(one)
    print('ratio 10 / 1                          : %.2f   (target <= 1.30: %s)' % (ratio, 'met' if ratio <= 1.3
                                                                                   else 'NOT met'))
    print('API calls per destination region      : %s' % ', '.join(
        '%d regions: %s' % (c['regions'], statistics.median(c['per_region'])) for c in cases[:2]))
    print('last copy Available -> module returned: median %.3f s, max %.3f s   (target median < 1 s: %s)'
          % (statistics.median(latencies), max(latencies), 'met' if statistics.median(latencies) < 1 else 'NOT met'))
    results = [c['latency_result'] for c in cases]
    print('last copy Available -> result printed : median %.3f s, max %.3f s   (before interpreter shutdown)'
          % (statistics.median(results), max(results)))
    if detects:
        print('copy Available -> first poll seeing it: median %.3f s, max %.3f s over %d copies'
              % (statistics.median(detects), max(detects), len(detects)))
    tails = [c['after_last_poll'] for c in cases if c['after_last_poll'] is not None]
    if tails:
        print('last poll -> module returned          : median %.3f s (result building, process exit)'
              % statistics.median(tails))
    if intervals:
        print('shortest interval between two polls   : %.2f s   (target >= 2 s: %s)'
              % (min(intervals), 'met' if min(intervals) >= 1.99 else 'NOT met'))
    bad = [c for c in cases if not c['changed'] or c['copied'] != c['regions']]
    if bad:
        print('WARNING: %d run(s) did not copy every region' % len(bad))


if __name__ == '__main__':
    main()
