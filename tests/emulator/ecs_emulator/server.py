"""The emulator as a whole: the ECS/STS/admin listener and the OSS listener around one shared state, served in
background threads. Python API: ``emu = start_emulator(time_scale=0.01, faults=None, fixture=None, seed=0)``.

Layout (like moto): ``backend/`` holds the resource models and state machines; the protocol side is
``httpd`` (HTTP plumbing), ``rpc`` (request parsing), ``auth`` (keys, signatures, nonces), ``dispatch`` (faults,
STS or ECS, ClientToken replay), ``ecs_http`` (the RPC listener), ``admin`` (admin API route table),
``oss_server`` (OSS protocol), ``state`` (what the listeners share), ``requestlog``, ``idempotency``.
"""
import threading

from .ecs_http import EcsHandler
from .httpd import ThreadedServer
from .oss_server import make_oss_server
from .requestlog import mask_access_key, mask_params  # noqa: F401 - public helpers, kept importable from here
from .state import DEFAULT_FIXTURE, EmulatorState, load_fixture  # noqa: F401 - idem

__all__ = ["Emulator", "start_emulator", "load_fixture", "mask_params", "EmulatorState"]


class Emulator:
    """A running emulator (ECS/STS/admin on one port, OSS on another), serving in background threads."""

    def __init__(self, host="127.0.0.1", port=0, oss_port=0, time_scale=1.0, fixture=None, seed=0, faults=None,
                 realism_off=None):
        self.state = EmulatorState(fixture=fixture, time_scale=time_scale, seed=seed, faults=faults,
                                   realism_off=realism_off)
        self.host = host
        self._ecs = ThreadedServer((host, port), EcsHandler)
        self._ecs.state = self.state
        self._ecs.emulator_info = self.info
        self.port = self._ecs.server_address[1]
        self._oss = make_oss_server(host, oss_port, self.state)
        self.oss_port = self._oss.server_address[1]
        self._threads = []

    def start(self):
        for srv, name in ((self._ecs, "ecs"), (self._oss, "oss")):
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                                 name="ecs-emulator-" + name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        for srv in (self._ecs, self._oss):
            srv.shutdown()
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- accessors
    @property
    def ecs_endpoint(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def oss_endpoint(self):
        return "http://%s:%d" % (self.host, self.oss_port) if self.oss_port else None

    @property
    def admin_url(self):
        return self.ecs_endpoint + "/_emulator"

    @property
    def accounts(self):
        return [{"account_id": a["account_id"], "name": a.get("name"), "access_key_id": a["access_key_id"],
                 "access_key_secret": a["access_key_secret"], "roles": list(a.get("roles", []))}
                for a in self.state.accounts]

    @property
    def backend(self):
        return self.state.backend

    @property
    def oss(self):
        return self.state.oss

    def env(self):
        acc = self.state.accounts[0]
        env = {"ALIBABA_CLOUD_ECS_ENDPOINT": self.ecs_endpoint, "ALIBABA_CLOUD_STS_ENDPOINT": self.ecs_endpoint}
        if self.oss_endpoint:
            env["ALIBABA_CLOUD_OSS_ENDPOINT"] = self.oss_endpoint
        env.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": acc["access_key_id"],
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": acc["access_key_secret"],
                    "ALIBABA_CLOUD_REGION_ID": self.state.default_region(),
                    "ECS_EMULATOR_ADMIN": self.admin_url})
        return env

    def info(self):
        return {"ecs_endpoint": self.ecs_endpoint, "oss_endpoint": self.oss_endpoint, "admin_url": self.admin_url,
                "time_scale": self.state.clock.time_scale, "seed": self.state.seed,
                "realism": self.state.realism.as_dict(),
                "backend": self.state.backend is not None}


def start_emulator(time_scale=0.01, faults=None, fixture=None, seed=0, host="127.0.0.1", port=0, oss_port=0,
                   realism_off=None):
    """Start an emulator in background threads and return it (see :class:`Emulator`). ``realism_off``: realism
    behaviours to switch off (list, comma string or ``"all"``; see ``ecs_emulator.realism``)."""
    return Emulator(host=host, port=port, oss_port=oss_port, time_scale=time_scale, fixture=fixture, seed=seed,
                    faults=faults, realism_off=realism_off).start()
