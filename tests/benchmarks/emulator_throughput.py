#!/usr/bin/env python
"""Throughput of the emulator for DescribeImages on a region holding 10,000 custom images.

Starts the emulator in a separate process (``python -m ecs_emulator``) with the default fixture plus a
``generated_images`` section (10,000 images of the primary account in the first region), then sends
DescribeImages (PageSize 100, random pages, ImageOwnerAlias=self) from several threads through aliyunsdkcore
over HTTP, and prints requests/s and latency percentiles. Every answer is checked (TotalCount, page size).
The client (the SDK parsing 100-image answers) shares the machine, so on a small or busy machine requests/s
measure the client as much as the emulator: the emulator process's CPU time per request (Linux) and the
server-side time from the request log (until the answer starts to go out) are the emulator's own figures.

    .venv/bin/python tests/benchmarks/emulator_throughput.py [--images 10000] [--requests 2000] [--threads 8]
                                                            [--in-process]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

import benchlib  # noqa: F401  removes the proxy variables; pylint: disable=unused-import
from ecs_emulator import testing
from ecs_emulator.server import load_fixture


class _Remote:
    """Just enough of ``Emulator`` for ecs_emulator.testing, for an emulator running in another process."""

    def __init__(self, env, accounts):
        self._env = env
        self.ecs_endpoint = env["ALIBABA_CLOUD_ECS_ENDPOINT"]
        self.admin_url = env["ECS_EMULATOR_ADMIN"]
        self.accounts = accounts

    def env(self):
        return self._env


def start_subprocess(fixture_path):
    proc = subprocess.Popen([sys.executable, "-m", "ecs_emulator", "--fixture", fixture_path, "--time-scale", "0.001"],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    env = {}
    while len(env) < 7:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("emulator exited early (code %s)" % proc.wait())
        k, v = line.strip()[len("export "):].split("=", 1)
        env[k] = v
    accounts = testing.admin(env["ECS_EMULATOR_ADMIN"], "GET", "accounts")
    return proc, _Remote(env, accounts)


def process_cpu_seconds(pid):
    """utime + stime of a process (Linux /proc), or None: the server's own cost, whatever the machine's load."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_phase(emu, fn, n_requests, n_threads):
    """Run ``fn(client, rng)`` n_requests times over n_threads threads; returns (latencies, errors, wall)."""
    latencies, errors = [], []
    lock = threading.Lock()
    counter = iter(range(n_requests))

    def worker(seed):
        rng = random.Random(seed)
        client = testing.acs_client(emu)
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            t = time.perf_counter()
            try:
                fn(client, rng)
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    t_start = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, errors, time.perf_counter() - t_start


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=2000, help="total DescribeImages calls (bounded run)")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--in-process", action="store_true", help="run the emulator in this process (shares the GIL)")
    args = ap.parse_args(argv)

    fixture = load_fixture(None)
    primary = fixture["accounts"][0]
    region = fixture["regions"][0]["region_id"]
    fixture.setdefault("generated_images", []).append(
        {"account": primary.get("name") or primary["account_id"], "region": region, "count": args.images,
         "name_prefix": "bench"})
    t0 = time.time()
    proc = None
    if args.in_process:
        from ecs_emulator.server import start_emulator
        emu = start_emulator(time_scale=0.001, fixture=fixture)
    else:
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(fixture, fh)
        proc, emu = start_subprocess(path)
        os.unlink(path)
    startup = time.time() - t0
    try:
        probe = testing.call(testing.acs_client(emu), "DescribeImages", RegionId=region, ImageOwnerAlias="self",
                             PageSize=100)
        total = probe["TotalCount"]
        if total < args.images:
            raise SystemExit("expected >= %d images, the emulator reports %d" % (args.images, total))
        pages = (total + 99) // 100
        testing.admin(emu.admin_url, "DELETE", "requests")

        ids = [img["ImageId"] for img in probe["Images"]["Image"]]

        def page_call(client, rng):
            page = rng.randint(1, pages)
            out = testing.call(client, "DescribeImages", RegionId=region, ImageOwnerAlias="self", PageSize=100,
                               PageNumber=page)
            expected = min(100, total - (page - 1) * 100)
            if out["TotalCount"] != total or len(out["Images"]["Image"]) != expected:
                raise AssertionError("page %d: %d images, TotalCount %s" % (
                    page, len(out["Images"]["Image"]), out["TotalCount"]))

        def id_call(client, rng):
            image_id = rng.choice(ids)
            out = testing.call(client, "DescribeImages", RegionId=region, ImageId=image_id)
            if [i["ImageId"] for i in out["Images"]["Image"]] != [image_id]:
                raise AssertionError("lookup of %s returned %s" % (image_id, out["Images"]["Image"]))

        results = {}
        logged = 0
        for name, fn, n in (("PageSize=100 random page", page_call, args.requests),
                            ("ImageId lookup (what waiters poll)", id_call, args.requests)):
            testing.admin(emu.admin_url, "DELETE", "requests")
            cpu0 = process_cpu_seconds(proc.pid if proc is not None else os.getpid())
            lat, errors, wall = run_phase(emu, fn, n, args.threads)
            cpu1 = process_cpu_seconds(proc.pid if proc is not None else os.getpid())
            entries = testing.admin(emu.admin_url, "GET", "requests")["requests"]
            logged += len(entries)
            server = sorted(e["duration_ms"] for e in entries if e["action"] == "DescribeImages")
            cpu_ms = (cpu1 - cpu0) * 1000.0 / n if cpu0 is not None and cpu1 is not None and proc is not None \
                else None
            results[name] = (lat, errors, wall, server, cpu_ms)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        else:
            emu.stop()

    print("emulator DescribeImages throughput (%s; %d threads; aliyunsdkcore over HTTP)" % (
        "in-process" if args.in_process else "separate process", args.threads))
    print("  images in region %s: %d (startup incl. fixture load %.2f s); requests logged: %d" % (
        region, total, startup, logged))
    failed = False
    for name, (lat, errors, wall, server, cpu_ms) in results.items():
        lat = sorted(lat)

        def pct(p):
            return lat[min(len(lat) - 1, int(round(p / 100.0 * (len(lat) - 1))))] * 1000 if lat else float("nan")

        print("  %s: %d ok, %d errors, %.2f s, %.1f req/s, latency ms p50 %.1f p95 %.1f max %.1f" % (
            name, len(lat), len(errors), wall, len(lat) / wall if wall else 0, pct(50), pct(95),
            lat[-1] * 1000 if lat else float("nan")))
        if server:
            print("    server-side time per request (request log) ms: p50 %.1f p95 %.1f" % (
                server[len(server) // 2], server[min(len(server) - 1, int(0.95 * len(server)))]))
        if cpu_ms is not None:
            print("    emulator process CPU per request (HTTP, signature, backend, JSON): %.2f ms" % cpu_ms)
        if errors:
            print("    first errors: %s" % errors[:3])
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
