"""The emulator as a whole: the ECS/STS/admin listener and the OSS listener around one shared state, served in
background threads. Python API: ``emu = start_emulator(time_scale=0.01, faults=None, fixture=None, seed=0)``.

Layout (like moto): ``backend/`` holds the resource models and state machines; the protocol side is
``httpd`` (HTTP plumbing), ``rpc`` (request parsing), ``auth`` (keys, signatures, nonces), ``dispatch`` (faults,
STS or ECS, ClientToken replay), ``ecs_http`` (the RPC listener), ``admin`` (admin API route table),
``oss_server`` (OSS protocol), ``state`` (what the listeners share), ``requestlog``, ``idempotency``.
"""
import selectors
import threading

from .ecs_http import EcsHandler
from .httpd import ThreadedServer
from .oss_server import make_oss_server
from .requestlog import mask_access_key, mask_params  # noqa: F401 - public helpers, kept importable from here
from .state import DEFAULT_FIXTURE, EmulatorState, load_fixture  # noqa: F401 - idem

__all__ = ["Emulator", "start_emulator", "load_fixture", "mask_params", "mask_access_key", "EmulatorState",
           "DEFAULT_FIXTURE"]


class Emulator:
    """A running emulator (ECS/STS/admin on one port, OSS on another), serving in background threads."""

    def __init__(self, host="127.0.0.1", port=0, oss_port=0, time_scale=1.0, fixture=None, seed=0, faults=None,
                 realism_off=None, strict=True):
        self.state = EmulatorState(fixture=fixture, time_scale=time_scale, seed=seed, faults=faults,
                                   realism_off=realism_off, strict=strict)
        self.host = host
        self._ecs = ThreadedServer((host, port), EcsHandler)
        self._ecs.state = self.state
        self._ecs.emulator_info = self.info
        self.port = self._ecs.server_address[1]
        # OSS: the main port is the endpoint of the fixture's first region; one more port per region (realism
        # oss_region_endpoints: a bucket is reached only through its own region's endpoint), all served by one thread
        default_region = self.state.default_region()
        self._oss = make_oss_server(host, oss_port, self.state, region=default_region)
        self.oss_port = self._oss.server_address[1]
        self._oss_regions = {default_region: self._oss}
        for reg in self.state.fixture.get("regions") or []:
            if reg["region_id"] not in self._oss_regions:
                self._oss_regions[reg["region_id"]] = make_oss_server(host, 0, self.state, region=reg["region_id"])
        self._oss_stop = threading.Event()
        self._threads = []

    def start(self):
        for target, kwargs, name in ((self._ecs.serve_forever, {"poll_interval": 0.2}, "ecs"),
                                     (self._serve_oss, {}, "oss")):
            t = threading.Thread(target=target, kwargs=kwargs, name="ecs-emulator-" + name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _serve_oss(self):
        """One thread accepting on every OSS port (each request is then handled in its own thread)."""
        with selectors.DefaultSelector() as sel:
            for srv in self._oss_regions.values():
                sel.register(srv, selectors.EVENT_READ, srv)
            while not self._oss_stop.is_set():
                for key, _events in sel.select(0.2):
                    key.data._handle_request_noblock()   # pylint: disable=protected-access

    def stop(self):
        self._ecs.shutdown()
        self._oss_stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self._ecs.server_close()
        for srv in self._oss_regions.values():
            srv.server_close()
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
    def oss_endpoints(self):
        """Region -> OSS endpoint (the region's own port; the default region's is ``oss_endpoint``)."""
        return {r: "http://%s:%d" % (self.host, srv.server_address[1]) for r, srv in self._oss_regions.items()}

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
                "realism": self.state.realism.as_dict(), "oss_endpoints": self.oss_endpoints,
                "backend": self.state.backend is not None, "strict": self.state.strict}


def start_emulator(time_scale=0.01, faults=None, fixture=None, seed=0, host="127.0.0.1", port=0, oss_port=0,
                   realism_off=None, strict=True):
    """Start an emulator in background threads and return it (see :class:`Emulator`). ``realism_off``: realism
    behaviours to switch off (list, comma string or ``"all"``; see ``ecs_emulator.realism``). ``strict``: refuse
    parameters and enumerated values the real API does not take (see ``api_spec``)."""
    return Emulator(host=host, port=port, oss_port=oss_port, time_scale=time_scale, fixture=fixture, seed=seed,
                    faults=faults, realism_off=realism_off, strict=strict).start()
