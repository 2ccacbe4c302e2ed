"""The loopback HTTP server, exercised with real HTTP on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from search_task_widget.simulator.loopback import LoopbackServer, Request, Response
from search_task_widget.simulator.scenarios import http_error, proxy_html, serve


class Recorder:
    """A handler that remembers every request and answers per path."""

    def __init__(self) -> None:
        self.seen: list[Request] = []
        self.routes: dict[str, Response] = {}

    def __call__(self, request: Request) -> Response:
        self.seen.append(request)
        if request.path == "/boom":
            raise RuntimeError("handler bug")
        return self.routes.get(request.path, Response.json({"ok": True}))


def _address(server: LoopbackServer) -> tuple[str, int]:
    host, port = server.base_url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    return host, int(port)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder) -> Iterator[LoopbackServer]:
    # The fakes' way to serve: the server's own errors are GError answers too.
    with serve(recorder) as running:
        yield running


@pytest.fixture
def client(server: LoopbackServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5) as http:
        yield http


def test_base_url_is_loopback_with_real_port(server: LoopbackServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.base_url.endswith("/")
    port = int(server.base_url.rstrip("/").rsplit(":", 1)[1])
    assert port > 0


def test_base_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = LoopbackServer(Recorder()).base_url


def test_request_fields_reach_the_handler(client: httpx.Client, recorder: Recorder) -> None:
    response = client.post(
        "/v1/index/abc/ingest?x=1&y=two%20words",
        content=b'{"a": 1}',
        headers={"X-Custom-Header": "Value"},
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    (seen,) = recorder.seen
    assert seen.method == "POST"
    assert seen.path == "/v1/index/abc/ingest"
    assert seen.query == {"x": "1", "y": "two words"}
    assert seen.headers["x-custom-header"] == "Value"
    assert "X-Custom-Header" not in seen.headers
    assert seen.body == b'{"a": 1}'


def test_chunked_body_is_read_whole(client: httpx.Client, recorder: Recorder) -> None:
    # A generator body makes httpx use Transfer-Encoding: chunked.
    response = client.post("/chunked", content=iter([b"abc", b"", b"defg"]))
    assert response.status_code == 200
    assert recorder.seen[0].headers.get("transfer-encoding") == "chunked"
    assert recorder.seen[0].body == b"abcdefg"
    # The connection must still be in sync for the next request.
    assert client.get("/after").status_code == 200


def test_status_headers_and_body_are_sent_verbatim(
    client: httpx.Client, recorder: Recorder
) -> None:
    recorder.routes["/teapot"] = Response(418, b"short and stout", {"X-Extra": "1"})
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.content == b"short and stout"
    assert response.headers["x-extra"] == "1"
    assert response.headers["content-length"] == str(len(b"short and stout"))


def test_keep_alive_reuses_one_connection(client: httpx.Client) -> None:
    first = client.get("/one")
    second = client.get("/two")
    addr = [r.extensions["network_stream"].get_extra_info("client_addr") for r in (first, second)]
    assert addr[0] == addr[1]
    assert first.headers.get("connection", "").lower() != "close"


def test_garbled_content_length_is_400(server: LoopbackServer, recorder: Recorder) -> None:
    with socket.create_connection(_address(server), timeout=5) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    assert received.startswith(b"HTTP/1.1 400")
    assert b'"@datatype": "GError"' in received
    assert recorder.seen == []


def test_connection_close_header_closes(server: LoopbackServer, recorder: Recorder) -> None:
    recorder.routes["/bye"] = Response(200, b"bye", {"Connection": "close"})
    with socket.create_connection(_address(server), timeout=5) as sock:
        sock.sendall(b"GET /bye HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        # recv() returning b"" means the server closed its side after answering.
        while chunk := sock.recv(4096):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200")
    assert received.endswith(b"\r\n\r\nbye")


def test_json_factory() -> None:
    response = Response.json({"a": [1, None]}, status=201, headers={"X-A": "b"})
    assert response.status == 201
    assert response.body == b'{"a": [1, null]}'
    assert response.headers == {"Content-Type": "application/json", "X-A": "b"}


def test_gerror_has_the_search_shape(client: httpx.Client, recorder: Recorder) -> None:
    recorder.routes["/missing"] = http_error(
        404, "NotFound.Generic", "nope", request_id="abc123", error_data={"cause": "x"}
    )
    response = client.get("/missing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "@datatype": "GError",
        "@version": "2017-09-01",
        "status": 404,
        "code": "NotFound.Generic",
        "message": "nope",
        "request_id": "abc123",
        "error_data": {"cause": "x"},
    }


def test_gerror_makes_up_a_request_id() -> None:
    first = http_error(500, "InternalError", "x")
    second = http_error(500, "InternalError", "x")
    assert first.body != second.body
    assert b'"request_id": "' in first.body


def test_proxy_page(client: httpx.Client, recorder: Recorder) -> None:
    recorder.routes["/proxy"] = proxy_html(502)
    response = client.get("/proxy")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text


def test_handler_exception_becomes_500_gerror(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="search_task_widget"):
        response = client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["@datatype"] == "GError"
    assert body["status"] == 500
    assert body["code"] == "InternalError"
    assert any(
        r.name == "search_task_widget" and r.exc_info and "handler bug" in str(r.exc_info[1])
        for r in caplog.records
    )
    # The server thread survived and keeps answering.
    assert client.get("/fine").status_code == 200


def test_a_bare_server_answers_its_own_errors_in_plain_json() -> None:
    with LoopbackServer(Recorder()) as bare, httpx.Client(base_url=bare.base_url) as http:
        response = http.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "code": "InternalError",
        "message": "The loopback handler raised RuntimeError",
    }


def test_drop_connection_is_a_client_transport_error(
    client: httpx.Client, recorder: Recorder
) -> None:
    recorder.routes["/drop"] = Response(drop_connection=True)
    with pytest.raises(httpx.TransportError):
        client.get("/drop")
    # The server is fine afterwards.
    assert client.get("/fine").status_code == 200


def test_drop_connection_sends_no_bytes(server: LoopbackServer, recorder: Recorder) -> None:
    recorder.routes["/drop"] = Response(200, b"never sent", drop_connection=True)
    with socket.create_connection(_address(server), timeout=5) as sock:
        sock.sendall(b"GET /drop HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        try:
            while chunk := sock.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
    assert received == b""


def test_delay_holds_the_answer(client: httpx.Client, recorder: Recorder) -> None:
    recorder.routes["/slow"] = dataclasses.replace(Response.json({"late": True}), delay=0.3)
    started = time.monotonic()
    response = client.get("/slow")
    assert time.monotonic() - started >= 0.3
    assert response.json() == {"late": True}


def test_delay_longer_than_client_timeout_times_out(
    client: httpx.Client, recorder: Recorder
) -> None:
    recorder.routes["/stuck"] = Response(delay=30)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/stuck", timeout=0.2)


def test_slow_request_does_not_block_others(server: LoopbackServer) -> None:
    release = threading.Event()
    entered = threading.Event()

    def handler(request: Request) -> Response:
        if request.path == "/wait":
            entered.set()
            release.wait(10)
        return Response.json({"path": request.path})

    with LoopbackServer(handler) as blocking, httpx.Client(timeout=5) as http:
        results: list[int] = []
        waiter = threading.Thread(
            target=lambda: results.append(http.get(blocking.base_url + "wait").status_code)
        )
        waiter.start()
        assert entered.wait(5)
        # Answered while /wait is still held: the server handles connections in threads.
        assert http.get(blocking.base_url + "quick").json() == {"path": "/quick"}
        assert not results
        release.set()
        waiter.join(5)
        assert results == [200]


def test_stop_is_prompt_with_idle_and_delayed_connections() -> None:
    arrived = threading.Event()

    def handler(request: Request) -> Response:
        if request.path == "/stuck":
            arrived.set()
            return Response(delay=60)
        return Response()

    server = LoopbackServer(handler).start()
    idle = httpx.Client(base_url=server.base_url)
    idle.get("/keepalive")  # leaves an idle keep-alive connection open
    errors: list[BaseException] = []

    def stuck() -> None:
        try:
            httpx.get(server.base_url + "stuck", timeout=30)
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=stuck)
    thread.start()
    assert arrived.wait(5)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3
    thread.join(5)
    assert errors, "the delayed request should fail when the server stops"
    # The idle keep-alive connection was closed too: nothing answers after stop().
    with pytest.raises(httpx.TransportError):
        idle.get("/after-stop")
    idle.close()


def test_stop_is_idempotent_and_refuses_later_connections(recorder: Recorder) -> None:
    server = LoopbackServer(recorder).start()
    url = server.base_url
    server.stop()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


def test_start_twice_keeps_one_server(recorder: Recorder) -> None:
    with LoopbackServer(recorder) as server:
        url = server.base_url
        assert server.start() is server
        assert server.base_url == url


def test_request_logging_goes_to_the_logger_not_stderr(
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    with caplog.at_level(logging.DEBUG, logger="search_task_widget"):
        client.get("/logged")
    captured = capfd.readouterr()
    assert captured.err == ""
    assert any("/logged" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.com", ""])
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        LoopbackServer(Recorder(), host=host)


def test_localhost_binds_ipv4_loopback() -> None:
    with LoopbackServer(Recorder(), host="localhost") as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert httpx.get(server.base_url, timeout=5).status_code == 200


def test_other_127_addresses_are_loopback() -> None:
    with LoopbackServer(Recorder(), host="127.0.0.2") as server:
        assert server.base_url.startswith("http://127.0.0.2:")
        assert httpx.get(server.base_url, timeout=5).status_code == 200


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = LoopbackServer(Recorder(), host="::1").start()
    except OSError:
        pytest.skip("::1 cannot be bound here")
    with server:
        assert server.base_url.startswith("http://[::1]:")
        assert httpx.get(server.base_url, timeout=5).status_code == 200
