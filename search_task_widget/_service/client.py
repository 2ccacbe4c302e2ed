"""The HTTP client for the Search Task API, on httpx.

One :class:`TaskClient` talks to one Search service with one authorizer. It makes exactly
the requests it is asked for, with no retries of its own except the single retry after a
401 that an authorizer says it has fixed: the poller decides when to try again, so that it
can show the user what is going on (globus-sdk's client retries silently for up to minutes).
Every failure becomes a :class:`SearchTaskError` with the facts and a sentence for people,
redacted of the tokens this client sent and without the frames that held its headers.

Whatever the service sends, one request is bounded: :data:`REQUEST_DEADLINE` seconds as a
whole (checked at every chunk, so a trickle cannot stretch it), :data:`MAX_BODY_BYTES` after
decompression (decompressed by steps, so a gzip bomb stops there), :data:`MAX_JSON_DEPTH`
levels of JSON.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import os
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import SplitResult, quote, urlsplit

import httpx

from .._model.config import (
    HTTP_TIMEOUT_ENV_VAR,
    SERVICE_URL_ENV_VAR,
    SSL_CERT_DIR_ENV_VAR,
    SSL_CERT_FILE_ENV_VAR,
    VERIFY_SSL_ENV_VAR,
    environment,
)
from .._model.errors import (
    SearchTaskError,
    TaskAPIError,
    TaskNetworkError,
    TaskResponseError,
    redact,
    scrubbed,
    unsendable_reason,
)
from .._model.task import MAX_INT_DIGITS, MalformedTaskError, Task, long_integer_note
from .._version import __version__
from .retry_after import parse_retry_after

log = logging.getLogger("search_task_widget")

#: The code of a POST that may have reached the service without its answer reaching us.
UNKNOWN_FATE = "UnknownFate"
#: HTTP statuses after which trying again later may succeed.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

_T = TypeVar("_T")

#: httpx timeouts for one read, write or connect (the whole request has REQUEST_DEADLINE).
DEFAULT_TIMEOUT = httpx.Timeout(float(HTTP_TIMEOUT_ENV_VAR.default))
#: Seconds one request may take as a whole, from sending to the last byte of the body: a
#: service that trickles its answer (or never ends a chunked body) is cut off after this.
REQUEST_DEADLINE = 20.0
#: The largest answer body read, in bytes after decompression (a gzip bomb stops here).
#: A ``task_list`` of 1000 tasks is about 0.5-2 MB.
MAX_BODY_BYTES = 16 * 1024 * 1024
#: JSON nested deeper than this is refused (Task documents are about 4 levels deep).
MAX_JSON_DEPTH = 64
#: The most entries of a ``task_list`` read (the service sends the 1000 most recent).
MAX_LISTED_TASKS = 1000


@runtime_checkable
class Authorizer(Protocol):
    """The part of :class:`globus_sdk.authorizers.GlobusAuthorizer` the client uses.

    Called on the poller thread, never concurrently (one lock per client): renewing
    authorizers may refresh inside these calls; none of them starts a login.
    """

    def get_authorization_header(self) -> str | None: ...

    def handle_missing_authorization(self) -> bool: ...


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_base_url(base_url: str | None) -> str:
    """The Search service URL: ``base_url`` if given, else what globus-sdk would use.

    globus-sdk honours ``GLOBUS_SDK_SERVICE_URL_SEARCH`` first, then
    ``GLOBUS_SDK_ENVIRONMENT``; asking it keeps us in step with ``SearchClient``.
    """
    given = "base_url" if base_url is not None else f"${SERVICE_URL_ENV_VAR}"
    if base_url is None:
        from globus_sdk.config import get_service_url

        base_url = get_service_url("search")
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, not {type(base_url).__name__}")
    parts = _url_parts(base_url.strip())
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        # The URL is not quoted: it could carry a password (user:password@host).
        raise ValueError(
            f"{given} must be an http(s) URL with a valid host and port, such as {_EXAMPLE_URL!r}"
        ) from None
    _refuse_extras(base_url.strip(), parts, given)
    return base_url.strip().rstrip("/") + "/"


def _url_parts(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return None
    return parts


def _refuse_extras(url: str, parts: SplitResult, given: str) -> None:
    """Refuse what a service root never has. A user name or password would be shown in
    every message naming the host, and httpx would send it as ``Authorization: Basic``
    in place of the token; a query or fragment would swallow the task's path. The URL is
    never quoted: it is the very thing that may hold a password."""
    if "@" in parts.netloc:
        raise ValueError(
            f"{given} must not hold a user name or password (user:password@host): "
            "credentials never come from a URL; pass them as auth= (or sign in)"
        )
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError(
            f"{given} must be the service root, without a query (?...) or fragment (#...), "
            f"such as {_EXAMPLE_URL!r}"
        )


_EXAMPLE_URL = "https://search.api.globus.org/"


class TaskClient:
    """Fetch Task documents from one Search service.

    Args:
        base_url: the service root, e.g. ``https://search.api.globus.org/``.
        authorizer: makes the ``Authorization`` header per request, or None for no header.
        transport: an httpx transport (tests and the in-process simulator).
        timeout: httpx timeout for each read (and connect); default 5 s, or
            ``$GLOBUS_SDK_HTTP_TIMEOUT`` when set (at most ``deadline``).
        deadline: seconds a request may take as a whole (default :data:`REQUEST_DEADLINE`).
        max_body: the largest answer read, in bytes after decompression
            (default :data:`MAX_BODY_BYTES`).

    Certificate checks follow globus-sdk's ``$GLOBUS_SDK_VERIFY_SSL`` (``false``, or the
    path of a CA bundle, e.g. behind a gateway's TLS-inspecting proxy).

    A token is never sent over plain ``http://`` except to loopback (the simulator and
    test servers): that is refused here, before any connection.
    """

    def __init__(
        self,
        base_url: str,
        authorizer: Authorizer | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        deadline: float | None = None,
        max_body: int | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self.deadline = float(deadline if deadline is not None else REQUEST_DEADLINE)
        self.max_body = int(max_body if max_body is not None else MAX_BODY_BYTES)
        parts = urlsplit(self.base_url)
        if (
            authorizer is not None
            and parts.scheme == "http"
            and not is_loopback(parts.hostname or "")
        ):
            raise ValueError(
                f"refusing to send a token over plain http to {parts.hostname}: "
                "use an https:// base_url (plain http is allowed only for loopback addresses)"
            )
        self.authorizer = authorizer
        #: Indexes whose task list this identity may not read (the poller asks per task).
        self.unlistable_indexes: set[str] = set()
        self._auth_lock = threading.Lock()
        self._secrets: list[str] = []  # tokens sent lately: redacted from every message
        self._closing = False
        self._transport = transport
        self._timeout = _bounded(
            timeout if timeout is not None else _timeout_from_environment(), self.deadline
        )
        self._http = self._new_http()
        _live_clients.add(self)

    def _new_http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            transport=self._transport,
            timeout=self._timeout,
            verify=_verify_from_environment(),  # one context per setting, built once
            follow_redirects=False,  # a redirect must never carry the token elsewhere
            # Reported before httpx parses its Location (an invalid one would be a
            # transport error, retried as if the network failed).
            event_hooks={"response": [_refuse_redirect]},
            headers={
                "Accept": "application/json",
                # Only what _Inflater decodes with a bound (no brotli, no zstd).
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": f"search-task-widget/{__version__} httpx/{httpx.__version__}",
            },
        )

    def _after_fork_in_child(self) -> None:
        """A forked child shares the parent's sockets: answers meant for one would be
        read by the other. New connections, and a fresh lock (a thread that held it is
        gone). The old pool is dropped, not closed: its locks may be held, and closing
        needs them."""
        self._auth_lock = threading.Lock()
        if not self._closing:
            self._http = self._new_http()

    def __repr__(self) -> str:
        auth = type(self.authorizer).__name__ if self.authorizer else "no auth"
        return f"<TaskClient {self.base_url} ({auth})>"

    @property
    def closed(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Close the connections; a request in flight on another thread is cut off."""
        self._closing = True
        self._http.close()

    def redact(self, text: str) -> str:
        """``text`` without the tokens this client sent or holds (for any message to people)."""
        return redact(text, self._known_secrets())

    def _known_secrets(self) -> list[str]:
        # Read each time: a renewing authorizer gets new tokens; the list is short.
        return [*self._secrets, *held_secrets(self.authorizer)]

    def __enter__(self) -> TaskClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_task(self, task_id: str) -> Task:
        """``GET /v1/task/<task_id>`` as a :class:`Task`."""
        try:
            return self._get_task(task_id)
        except SearchTaskError as error:
            # Redacted, and without the frames (and so the headers) it was raised through.
            raise scrubbed(error, self._known_secrets()) from None

    def get_task_list(self, index_id: str) -> list[Task]:
        """``GET /v1/task_list/<index_id>``: the index's recent tasks (malformed ones skipped)."""
        try:
            return self._get_task_list(index_id)
        except SearchTaskError as error:
            raise scrubbed(error, self._known_secrets()) from None

    def ingest(self, index_id: str, body: bytes) -> str:
        """``POST /v1/index/<index_id>/ingest`` with ``body`` (a GIngest document, already
        JSON); return the new task's id. No retry here (the ingest job decides).

        A request that may have reached the service without its answer reaching us raises
        :class:`TaskNetworkError` with code :data:`UNKNOWN_FATE`; one that surely never
        left (the connection could not be made) has code ``"NotSent"``.
        """
        try:
            answer = self._send(
                f"v1/index/{quote(index_id, safe='')}/ingest", method="POST", content=body
            )
            if answer.status_code == 401 and self._renew_authorization():
                answer = self._send(
                    f"v1/index/{quote(index_id, safe='')}/ingest", method="POST", content=body
                )
            if not 200 <= answer.status_code < 300:
                raise _error_from_response(answer)
            reply = _decode_json(self._without_secrets(answer))
            task_id = reply.get("task_id") if isinstance(reply, dict) else None
            if not isinstance(task_id, str) or not task_id:
                raise TaskResponseError(
                    "the ingest answer has no task_id", http_status=answer.status_code,
                    code="MalformedDocument", transient=True,
                )  # fmt: skip
            return task_id
        except SearchTaskError as error:
            raise scrubbed(error, self._secrets) from None

    def _get_task(self, task_id: str) -> Task:
        body = self._redacted(self._get_json(f"v1/task/{quote(task_id, safe='')}"))
        try:
            task = Task.from_document(body)
        except MalformedTaskError as error:
            raise TaskResponseError(
                str(error), http_status=200, code="MalformedDocument", transient=True
            ) from None
        if task.task_id.lower() != task_id.lower():
            # A misconfigured cache or proxy can answer with another request's body.
            raise TaskResponseError(
                f"asked for task {task_id} but the answer is about task {task.task_id}",
                http_status=200,
                code="WrongTask",
                transient=True,
            )
        return task

    def _get_task_list(self, index_id: str) -> list[Task]:
        body = self._get_json(f"v1/task_list/{quote(index_id, safe='')}")
        documents = body.get("tasks") if isinstance(body, dict) else None
        if not isinstance(documents, list):
            raise TaskResponseError(
                "the task list has no 'tasks' array",
                http_status=200,
                code="MalformedDocument",
                transient=True,
            )
        if len(documents) > MAX_LISTED_TASKS:
            # The service sends at most 1000: more is not a task list to trust, and each
            # entry costs time on the thread that asked (for_index: the caller's).
            log.debug("reading %d of %d tasks listed", MAX_LISTED_TASKS, len(documents))
        tasks = []
        for document in self._redacted(documents[:MAX_LISTED_TASKS]):
            try:
                tasks.append(Task.from_document(document))
            except MalformedTaskError:
                log.debug("skipping a malformed entry in the task list of %s", index_id)
        return tasks

    def _redacted(self, value: Any) -> Any:
        """Every string of decoded ``value`` redacted: a token echoed as ``\\/`` or
        ``\\u0061`` escapes escaped the raw-bytes pass and is whole again once decoded.
        Each caller redacts what it keeps, after cutting it down (a 100,000-entry list
        is not walked whole)."""
        return redacted_values(value, self._known_secrets())

    # -- one request ------------------------------------------------------------------

    def _get_json(self, path: str) -> Any:
        answer = self._send(path)
        if answer.status_code == 401 and self._renew_authorization():
            answer = self._send(path)
        if 200 <= answer.status_code < 300:
            # Not redacted yet when decoded: the caller redacts what it keeps (_redacted).
            return _decode_json(self._without_secrets(answer))
        raise _error_from_response(answer)

    def _without_secrets(self, answer: _Answer) -> _Answer:
        # A proxy or service that writes the token into a document (its message, its
        # details) must not get it shown, synced or saved with the notebook.
        content = answer.content
        for secret in self._known_secrets():
            token = secret.encode()
            if len(token) >= 8 and token in content:
                content = content.replace(token, b"[redacted]")
        return answer if content is answer.content else _Answer(
            answer.status_code, answer.headers, content
        )  # fmt: skip

    def _send(self, path: str, *, method: str = "GET", content: bytes | None = None) -> _Answer:
        """One request, read whole within ``deadline`` seconds and ``max_body`` bytes."""
        if self._closing:
            raise TaskNetworkError("the connection was closed", code="Closed")
        deadline = time.monotonic() + self.deadline
        headers = self._auth_headers()
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            with self._http.stream(method, path, headers=headers, content=content) as response:
                body = self._read_body(response, deadline)
                return _Answer(response.status_code, response.headers, body)
        except httpx.TimeoutException as error:
            code = "Timeout" if method == "GET" else _post_fault(error)
            raise TaskNetworkError(f"no answer from {self._host} in time", code=code) from None
        except (httpx.TransportError, httpx.StreamError, RuntimeError) as error:
            if _is_certificate_error(error):
                raise self._untrusted(error) from None
            # RuntimeError: the client was closed under the request (its widget closed).
            # The exception text names the host and the failure, never request headers.
            raise TaskNetworkError(
                f"{type(error).__name__} talking to {self._host}: {self.redact(str(error))}",
                code="NetworkError" if method == "GET" else _post_fault(error),
            ) from None

    def _untrusted(self, error: BaseException) -> TaskNetworkError:
        """A certificate that is not trusted: no retry makes it trusted (5 minutes of
        retries only hid the advice), so polling stops with it."""
        reason = getattr(_certificate_error(error), "verify_message", "") or "not verified"
        problem = TaskNetworkError(
            f"the certificate of {self._host} is not trusted ({reason})", code="CertificateError"
        )
        problem.transient = False
        return problem

    def _auth_headers(self) -> dict[str, str]:
        header = self._authorization_header()
        return {"Authorization": header} if header else {}

    def _read_body(self, response: httpx.Response, deadline: float) -> bytearray:
        limit = self.max_body
        length = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "")
        if length.isdigit() and int(length) > limit and not encoding:
            raise _too_large(response.status_code, limit)
        inflater = _Inflater(encoding, response.status_code, limit)
        body = bytearray()
        for chunk in response.iter_raw():
            # Checked per chunk: a 1-byte-a-second trickle never hits a read timeout.
            if time.monotonic() > deadline:
                raise TaskNetworkError(
                    f"no complete answer from {self._host} within {self.deadline:g} s",
                    code="Timeout",
                )
            if self._closing:
                raise TaskNetworkError("the connection was closed", code="Closed")
            inflater.feed(chunk, body)
        inflater.finish(body)
        return body  # not copied to bytes: at the cap, a copy would double the peak

    @property
    def _host(self) -> str:
        # Without any user:password@ (refused in base_url; never shown even so).
        return urlsplit(self.base_url).netloc.rpartition("@")[2]

    def _authorization_header(self) -> str | None:
        if self.authorizer is None:
            return None
        header = self._ask_authorizer(self.authorizer.get_authorization_header)
        if not header:
            return None
        token = header.split(" ", 1)[-1]
        reason = unsendable_reason(header)
        if reason is not None:
            # Refused before any request: httpx's own error would quote the header.
            raise TaskAPIError(
                f"the access token {reason}, so it cannot be sent in an HTTP header; "
                "copy it again without it",
                code="UnsendableToken",
                transient=False,
            )
        if token not in self._secrets:
            self._secrets[:] = [*self._secrets[-3:], token]
        return header

    def _renew_authorization(self) -> bool:
        if self.authorizer is None:
            return False
        return bool(self._ask_authorizer(self.authorizer.handle_missing_authorization))

    def _ask_authorizer(self, call: Callable[[], _T]) -> _T:
        # Authorizers that refresh are not documented as thread safe: one lock per client
        # keeps two threads from refreshing at once. A failed refresh (revoked refresh
        # token, Globus Auth unreachable) becomes a SearchTaskError like any other answer.
        try:
            with self._auth_lock:
                return call()
        except Exception as error:
            raise _authorizer_error(error) from None


