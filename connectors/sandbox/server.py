"""The common machinery of the vendor stand-ins: a threaded HTTP server on 127.0.0.1, a route table, an
injectable clock, a request log, and fault switches (throttling, expired tokens, 5xx, slow answers).

Each vendor module subclasses `Sandbox` with its routes, state and error bodies.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..clock import SYSTEM_CLOCK, Clock


@dataclass
class Request:
    """One request as the sandbox saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = 0.0

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Reply:
    """What a route answers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """A switch: the next `times` matching requests get this answer (after being applied, if `after`)."""

    pattern: re.Pattern[str]
    method: str | None
    reply: Reply
    times: int
    after: bool = False
    delay: float = 0.0
    skip: int = 0


Route = tuple[str, re.Pattern[str], Callable[..., Reply]]


class Sandbox:
    """A small stateful stand-in of a vendor API, served in a background thread."""

    name = "sandbox"

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self.lock = threading.RLock()
        self.log: list[Request] = []
        self.faults: list[Fault] = []
        self.routes: list[Route] = []
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self._ids = 0

    # --- life cycle -------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (port 0: any free port); the base URL."""
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                sandbox._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name=self.name, daemon=True)
        self.thread.start()
        return self.base_url

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def base_url(self) -> str:
        assert self.server is not None, "start() the sandbox first"
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- fault switches ---------------------------------------------------------------------------
    def fail(
        self,
        path: str,
        *,
        status: int = 500,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
        after: bool = False,
        delay: float = 0.0,
        skip: int = 0,
    ) -> None:
        """Answer the next `times` requests whose path matches the regex `path` with `status`.

        `after=True` applies the request first and then fails it: the vendor did the work, the answer
        was lost — the case idempotency keys and upserts exist for. `skip` lets that many matching
        requests through first (fail the third page, not the first).
        """
        reply = Reply(status, body if body is not None else self.error_body(status), headers or {})
        with self.lock:
            self.faults.append(Fault(re.compile(path), method, reply, times, after, delay, skip))

    def slow(self, path: str, *, seconds: float, times: int = 1) -> None:
        """Hold the next matching answers for `seconds` of real time (to trip client timeouts)."""
        with self.lock:
            self.faults.append(Fault(re.compile(path), None, Reply(0), times, delay=seconds))

    def error_body(self, status: int) -> Any:
        """The vendor's error body for a status; vendors override with their documented shape."""
        return {"error": f"sandbox fault {status}"}

    def requests_to(self, path: str, method: str | None = None) -> list[Request]:
        pattern = re.compile(path)
        return [r for r in self.log if pattern.search(r.path) and (method is None or r.method == method)]

    # --- helpers for vendor modules ---------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Callable[..., Reply]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def next_id(self) -> int:
        with self.lock:
            self._ids += 1
            return self._ids

    def now_ts(self) -> int:
        return int(self.clock.now().timestamp())

    # --- serving ----------------------------------------------------------------------------------
    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.pattern.search(request.path) and fault.method in (None, request.method):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _dispatch(self, request: Request) -> Reply:
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                with self.lock:
                    return handler(request, **match.groupdict())
        return Reply(404, self.error_body(404))

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
            at=self.clock.now().timestamp(),
        )
        with self.lock:
            self.log.append(request)
        fault = self._take_fault(request)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.reply.status == 0:
            fault = None  # a pure delay
        if fault is None or fault.after:
            reply = self._dispatch(request)
        if fault is not None:
            reply = fault.reply
        self._write(handler, reply)

    def _write(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        body = reply.body
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        try:
            handler.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer
