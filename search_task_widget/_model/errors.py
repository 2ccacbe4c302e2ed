"""Errors this package raises, shaped like globus-sdk's (``http_status``, ``code``, ``message``).

Every error carries a sentence for people (``str(error)``) and the facts for programs. None
of them ever holds a token or an ``Authorization`` header: they are built only from the
service's answer and the request's URL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any, TypeVar

from .config import (
    CLIENT_ID_ENV_VAR,
    HUB_ENV_VAR,
    SDK_ENVIRONMENT_ENV_VAR,
    TOKEN_ENV_VAR,
    VERIFY_SSL_ENV_VAR,
)
from .task import BIDI_ESCAPES

_E = TypeVar("_E", bound=BaseException)


class SearchTaskError(Exception):
    """Base class: watching a Search task went wrong.

    Attributes:
        http_status: the HTTP status the service answered with, or None when there was no answer.
        code: the service's error code (e.g. ``"NotFound.Generic"``), or a short code of
            this package's for faults without one (e.g. ``"NetworkError"``).
        message: the service's own message, or a description of the fault.
        request_id: the service's request id, for support tickets, when it sent one.
        retry_after: seconds the service asked us to wait (``Retry-After``), if any.
        transient: True when trying again later may succeed (5xx, 429, network trouble).
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str = "Error",
        request_id: str | None = None,
        retry_after: float | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.transient = transient

    def __str__(self) -> str:
        status = f"HTTP {self.http_status} " if self.http_status is not None else ""
        return f"{self.summary} ({status}{self.code}): {self.message}"

    @property
    def summary(self) -> str:
        """A short phrase for people, e.g. 'Task not found'."""
        return "Could not check the task"


class TaskAPIError(SearchTaskError):
    """Search answered with an error status (4xx or 5xx)."""

    @property
    def summary(self) -> str:
        return _SUMMARIES.get(self.http_status or 0, "Search answered with an error")


class TaskNetworkError(SearchTaskError):
    """No answer from the service: connection refused or reset, DNS failure, timeout."""

    def __init__(self, message: str, *, code: str = "NetworkError") -> None:
        super().__init__(message, code=code, transient=True)

    @property
    def summary(self) -> str:
        return "Search could not be reached"


class TaskResponseError(SearchTaskError):
    """The service (or something in between) answered with an unusable body.

    For example a proxy's HTML error page, truncated JSON, or a document without ``state``.
    """

    @property
    def summary(self) -> str:
        return "Search sent an answer that is not a Task document"


class PollingStoppedError(SearchTaskError):
    """``wait()`` cannot finish: polling was stopped or the widget closed before the end."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="PollingStopped")

    @property
    def summary(self) -> str:
        return "Polling stopped"


class SignInRequiredError(SearchTaskError):
    """The widget has no usable credentials yet: sign in (the widget's "Sign in with
    Globus" panel, or ``finish_sign_in(code)``) or pass ``auth=``; ``message`` says how.

    ``wait()`` raises it instead of blocking, because the sign-in happens through the
    widget, on the same thread that ``wait()`` would block.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str = "SignInRequired",
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, http_status=http_status, code=code, request_id=request_id)

    @property
    def summary(self) -> str:
        return "Sign-in needed"


_SUMMARIES = {
    400: "Search refused the request",
    401: "Sign-in needed: the token is missing, invalid or expired",
    403: "Not allowed to see this task",
    404: "Task not found",
    408: "Search timed out",
    409: "Search reported a conflict",
    429: "Search asks us to slow down",
    500: "Search had an internal error",
    502: "A gateway in front of Search failed",
    503: "Search is unavailable",
    504: "Search timed out",
}


#: What :func:`advice` says when nothing specific helps: the widgets' words.
RETRY_ADVICE = "Call start() to try again."