def _refuse_redirect(response: httpx.Response) -> None:
    """httpx response hook: a redirect is an answer to report, whatever its Location."""
    if response.has_redirect_location:
        raise _redirect_error(response.status_code, response.headers)


def _redirect_error(status: int, headers: Mapping[str, str]) -> TaskAPIError:
    # The Location is cut and (as every message) redacted of any user:password@.
    location = headers.get("location", "elsewhere")[:200]
    return TaskAPIError(
        f"unexpected redirect to {location}",
        http_status=status,
        code="UnexpectedRedirect",
        transient=False,
    )


def _certificate_error(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate failure under an httpx error (its cause or context), if any."""
    seen: BaseException | None = error
    for _ in range(5):  # httpx wraps once or twice
        if seen is None or isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _is_certificate_error(error: BaseException) -> bool:
    return _certificate_error(error) is not None or "CERTIFICATE_VERIFY_FAILED" in str(error)


#: Attributes of globus-sdk authorizers (and their auth clients' authorizers) that hold a
#: credential: access and refresh tokens, a confidential client's secret.
_SECRET_ATTRIBUTES = ("access_token", "refresh_token", "password")
_INNER_CLIENTS = ("auth_client", "confidential_client")


def held_secrets(authorizer: object, depth: int = 2) -> list[str]:
    """Every credential ``authorizer`` holds, looked up by globus-sdk's attribute names:
    a service that echoes any of them (not only the token sent) gets it redacted."""
    if authorizer is None or depth <= 0:
        return []
    found = [getattr(authorizer, name, None) for name in _SECRET_ATTRIBUTES]
    secrets = [value for value in found if isinstance(value, str)]
    for name in _INNER_CLIENTS:
        inner = getattr(getattr(authorizer, name, None), "authorizer", None)
        secrets.extend(held_secrets(inner, depth - 1))
    return secrets


def redacted_values(value: Any, secrets: list[str]) -> Any:
    """``value`` (decoded JSON) with every string, keys included, redacted. Recursive:
    :func:`_parse` refused anything deeper than :data:`MAX_JSON_DEPTH`."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact(k, secrets): redacted_values(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted_values(item, secrets) for item in value]
    return value


def _post_fault(error: Exception) -> str:
    """The code of a POST that got no answer: ``"NotSent"`` when no connection was made
    (nothing reached the service), else :data:`UNKNOWN_FATE`."""
    never_sent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    return "NotSent" if never_sent else UNKNOWN_FATE


def _authorizer_error(error: Exception) -> SearchTaskError:
    # Facts only: the error's text could quote a token.
    name = type(error).__name__
    # globus_sdk.NetworkError is matched by name: this module does not import globus-sdk.
    if isinstance(error, (OSError, TimeoutError)) or "NetworkError" in _class_names(error):
        return TaskNetworkError(f"could not reach Globus Auth to renew the sign-in ({name})")
    status, code = getattr(error, "http_status", None), getattr(error, "code", None)
    answer = f"Globus Auth answered {status} {code}" if status else name
    return TaskAPIError(
        f"the sign-in could not be renewed ({answer})",
        http_status=401,
        code="SignInExpired",
        transient=False,
    )


def _class_names(error: Exception) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def _timeout_from_environment() -> httpx.Timeout:
    # Shorter than globus-sdk's 60 s default; $GLOBUS_SDK_HTTP_TIMEOUT (-1: none) is
    # honoured as in globus-sdk, within the whole-request deadline (see _bounded).
    if not HTTP_TIMEOUT_ENV_VAR.is_set():
        return DEFAULT_TIMEOUT
    from globus_sdk.config import get_http_timeout

    return httpx.Timeout(get_http_timeout())


def _bounded(timeout: httpx.Timeout | float | None, deadline: float) -> httpx.Timeout:
    """``timeout`` with every part at most ``deadline``: a silent server is noticed by a
    read timeout, since the per-chunk deadline check needs a chunk to run."""
    given = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    def cap(value: float | None) -> float:
        return deadline if value is None or value < 0 else min(value, deadline)

    return httpx.Timeout(
        connect=cap(given.connect), read=cap(given.read), write=cap(given.write),
        pool=cap(given.pool),
    )  # fmt: skip


def _verify_from_environment() -> ssl.SSLContext:
    """The SSL context for the current settings, shared by every client of the process.

    Building one loads a CA bundle (about 50 ms), which made each widget's client cost
    that much; a context is safe to share between clients and threads (every client here
    speaks HTTP/1.1 only, so httpx sets the same ALPN protocols on it each time). The
    context is rebuilt only when a setting it depends on changes.
    """
    settings = (VERIFY_SSL_ENV_VAR, SSL_CERT_FILE_ENV_VAR, SSL_CERT_DIR_ENV_VAR)
    return _ssl_context(*(environment().get(name, "") for name in settings))


@functools.lru_cache(maxsize=8)
def _ssl_context(verify_setting: str, cert_file: str, cert_dir: str) -> ssl.SSLContext:
    # The arguments are the cache key only: globus-sdk and httpx read the variables
    # themselves (httpx the two SSL_CERT_* ones, for a default context).
    verify: bool | str = True
    if verify_setting:
        from globus_sdk.config import get_ssl_verify

        verify = get_ssl_verify()
    if isinstance(verify, bool):
        return httpx.create_ssl_context(verify=verify)
    return ssl.create_default_context(cafile=verify)  # a CA bundle file


@dataclass(frozen=True)
class _Answer:
    """A whole answer, read within the bounds (the httpx response is closed by then)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes | bytearray


#: Bytes decompressed at a time: a gzip bomb's chunk never inflates in one piece.
_STEP = 1 << 20


class _Inflater:
    """Decompress a body by pieces, never holding more than the cap plus one step."""

    def __init__(self, encoding: str, status: int, limit: int) -> None:
        name = encoding.strip().lower()
        self._status = status
        self._limit = limit
        self._raw_deflate = False
        if name in ("", "identity"):
            self._z: Any = None
        elif name in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif name == "deflate":
            self._z = zlib.decompressobj()
            self._raw_deflate = True  # servers send zlib-wrapped or raw deflate
        else:
            raise TaskResponseError(
                f"the answer is compressed as {name[:40]!r}, which this client did not ask for",
                http_status=status,
                code="UnsupportedEncoding",
                transient=True,
            )

    def feed(self, data: bytes, body: bytearray) -> None:
        """Append ``data``, decompressed, to ``body``, by steps of at most _STEP bytes."""
        if self._z is None:
            self._append(body, data)
            return
        pending = data
        while pending:
            out = self._decompress(pending, min(self._limit - len(body) + 1, _STEP))
            pending = self._z.unconsumed_tail
            self._append(body, out)

    def finish(self, body: bytearray) -> None:
        if self._z is None:
            return
        try:
            out = self._z.flush()
        except zlib.error:
            raise self._corrupt() from None
        self._append(body, out)

    def _decompress(self, data: bytes, most: int) -> bytes:
        try:
            return bytes(self._z.decompress(data, most))
        except zlib.error:
            if not self._raw_deflate:
                raise self._corrupt() from None
        self._raw_deflate = False  # not zlib-wrapped: try raw deflate, once
        self._z = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            return bytes(self._z.decompress(data, most))
        except zlib.error:
            raise self._corrupt() from None

    def _append(self, body: bytearray, out: bytes) -> None:
        if len(body) + len(out) > self._limit:
            raise _too_large(self._status, self._limit)
        body += out

    def _corrupt(self) -> TaskResponseError:
        return TaskResponseError(
            "the compressed answer is corrupt",
            http_status=self._status,
            code="InvalidEncoding",
            transient=True,
        )


def _too_large(status: int, limit: int) -> TaskResponseError:
    cap = f"{limit / 1048576:g} MiB"
    return TaskResponseError(
        f"the answer is larger than the {cap} this client reads (after decompression); "
        "it was not read further",
        http_status=status,
        code="TooLarge",
        transient=False,
    )


def _parse(content: bytes | bytearray) -> Any:
    """Decode JSON, refusing documents nested deeper than :data:`MAX_JSON_DEPTH`."""
    try:
        value = json.loads(content, parse_int=_parsed_int)
    except RecursionError:
        raise _too_deep() from None
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return value


def _parsed_int(digits: str) -> int | str:
    # Python refuses to parse an integer of over 4300 digits (ValueError): a long one
    # becomes the model's note before int() ever sees it.
    length = len(digits.lstrip("-"))
    return long_integer_note(length) if length > MAX_INT_DIGITS else int(digits)


class _TooDeep(ValueError):
    pass


def _too_deep() -> _TooDeep:
    return _TooDeep(f"the answer is JSON nested deeper than {MAX_JSON_DEPTH} levels")


def _decode_json(answer: _Answer) -> Any:
    try:
        return _parse(answer.content)
    except _TooDeep as error:
        raise TaskResponseError(
            str(error), http_status=answer.status_code, code="TooDeep", transient=True
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TaskResponseError(
            f"expected JSON, got {_describe_body(answer)}",
            http_status=answer.status_code,
            code="InvalidJSON",
            transient=True,
        ) from None


def _describe_body(answer: _Answer) -> str:
    kind = answer.headers.get("content-type", "").split(";")[0].strip()[:60] or "no content type"
    if "html" in kind:
        return "an HTML page (often a proxy, gateway or captive portal in between)"
    if not answer.content:
        return "an empty body"
    return f"a {kind} body of {len(answer.content)} bytes that is not valid JSON"


#: The longest message of a service's error body that is kept (the rest is cut).
MAX_MESSAGE_CHARS = 2000


def _error_from_response(answer: _Answer) -> SearchTaskError:
    status = answer.status_code
    body: Any = None
    try:
        body = _parse(answer.content)
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code, message = str(body.get("code") or "Error")[:100], body["message"]
        request_id = body.get("request_id") if isinstance(body.get("request_id"), str) else None
    else:
        code, message, request_id = (
            "Error",
            f"the service answered with {_describe_body(answer)}",
            None,
        )
    if 300 <= status < 400:  # one without a Location (the others stop in the hook)
        return _redirect_error(status, answer.headers)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + f"... ({len(message)} characters, cut)"
    return TaskAPIError(
        message,
        http_status=status,
        code=code,
        request_id=request_id[:100] if request_id else None,
        retry_after=parse_retry_after(answer.headers.get("retry-after"), time.time()),
        transient=status in TRANSIENT_STATUSES or status >= 500,
    )


class ClientPool:
    """Share one :class:`TaskClient` among watches with the same service and credentials.

    Sharing matters beyond connection reuse: the poller batches only watches that share a
    client (same service, same identity), so hundreds of widgets created with the same
    token end up polled through one ``task_list`` request per index.
    """

    def __init__(self) -> None:
        # Re-entrant: building a client allocates, a garbage collection may then run a
        # forgotten widget's ``__del__`` (ipywidgets closes it), which gives its client
        # back on this very thread, inside acquire().
        self._lock = threading.RLock()
        self._entries: dict[tuple[str, object], list[Any]] = {}  # key -> [client, refcount]

    def acquire(self, base_url: str, authorizer: Authorizer | None, key: object) -> TaskClient:
        """A client for ``base_url`` and ``authorizer``; ``key`` identifies the credentials."""
        pool_key = (resolve_base_url(base_url), key)
        with self._lock:
            entry = self._entries.get(pool_key)
            if entry is None:
                entry = self._entries[pool_key] = [TaskClient(base_url, authorizer), 0]
            entry[1] += 1
            return entry[0]

    def release(self, client: TaskClient) -> bool:
        """Give a client back; True when that was the last user (the caller closes it)."""
        with self._lock:
            for pool_key, entry in list(self._entries.items()):
                if entry[0] is client:
                    entry[1] -= 1
                    if entry[1] <= 0:
                        del self._entries[pool_key]
                        return True
                    return False
        return False

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _after_fork_in_child(self) -> None:
        self._lock = threading.RLock()


shared_clients = ClientPool()
#: Every client of the process, for the fork handler below.
_live_clients: weakref.WeakSet[TaskClient] = weakref.WeakSet()


def _rebuild_after_fork() -> None:
    """``os.register_at_fork`` handler (child): every client gets new connections."""
    shared_clients._after_fork_in_child()
    for client in list(_live_clients):
        client._after_fork_in_child()


os.register_at_fork(after_in_child=_rebuild_after_fork)


def host_of(url: str) -> str:
    """The host name of ``url`` (no port)."""
    return urlsplit(url).hostname or ""
