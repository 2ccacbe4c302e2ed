"""A tiny threaded HTTP server bound to a loopback address: the fakes' transport.

The simulator, the test suite's fake Search service and the benchmark serve the answers of
the scenario engine (:mod:`.scenarios`) through it, so the production HTTP code runs end
to end with no network. A handler turns a :class:`Request` into a :class:`Response`, plain
data that can also describe the faults a real service or proxy produces: a connection reset
(``drop_connection``), a slow answer (``delay``), a trickled or endless chunked body
(``chunks`` and ``pace``). What the answers *say* (Task documents, GError bodies) is the
engine's business, not this module's.

Why not a library (werkzeug's ``make_server``, which ``pytest-httpserver`` wraps)? It is
built on the same ``http.server`` classes, and the parts written here would remain: a WSGI
application cannot reset its connection, cut a delay short when the server stops, or close
the live keep-alive and streaming connections on ``stop()`` (a test's endless body would
outlive its server). It would also make a runtime dependency of the public simulator.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["ErrorAnswer", "Handler", "LoopbackServer", "Request", "Response"]

logger = logging.getLogger("search_task_widget")

# Idle keep-alive connections are closed after this long so that a client which forgets
# to close its pool cannot pin a server thread forever.
_IDLE_TIMEOUT = 60.0
# How long stop() waits for each connection thread; they are daemons, so a handler
# stuck in user code cannot block interpreter exit even if this runs out.
_JOIN_TIMEOUT = 5.0


@dataclass(frozen=True)
class Request:
    """One HTTP request as the handler sees it."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # names lower-cased
    body: bytes