def advice(
    error: SearchTaskError,
    index_id: str | None = None,
    *,
    otherwise: str = RETRY_ADVICE,
) -> str:
    """What a person can do about ``error``, in one sentence (``otherwise`` when nothing
    specific: the widgets' default suits a notebook, the terminal passes ``""``)."""
    index = f"index {index_id}" if index_id else "the task's index"
    if error.code in _ADVICE_BY_CODE:
        return _ADVICE_BY_CODE[error.code]
    return {
        400: "Check the task id.",
        401: "Sign in again or pass a fresh access token (auth=...).",
        403: f"The signed-in identity needs the owner, admin or writer role on {index}.",
        404: f"Check the task id, and that base_url / {SDK_ENVIRONMENT_ENV_VAR} point at the "
        "Search service where the task was created.",
    }.get(error.http_status or 0, otherwise)


#: Codes whose advice does not depend on the status: trying again cannot help them.
_ADVICE_BY_CODE = {
    "UnexpectedRedirect": "Check base_url: it must be the Search service itself (redirects "
    "are not followed, so that the token never goes elsewhere).",
    "CertificateError": "Check base_url; behind a proxy that inspects TLS, set "
    f"{VERIFY_SSL_ENV_VAR} to the path of its CA bundle.",
}


def expired_advice(source: str, *, can_sign_in: bool) -> str:
    """What to do after a 401 that the credentials could not fix, in a notebook:
    ``source`` says where they came from, ``can_sign_in`` whether a notebook sign-in
    can renew them."""
    if can_sign_in:
        return "Use 'Sign in again' in the widget (or start_sign_in()); polling then resumes."
    if HUB_ENV_VAR in source:
        return (
            "JupyterHub's tokens expire: log in to the hub again and restart your server "
            "from its control panel to get fresh ones, or set "
            f"${CLIENT_ID_ENV_VAR} to sign in here."
        )
    if TOKEN_ENV_VAR in source:
        return f"Set a fresh ${TOKEN_ENV_VAR} and call set_auth(None), or pass auth=."
    return "Call set_auth() with fresh credentials (a token, authorizer or GlobusApp)."


#: What a notebook sign-in needs and lacks.
SIGN_IN_NOT_CONFIGURED = (
    "notebook sign-in needs the client id of a Globus native app: set "
    f"${CLIENT_ID_ENV_VAR} (or pass client_id=...); "
    "register one at https://app.globus.org/settings/developers "
    "(see 'Signing in' in the search_task_widget docs)"
)

#: What to do in a notebook when no credentials were found.
NO_CREDENTIALS_ADVICE = (
    "No Globus credentials were found. Pass auth= (a SearchClient, GlobusApp, authorizer "
    f"or access token), set ${TOKEN_ENV_VAR}, or {SIGN_IN_NOT_CONFIGURED}."
)

#: What to do after a 401 in a terminal (which never signs in).
TERMINAL_EXPIRED_ADVICE = (
    f"Set ${TOKEN_ENV_VAR} to a fresh access token with the Search ingest scope, "
    "or sign in again from a notebook."
)


def no_credentials_advice(url: str, *, client_id: str = "", on_hub: bool = False) -> str:
    """What to do in a terminal when no credentials were found for ``url``: environment
    variables to set, and what was found but is not usable (``client_id``: the one set;
    ``on_hub``: JupyterHub's variable is set). Never a token."""
    lines = [f"no Globus credentials for {url}. This command never signs in; either:"]
    lines.append(
        f"  - put an access token (Search ingest or all scope) in ${TOKEN_ENV_VAR} without "
        f"typing it on the command line: read -rs {TOKEN_ENV_VAR} && export {TOKEN_ENV_VAR}"
    )
    if client_id:
        lines.append(
            f"  - sign in once from a notebook (stw.sign_in()) with the same "
            f"${CLIENT_ID_ENV_VAR}: none is stored yet for {client_id} under ~/.globus/app/"
        )
    else:
        lines.append(
            "  - sign in once from a notebook (stw.sign_in()), then export "
            f"{CLIENT_ID_ENV_VAR}=<that native app's client id> here so its stored tokens "
            "are found"
        )
    if on_hub:
        lines.append(
            f"${HUB_ENV_VAR} is set (JupyterHub) but holds no Search token: the hub admin "
            "must add a Search scope to GlobusOAuthenticator.scope and keep auth state; then "
            "log in to the hub again and restart your server"
        )
    return "\n".join(lines)


