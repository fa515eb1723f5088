"""Start and drive the ECS emulator (tests/emulator) from test tooling.

Used by tests/integration/run.py and tests/benchmarks/*.py. The emulator runs as a child
process (`python -m ecs_emulator`, the `ecs-emulator` CLI) so that every test run talks to
it over real HTTP exactly like a user's playbook would; its `export` lines give the
endpoints and credentials.
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REALISM_OFF_FILE = Path(__file__).resolve().parent / 'realism_off.txt'

PROXY_VARS = ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY')


def collections_path(root: Path, given: str | None = None) -> str:
    """A directory holding ansible_collections/alicloud/ecs_images for the tree at root.

    root already inside .../ansible_collections/<ns>/<name> (the copy made by `make collection`):
    its ansible_collections parent. A development tree: a symlink farm in the temp directory
    (a symlink inside the tree would make tree walkers loop).
    """
    if given:
        return given
    root = Path(root).resolve()
    if root.parent.parent.name == 'ansible_collections':
        return str(root.parent.parent.parent)
    key = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    base = Path(tempfile.gettempdir()) / ('ecs_images-collections-%s' % key)
    link = base / 'ansible_collections' / 'alicloud' / 'ecs_images'
    link.parent.mkdir(parents=True, exist_ok=True)
    if not (link.is_symlink() and os.readlink(link) == str(root)):
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(root, target_is_directory=True)
    return str(base)


class EmulatorError(Exception):
    """The emulator could not be started or did not answer."""


def without_proxies(env: dict | None = None) -> dict:
    """A copy of env (default os.environ) without the proxy variables.

    Both Alibaba Cloud SDKs send 127.0.0.1 traffic through HTTP(S)_PROXY even when NO_PROXY lists it.
    """
    env = dict(os.environ if env is None else env)
    for name in PROXY_VARS:
        env.pop(name, None)
    return env


def playbook_env(collections: str, emulator_env: dict | None = None, keep_proxies: bool = False, **extra) -> dict:
    """Environment of an ansible-playbook run against the emulator: no proxies, the emulator's export lines, this
    collection tree only, no colour or start-up warnings, no ANSIBLE_CONFIG from the caller; ``extra`` last.

    keep_proxies: keep the caller's proxy variables (a run against the real cloud, which may need them)."""
    env = dict(os.environ) if keep_proxies else without_proxies()
    env.update(emulator_env or {})
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections,
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
    })
    env.pop('ANSIBLE_CONFIG', None)
    env.update(extra)
    return env


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(method: str, url: str, body=None, timeout: float = 30.0):
    """Send a JSON request to the emulator's admin API (never through a proxy) and decode the answer."""
    data = None if body is None else json.dumps(body).encode('utf-8')
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={'Content-Type': 'application/json'} if data is not None else {})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise EmulatorError('%s %s failed: %s' % (method, url, exc)) from exc
    if not raw.strip():
        return None
    return json.loads(raw.decode('utf-8'))


def parse_exports(lines) -> dict:
    """{'NAME': 'value'} from the emulator's `export NAME=value` lines."""
    env = {}
    for line in lines:
        line = line.strip()
        if line.startswith('export ') and '=' in line:
            name, value = line[len('export '):].split('=', 1)
            env[name.strip()] = value.strip().strip('"').strip("'")
    return env


def realism_off_names(path: str | Path | None = None) -> list:
    """The realism behaviours listed in tests/integration/realism_off.txt (one name a line, `#` comments):
    those the modules do not survive yet, switched off in every emulator the test tooling starts."""
    path = Path(path) if path else REALISM_OFF_FILE
    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        return []
    names = []
    for line in text.splitlines():
        name = line.split('#', 1)[0].strip()
        if name and name not in names:
            names.append(name)
    return names


class Emulator:
    """An `ecs-emulator` child process.

    >>> with Emulator(time_scale=0.01) as emu:
    ...     emu.env['ALIBABA_CLOUD_ECS_ENDPOINT'], emu.admin_url, emu.test_vars()
    """

    def __init__(self, python: str = sys.executable, time_scale: float = 0.01, seed: int = 0,
                 faults: str | None = None, fixture: str | None = None, log_path: str | None = None,
                 start_timeout: float = 60.0, realism_off: list | None = None):
        self.python = python
        # realism behaviours switched off: tests/integration/realism_off.txt unless given
        self.realism_off = realism_off_names() if realism_off is None else list(realism_off)
        self.time_scale = time_scale
        self.seed = seed
        self.faults = faults
        self.fixture = fixture
        self.log_path = log_path
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.env: dict = {}
        self._log = None
        self._lines: queue.Queue = queue.Queue()
        self._reader: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> 'Emulator':
        cmd = [self.python, '-m', 'ecs_emulator', '--time-scale', str(self.time_scale), '--seed', str(self.seed)]
        if self.faults:
            cmd += ['--faults', self.faults]
        cmd += ['--realism-off', ','.join(self.realism_off)]
        if self.fixture:
            cmd += ['--fixture', self.fixture]
        if self.log_path:
            os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
            self._log = open(self.log_path, 'a', encoding='utf-8')  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._log if self._log else subprocess.DEVNULL,
            env=without_proxies(), text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout
        lines = []
        while 'ECS_EMULATOR_ADMIN' not in parse_exports(lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise EmulatorError('emulator did not print its export lines within %ds (%s)'
                                    % (self.start_timeout, ' '.join(cmd)))
            try:
                line = self._lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise EmulatorError('emulator exited with status %s before it was ready (%s); log: %s'
                                        % (self.proc.returncode, ' '.join(cmd), self.log_path or 'none'))
                continue
            if line is None:
                continue
            lines.append(line)
        self.env = parse_exports(lines)
        return self

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
            if self._log:
                self._log.write(line)
                self._log.flush()
        self._lines.put(None)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self) -> 'Emulator':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- admin API
    @property
    def admin_url(self) -> str:
        return self.env['ECS_EMULATOR_ADMIN'].rstrip('/')

    def admin(self, method: str, path: str, body=None):
        return http_json(method, '%s/%s' % (self.admin_url, path.lstrip('/')), body)

    def reset(self) -> None:
        self.admin('POST', 'reset')

    def set_faults(self, spec: str | None) -> None:
        if spec:
            self.admin('PUT', 'faults', {'spec': spec})
        else:
            self.admin('DELETE', 'faults')

    def requests(self, since: int = 0) -> list:
        answer = self.admin('GET', 'requests?since=%d' % since) or {}
        return answer.get('requests', []) if isinstance(answer, dict) else answer

    def clear_requests(self) -> None:
        self.admin('DELETE', 'requests')

    def test_vars(self) -> dict:
        """The integration-target variables (python -m ecs_emulator.testvars --admin URL)."""
        result = subprocess.run([self.python, '-m', 'ecs_emulator.testvars', '--admin', self.admin_url],
                                env=without_proxies(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=120, check=False)
        if result.returncode != 0:
            raise EmulatorError('python -m ecs_emulator.testvars failed (status %d): %s'
                                % (result.returncode, (result.stderr or result.stdout).strip()[-2000:]))
        try:
            return json.loads(result.stdout)
        except ValueError as exc:
            raise EmulatorError('python -m ecs_emulator.testvars printed no JSON: %r' % result.stdout[:500]) from exc
