"""HTTP plumbing shared by the emulator's two listeners (ECS/STS/admin and OSS): a threading server, a request
handler base that never prints tracebacks or HTML, body reading, and the request-log hook (an entry is recorded
before the first byte of its answer). Knows nothing of RPC, OSS or the backend."""
import email.utils
import json
import logging
import socket
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("ecs_emulator")

DEFAULT_HOST_ID = "ecs.aliyuncs.com"
MAX_BODY = 16 * 1024 * 1024
JSON_CT = "application/json;charset=utf-8"


def new_request_id():
    return str(uuid.uuid4()).upper()


class Dropped(Exception):
    """Fault ``drop``: close the connection without an answer."""


class ThreadedServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):   # never print tracebacks of dropped clients
        log.debug("connection error from %s: %s", client_address, traceback.format_exc())


class BaseHandler(BaseHTTPRequestHandler):
    """Subclasses implement ``dispatch_request()``; ``self.server.state`` is the shared EmulatorState."""

    protocol_version = "HTTP/1.1"
    server_version = "AliyunEmulator/1.0"
    sys_version = ""
    error_content_type = JSON_CT
    disable_nagle_algorithm = True      # headers and body are separate writes: avoid the 40 ms delayed-ACK stall
    timeout = 120                       # an idle or stalled client frees its thread after 2 minutes

    _log_entry = None                   # request-log entry of the request being served, until it is recorded

    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):     # quiet; use logging at debug level
        log.debug("%s - %s", self.address_string(), fmt % args)

    # -- request log: an entry is recorded BEFORE the first byte of its response is written, so a client that has
    #    its answer always finds the request in the log (tests count calls through GET /_emulator/requests).
    def begin_log(self, entry):
        """Start the log entry of this request (``entry["time"]`` = start time)."""
        self._log_entry = entry
        self._log_generation = self.server.state.log.generation

    def commit_log(self, status=None):
        """Record the pending entry once: called by ``send_response`` (status = the HTTP status unless the entry
        already has one) and, for requests that get no answer (fault ``drop``), when the request ends."""
        entry, self._log_entry = self._log_entry, None
        if entry is None:
            return
        if entry.get("status") is None and status is not None:
            entry["status"] = status
        entry["duration_ms"] = round((time.time() - entry["time"]) * 1000, 3)
        self.server.state.log.add(entry, self._log_generation)

    def send_response(self, code, message=None):
        self.commit_log(code)
        super().send_response(code, message)

    def handle_one_request(self):
        """Like the stdlib one, but every method goes to ``self.dispatch_request`` and nothing escapes."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = ""
                self.request_version = ""
                self.command = ""
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.dispatch_request()
            self.wfile.flush()
        except (socket.timeout, TimeoutError) as exc:
            self.log_error("Request timed out: %r", exc)
            self.close_connection = True
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True
        except Dropped:
            self._drop()

    def dispatch_request(self):   # pragma: no cover - abstract
        raise NotImplementedError

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send_error(self, code, message=None, explain=None):
        """Malformed HTTP (bad request line, too long headers ...) -> JSON error, not the stdlib HTML page."""
        try:
            short, _long = self.responses.get(code, ("Error", ""))
        except Exception:   # pragma: no cover
            short = "Error"
        body = {"RequestId": new_request_id(), "HostId": DEFAULT_HOST_ID,
                "Code": "BadRequest" if code < 500 else "InternalError", "Message": message or short}
        data = json.dumps(body).encode("utf-8")
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.0"     # always answer with a status line and headers
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", JSON_CT)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", "") != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(data)
        except OSError:
            pass

    # -- body
    def read_body(self, limit=MAX_BODY):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ValueError("truncated chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > limit:
                    raise OverflowError()
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0:
            raise ValueError("negative Content-Length")
        if n > limit:
            raise OverflowError()
        return self.rfile.read(n)

    def send_bytes(self, status, data, content_type=JSON_CT, headers=None, head_only=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head_only and data:
            self.wfile.write(data)