#: What replaces a secret in text for people.
REDACTED = "[redacted]"

# An Authorization value echoed by a proxy or a service ("Bearer abc...", "Authorization:
# abc..."), whatever the token: redacted even when it is not the one this client sent.
# At least 16 characters: tokens are long, and "Bearer token is invalid" keeps its words.
_ECHOED = re.compile(
    r"(?i)\b(bearer|authorization[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)(\s*)[^\s\"',;}\]]{16,}"
)


# The user name and password of a URL (scheme://user:password@host): base_url refuses
# them, but a redirect's Location or a service's message may still carry some.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]*@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets``, any echoed Authorization value and any URL's
    user name and password replaced."""
    for secret in secrets:
        if len(secret) >= 8:  # a short "secret" would shred ordinary words
            text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(rf"\1{REDACTED}@", text)
    return _ECHOED.sub(_redact_echo, text)


def _redact_echo(match: re.Match[str]) -> str:
    head, gap = match.group(1), match.group(2)
    return f"{head}{gap or ('' if head[-1:].isspace() else ' ')}{REDACTED}"


def scrubbed(error: _E, secrets: Iterable[str] = ()) -> _E:
    """``error`` ready to leave the package: redacted text with bidi controls escaped, no
    frames and no chained exceptions (their frames' locals held the request's headers)."""
    secrets = list(secrets)
    if isinstance(error, SearchTaskError):
        # Bidi controls as escapes, as in a Task document: the error text is shown live.
        error.message = redact(error.message, secrets).translate(BIDI_ESCAPES)
        error.code = redact(error.code, secrets).translate(BIDI_ESCAPES)
        error.args = (error.message,)
    error.__traceback__ = None
    error.__context__ = None
    error.__cause__ = None
    return error


def unsendable_reason(text: str) -> str | None:
    """Why ``text`` cannot go in an HTTP header, naming the character but never quoting
    the text (it is a token); None when it can."""
    for position, char in enumerate(text):
        if not (" " <= char <= "~"):
            name = unicodedata.name(char, "a control character")
            return f"contains {name.lower()} (U+{ord(char):04X}) at position {position + 1}"
    return None


class TaskListError(SearchTaskError):
    """:meth:`TaskListWidget.wait`: some tasks could not be watched to their end.

    Raised after every other task ended. ``http_status`` and ``code`` are those of the
    underlying errors when they all agree (e.g. 401 for an expired token), else None and
    ``"Several"``.

    Attributes:
        errors: task id -> the :class:`SearchTaskError` that stopped its watch (404, 403...).
        documents: the Task documents of the tasks that did end (FAILED ones included).
    """

    def __init__(
        self, errors: dict[str, SearchTaskError], documents: list[dict[str, Any]], total: int
    ) -> None:
        first = next(iter(errors.values()))
        same = all(
            (e.http_status, e.code) == (first.http_status, first.code) for e in errors.values()
        )
        shown = [f"task {tid}: {error}" for tid, error in list(errors.items())[:3]]
        if len(errors) > 3:
            shown.append(f"and {len(errors) - 3} more")
        super().__init__(
            f"{len(errors)} of {total} tasks: " + "; ".join(shown),
            http_status=first.http_status if same else None,
            code=first.code if same else "Several",
            request_id=first.request_id if len(errors) == 1 else None,
        )
        self.errors = errors
        self.documents = documents

    @property
    def summary(self) -> str:
        return "Some tasks could not be watched"
