"""The HTTP client for the Search Task API, on httpx.

One :class:`TaskClient` talks to one Search service with one authorizer. It makes exactly
the requests it is asked for, with no retries of its own except the single retry after a
401 that an authorizer says it has fixed: the poller decides when to try again, so that it
can show the user what is going on (globus-sdk's client retries silently for up to minutes).
Every failure becomes a :class:`SearchTaskError` with the facts and a sentence for people.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote, urlsplit

import httpx

from ._errors import SearchTaskError, TaskAPIError, TaskNetworkError, TaskResponseError
from ._schedule import parse_retry_after
from ._task import MalformedTaskError, Task
from ._version import __version__

log = logging.getLogger("search_task_widget")

#: HTTP statuses after which trying again later may succeed.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

_T = TypeVar("_T")

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


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
    if base_url is None:
        from globus_sdk.config import get_service_url

        base_url = get_service_url("search")
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, not {type(base_url).__name__}")
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL such as {_EXAMPLE_URL!r}")
    return base_url.strip().rstrip("/") + "/"


_EXAMPLE_URL = "https://search.api.globus.org/"


class TaskClient:
    """Fetch Task documents from one Search service.

    Args:
        base_url: the service root, e.g. ``https://search.api.globus.org/``.
        authorizer: makes the ``Authorization`` header per request, or None for no header.
        transport: an httpx transport (tests and the in-process simulator).
        timeout: httpx timeout for each request; default 15 s (5 s to connect), or
            ``$GLOBUS_SDK_HTTP_TIMEOUT`` when set.

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
    ) -> None:
        self.base_url = resolve_base_url(base_url)
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
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout if timeout is not None else _timeout_from_environment(),
            verify=_verify_from_environment(),
            follow_redirects=False,  # a redirect must never carry the token elsewhere
            headers={
                "Accept": "application/json",
                "User-Agent": f"search-task-widget/{__version__} httpx/{httpx.__version__}",
            },
        )

    def __repr__(self) -> str:
        auth = type(self.authorizer).__name__ if self.authorizer else "no auth"
        return f"<TaskClient {self.base_url} ({auth})>"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TaskClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_task(self, task_id: str) -> Task:
        """``GET /v1/task/<task_id>`` as a :class:`Task`."""
        body = self._get_json(f"v1/task/{quote(task_id, safe='')}")
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

    def get_task_list(self, index_id: str) -> list[Task]:
        """``GET /v1/task_list/<index_id>``: the index's recent tasks (malformed ones skipped)."""
        body = self._get_json(f"v1/task_list/{quote(index_id, safe='')}")
        documents = body.get("tasks") if isinstance(body, dict) else None
        if not isinstance(documents, list):
            raise TaskResponseError(
                "the task list has no 'tasks' array",
                http_status=200,
                code="MalformedDocument",
                transient=True,
            )
        tasks = []
        for document in documents:
            try:
                tasks.append(Task.from_document(document))
            except MalformedTaskError:
                log.debug("skipping a malformed entry in the task list of %s", index_id)
        return tasks

    # -- one request ------------------------------------------------------------------

    def _get_json(self, path: str) -> Any:
        response = self._send(path)
        if response.status_code == 401 and self._renew_authorization():
            response = self._send(path)
        if 200 <= response.status_code < 300:
            return _decode_json(response)
        raise _error_from_response(response)

    def _send(self, path: str) -> httpx.Response:
        headers = {}
        header = self._authorization_header()
        if header:
            headers["Authorization"] = header
        try:
            return self._http.get(path, headers=headers)
        except httpx.TimeoutException:
            raise TaskNetworkError(f"no answer from {self._host} in time", code="Timeout") from None
        except httpx.TransportError as error:
            # The exception text names the host and the failure, never request headers.
            raise TaskNetworkError(
                f"{type(error).__name__} talking to {self._host}: {error}"
            ) from None

    @property
    def _host(self) -> str:
        return urlsplit(self.base_url).netloc

    def _authorization_header(self) -> str | None:
        if self.authorizer is None:
            return None
        return self._ask_authorizer(self.authorizer.get_authorization_header)

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
    # Shorter than globus-sdk's 60 s default: one hung request holds up the shared poller
    # thread. An explicit $GLOBUS_SDK_HTTP_TIMEOUT (-1: none) still wins, as in globus-sdk.
    if not os.environ.get("GLOBUS_SDK_HTTP_TIMEOUT"):
        return DEFAULT_TIMEOUT
    from globus_sdk.config import get_http_timeout

    return httpx.Timeout(get_http_timeout())


def _verify_from_environment() -> bool | ssl.SSLContext:
    if not os.environ.get("GLOBUS_SDK_VERIFY_SSL"):
        return True
    from globus_sdk.config import get_ssl_verify

    verify = get_ssl_verify()
    if isinstance(verify, bool):
        return verify
    return ssl.create_default_context(cafile=verify)  # a CA bundle file


def _decode_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TaskResponseError(
            f"expected JSON, got {_describe_body(response)}",
            http_status=response.status_code,
            code="InvalidJSON",
            transient=True,
        ) from None


def _describe_body(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    if "html" in kind:
        return "an HTML page (often a proxy, gateway or captive portal in between)"
    if not response.content:
        return "an empty body"
    return f"a {kind} body of {len(response.content)} bytes that is not valid JSON"


def _error_from_response(response: httpx.Response) -> SearchTaskError:
    status = response.status_code
    body: Any = None
    with contextlib.suppress(json.JSONDecodeError, UnicodeDecodeError):
        body = response.json()
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code, message = str(body.get("code") or "Error"), body["message"]
        request_id = body.get("request_id") if isinstance(body.get("request_id"), str) else None
    else:
        code, message, request_id = (
            "Error",
            f"the service answered with {_describe_body(response)}",
            None,
        )
    if 300 <= status < 400:
        message = f"unexpected redirect to {response.headers.get('location', 'elsewhere')}"
        code = "UnexpectedRedirect"
    return TaskAPIError(
        message,
        http_status=status,
        code=code,
        request_id=request_id,
        retry_after=parse_retry_after(response.headers.get("retry-after"), time.time()),
        transient=status in TRANSIENT_STATUSES or status >= 500,
    )


class ClientPool:
    """Share one :class:`TaskClient` among watches with the same service and credentials.

    Sharing matters beyond connection reuse: the poller batches only watches that share a
    client (same service, same identity), so hundreds of widgets created with the same
    token end up polled through one ``task_list`` request per index.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
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


shared_clients = ClientPool()


def host_of(url: str) -> str:
    """The host name of ``url`` (no port)."""
    return urlsplit(url).hostname or ""