@dataclass
class Response:
    """What the server answers; ``drop_connection``, ``delay`` and ``chunks`` simulate
    faults.

    ``chunks``, when given, replaces ``body``: the pieces are sent as a chunked body, one
    every ``pace`` seconds (a trickle, or an endless stream from an endless iterable),
    until they run out, the client hangs up or the server stops.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False
    delay: float = 0.0
    chunks: Iterable[bytes] | None = None
    pace: float = 0.0

    @classmethod
    def json(
        cls, obj: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        """A JSON body with the content type Search uses."""
        merged = {"Content-Type": "application/json"}
        merged.update(headers or {})
        return cls(status=status, body=json.dumps(obj).encode("utf-8"), headers=merged)


Handler = Callable[[Request], Response]
#: How the server answers its own troubles, a garbled request or a handler that raised:
#: ``(status, code, message) -> Response``. The fakes pass the engine's GError builder.
ErrorAnswer = Callable[[int, str, str], Response]


def _plain_error(status: int, code: str, message: str) -> Response:
    return Response.json({"status": status, "code": code, "message": message}, status=status)


def _check_loopback(host: str) -> str:
    """Return the literal address to bind, refusing anything off this machine."""
    # "localhost" is accepted for convenience but pinned to 127.0.0.1 rather than
    # resolved, since a resolver could map it to a routable address.
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"LoopbackServer only binds literal loopback addresses, not {host!r}"
        ) from None
    if not address.is_loopback:
        raise ValueError(f"LoopbackServer only binds loopback addresses, not {host!r}")
    return str(address)


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that can close its live connections when stopped."""

    daemon_threads = True
    # The stock join in server_close() waits forever on idle keep-alive connections;
    # stop() instead shuts their sockets down and joins with a timeout.
    block_on_close = False
    # The default backlog of 5 drops connections when hundreds of clients start at once
    # (the benchmark's naive loops, a classroom of simulators).
    request_queue_size = 1024

    def __init__(
        self, address: tuple[str, int], handler: Handler, on_error: ErrorAnswer, family: int
    ) -> None:
        self.address_family = family
        self.handler = handler
        self.on_error = on_error
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._live: dict[socket.socket, threading.Thread | None] = {}
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Registered from the accepting thread so stop() sees every socket, even one
        # whose thread has not started running yet.
        with self._lock:
            self._live[request] = None
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._lock:
            if request in self._live:
                self._live[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._live.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a client hanging up mid-answer is
        # routine here (tests do it on purpose), so keep it at DEBUG.
        logger.debug("loopback connection from %s failed", client_address, exc_info=True)

    def close_connections(self) -> list[threading.Thread]:
        """Wake every connection thread by shutting its socket; return the threads."""
        with self._lock:
            live = list(self._live.items())
        for sock, _thread in live:
            # OSError: the connection's own thread closed it meanwhile.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return [thread for _sock, thread in live if thread is not None]


class _RequestHandler(BaseHTTPRequestHandler):
    """Turns raw HTTP into Request/Response calls on the server's handler."""

    server: _Server
    # HTTP/1.1 gives keep-alive, which the real service and httpx's pool both use.
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_TIMEOUT
    # Headers and body go out in separate writes: with Nagle's algorithm the body then
    # waits for the client's delayed ACK, about 40 ms per answer on Linux.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        # The stock value advertises the Python version, which says nothing useful here.
        return "search-task-widget-loopback"

    def do_GET(self) -> None:
        self._dispatch()

    # Every method goes to the handler, which decides what the route allows.
    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        # Keep stderr clean (it shows up in notebooks); the access log stays available.
        logger.debug("loopback %s: " + format, self.address_string(), *args)

    def _dispatch(self) -> None:
        try:
            request = self._read_request()
        except ValueError:
            # A garbled length or chunk size: the stream can't be trusted past this point.
            self.close_connection = True
            answer = self.server.on_error(400, "BadRequest", "Malformed request body")
            self._write(answer, include_body=True)
            return
        response = self._call_handler(request)
        if response.delay > 0 and self.server.stopping.wait(response.delay):
            # The server is stopping: don't answer late, just go away.
            response = Response(drop_connection=True)
        if response.drop_connection:
            self._drop()
            return
        self._write(response, include_body=self.command != "HEAD")

    def _read_request(self) -> Request:
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        return Request(
            method=self.command,
            path=unquote(parts.path),
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=MappingProxyType(headers),
            body=self._read_body(headers),
        )

    def _read_body(self, headers: Mapping[str, str]) -> bytes:
        # Bodies must be consumed fully, or the next request on a keep-alive connection
        # would be parsed from the middle of this one.
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length = int(headers.get("content-length", "0") or "0")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline(65537)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Skip optional trailers up to the blank line that ends the body.
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(65537)  # the CRLF after each chunk

    def _call_handler(self, request: Request) -> Response:
        try:
            return self.server.handler(request)
        except Exception as exc:
            # A bug in a handler must look like a server error to the client, not kill
            # the connection thread or leave the client hanging.
            logger.exception("loopback handler failed for %s %s", request.method, request.path)
            return self.server.on_error(
                500, "InternalError", f"The loopback handler raised {type(exc).__name__}"
            )

    def _drop(self) -> None:
        # SO_LINGER with a zero timeout makes close() send a TCP reset instead of an
        # orderly FIN, which is what a crashed proxy or a network drop looks like.
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may already be gone
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def _write(self, response: Response, *, include_body: bool) -> None:
        try:
            self.send_response(response.status)
            lowered = {name.lower(): value for name, value in response.headers.items()}
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.chunks is not None:
                self.send_header("Transfer-Encoding", "chunked")
            elif "content-length" not in lowered:
                self.send_header("Content-Length", str(len(response.body)))
            if lowered.get("connection", "").lower() == "close":
                self.close_connection = True
            self.end_headers()
            if include_body and response.chunks is not None:
                self._write_chunks(response.chunks, response.pace)
            elif include_body:
                self.wfile.write(response.body)
        except OSError:
            # The client went away mid-answer; nothing useful left to do on this socket.
            logger.debug("loopback client hung up before the answer was sent", exc_info=True)
            self.close_connection = True

    def _write_chunks(self, chunks: Iterable[bytes], pace: float) -> None:
        for piece in chunks:
            if pace > 0 and self.server.stopping.wait(pace):
                self.close_connection = True
                return
            if self.server.stopping.is_set():
                self.close_connection = True
                return
            if piece:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


_S = TypeVar("_S", bound="Serving")


class Serving:
    """A ``with`` block serves: :meth:`start` on entry, :meth:`stop` on exit."""

    def start(self: _S) -> _S:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class LoopbackServer(Serving):
    """Serve ``handler`` over HTTP on a loopback address from a daemon thread; the server's
    own troubles (a garbled request, a handler that raised) are answered by ``on_error``."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_error: ErrorAnswer = _plain_error,
    ) -> None:
        self._handler = handler
        self._on_error = on_error
        self._host = _check_loopback(host)
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``; only valid while the server is running."""
        server = self._server
        if server is None:
            raise RuntimeError("LoopbackServer.base_url is only known after start()")
        address, port = server.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else str(address)
        if ":" in host:
            host = f"[{host}]"  # IPv6 literals need brackets in URLs
        return f"http://{host}:{port}/"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> LoopbackServer:
        """Bind and start serving; calling it on a running server does nothing."""
        with self._lock:
            if self._server is not None:
                return self
            family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
            server = _Server((self._host, self._port), self._handler, self._on_error, family)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},  # so stop() returns promptly
                name=f"loopback-{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        logger.debug("loopback server listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and every connection; safe to call twice."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return
        server.stopping.set()  # cuts short any Response.delay in progress
        server.shutdown()
        thread.join(_JOIN_TIMEOUT)
        server.server_close()
        for connection_thread in server.close_connections():
            connection_thread.join(_JOIN_TIMEOUT)
