"""``ecs-emulator`` command: serve the emulator until SIGINT/SIGTERM, print ``export`` lines once listening."""
import argparse
import logging
import signal
import sys
import threading

from .faults import FaultSpecError, parse_spec
from .realism import RealismError, parse_names


def build_parser():
    p = argparse.ArgumentParser(prog="ecs-emulator",
                                description="Local emulator of the Alibaba Cloud ECS image API, STS and OSS.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="ECS/STS/admin port (0 = pick a free port)")
    p.add_argument("--oss-port", type=int, default=0, help="OSS port (0 = pick a free port)")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="multiply every simulated duration by this (0.01: a 60 s creation takes 0.6 s)")
    p.add_argument("--fixture", default=None, help="fixture JSON file (default: the bundled default fixture)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fault RNG and generated ids")
    p.add_argument("--faults", default=None, help="fault SPEC, e.g. 'CreateImage=lost*1;DescribeImages=throttling*2'")
    p.add_argument("--realism-off", default=None, metavar="NAMES",
                   help="realism behaviours to switch off: a comma list of names, or 'all' (see README, Realism)")
    p.add_argument("--no-strict", dest="strict", action="store_false",
                   help="accept parameter names and enumerated values the real API does not (default: refuse them)")
    p.add_argument("--log-level", default="WARNING", help="Python logging level for the emulator's own log")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.WARNING), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.time_scale < 0:
        print("ecs-emulator: --time-scale must be >= 0", file=sys.stderr)
        return 2
    try:
        parse_spec(args.faults)
    except FaultSpecError as exc:
        print("ecs-emulator: --faults: %s" % exc, file=sys.stderr)
        return 2
    try:
        parse_names(args.realism_off)
    except RealismError as exc:
        print("ecs-emulator: --realism-off: %s" % exc, file=sys.stderr)
        return 2
    from .server import start_emulator
    try:
        emu = start_emulator(time_scale=args.time_scale, faults=args.faults, fixture=args.fixture, seed=args.seed,
                             host=args.host, port=args.port, oss_port=args.oss_port,
                             realism_off=args.realism_off, strict=args.strict)
    except Exception as exc:  # noqa: BLE001 - bad fixture, port in use ...: one line, no traceback
        print("ecs-emulator: cannot start: %s: %s" % (type(exc).__name__, exc), file=sys.stderr)
        return 1
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    for k, v in emu.env().items():
        print("export %s=%s" % (k, v))
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
