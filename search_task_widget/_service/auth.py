"""Turn what the user passed as ``auth=`` into credentials: an authorizer, where it came
from, and how to sign in again.

Tokens, authorizers, apps and sign-in all come from globus-sdk; this module only picks.
With ``auth=None`` it looks, in this order, for:

1. ``$SEARCH_TASK_WIDGET_TOKEN``: an access token (scripts, CI);
2. ``$GLOBUS_DATA``: the tokens JupyterHub's GlobusOAuthenticator hands over, if they
   hold a Search token;
3. tokens a previous notebook sign-in stored (needs ``$SEARCH_TASK_WIDGET_CLIENT_ID``);
4. otherwise the notebook sign-in (same variable).

A loopback service (the simulator, a test server) is asked without a token unless one is
passed explicitly (``auth=``) or ``$SEARCH_TASK_WIDGET_LOOPBACK_AUTH=1`` says that the
loopback service is yours: on a shared machine (a JupyterHub host) any user can listen on
127.0.0.1, so an ambient token (1-3) is not sent there by default.

Everything here runs on the kernel's main thread: GlobusApp is not thread safe, and asking
it for an authorizer may need a login. Nothing here logs, keeps in a synced place, or puts
in a message any token or header.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeGuard

from .._model.config import HUB_ENV_VAR, LOOPBACK_AUTH_ENV_VAR, TOKEN_ENV_VAR
from .._model.errors import NO_CREDENTIALS_ADVICE, unsendable_reason
from .client import Authorizer, host_of, is_loopback
from .hub import hub_search_token
from .login import (
    NotebookLogin,
    app_authorizer,
    configured_client_id,
    default_login,
    login_app,
    login_for,
    needs_sign_in,
    require_task_scope,
)

if TYPE_CHECKING:
    import globus_sdk


ACCEPTED = (
    "a globus_sdk.SearchClient, a globus_sdk GlobusApp (UserApp, ClientApp), a globus_sdk "
    "GlobusAuthorizer (e.g. AccessTokenAuthorizer, RefreshTokenAuthorizer), an access token "
    f"(str), or None (${TOKEN_ENV_VAR}, then JupyterHub's ${HUB_ENV_VAR}, then a stored "
    "notebook sign-in, else the notebook sign-in)"
)


@dataclass(frozen=True, eq=False)
class Credentials:
    """How a widget authenticates.

    Attributes:
        authorizer: makes the Authorization header; None sends no header (a loopback
            service, or while ``needs_sign_in``).
        key: equal for equal credentials, so widgets can share one HTTP client.
        source: where the credentials came from, for people ("$GLOBUS_DATA", ...).
        base_url: the Search service of a ``SearchClient`` passed as ``auth`` (or of a
            ``GlobusApp``'s environment), else None.
        login: the notebook sign-in that can (re)new these credentials, if any.
        needs_sign_in: nothing usable yet: sign in (``login``) or read ``missing``.
        missing: why there is no way to sign in here, and what to do ("" when there is).
    """

    authorizer: Authorizer | None
    key: object
    source: str
    base_url: str | None = None
    login: NotebookLogin | None = None
    needs_sign_in: bool = False
    missing: str = ""

    def __repr__(self) -> str:  # never the authorizer's attributes (tokens)
        return f"<Credentials from {self.source}>"


def resolve_auth(
    auth: object, *, loopback: bool = False, client_id: str | None = None
) -> Credentials:
    """The credentials for ``auth`` (see the module docstring for ``None``).

    ``loopback``: the service is on this machine, where no token is needed by default.
    ``client_id``: the native app to sign in with from a notebook (default
    ``$SEARCH_TASK_WIDGET_CLIENT_ID``).

    Raises:
        TypeError: ``auth`` of a kind not accepted (the message lists the kinds).
        ValueError: an empty token string.
    """
    if client_id is not None and not isinstance(client_id, str):
        raise TypeError(f"client_id must be a str, not {type(client_id).__name__}")
    if auth is None:
        return _from_environment(loopback, client_id)
    if isinstance(auth, str):
        if not auth.strip():
            raise ValueError("auth is an empty string: pass an access token, or None")
        return _static(auth.strip(), "the access token passed as auth=", client_id)
    if is_search_client(auth):
        return _from_search_client(auth, client_id)
    if _is_globus_app(auth):
        return _from_app(auth)
    if isinstance(auth, Authorizer):
        return Credentials(
            auth, ("object", id(auth)), f"the {type(auth).__name__} passed as auth=",
            login=default_login(client_id),
        )  # fmt: skip
    raise TypeError(f"auth must be {ACCEPTED}; got a {type(auth).__name__}")


def _from_environment(loopback: bool, client_id: str | None) -> Credentials:
    if loopback and LOOPBACK_AUTH_ENV_VAR.read() != "1":
        return Credentials(
            None, ("none",), "no token (a service on this machine: pass auth= or set "
            f"${LOOPBACK_AUTH_ENV_VAR}=1 to send one there)",
        )  # fmt: skip
    token = TOKEN_ENV_VAR.read()
    if token:
        return _static(token, f"${TOKEN_ENV_VAR}", client_id)
    token = hub_search_token() or ""
    if token:
        return _static(token, f"JupyterHub (${HUB_ENV_VAR})", client_id)
    if configured_client_id(client_id) is not None:
        stored = _from_app(login_app(client_id), source="notebook sign-in")
        if not (stored.needs_sign_in and loopback):
            return stored
    if loopback:
        return Credentials(None, ("none",), "no token (a service on this machine)")
    return Credentials(
        None, ("none",), "nothing", needs_sign_in=True,
        missing=NO_CREDENTIALS_ADVICE,
    )  # fmt: skip


def _static(token: str, source: str, client_id: str | None) -> Credentials:
    from globus_sdk import AccessTokenAuthorizer

    reason = unsendable_reason(token)
    if reason is not None:
        # Refused before any request; the message never quotes the token.
        raise ValueError(
            f"{source} {reason}, so it cannot be sent in an HTTP header: copy the token "
            "again without it"
        )

    return Credentials(
        AccessTokenAuthorizer(token), ("token", _fingerprint(token)), source,
        login=default_login(client_id),
    )  # fmt: skip


def _from_app(app: globus_sdk.GlobusApp, source: str | None = None) -> Credentials:
    from globus_sdk import ClientApp
    from globus_sdk.config import get_service_url

    source = source or f"the {type(app).__name__} {app.app_name!r}"
    url = get_service_url("search", environment=app.config.environment)
    require_task_scope(app)
    login = login_for(app)
    # A ClientApp gets its tokens without a person (client credentials); a UserApp is
    # asked for its authorizer only once it has tokens: asking earlier would start its
    # own login flow (a prompt on input(), or a browser on the kernel's machine).
    if not isinstance(app, ClientApp) and needs_sign_in(app):
        missing = "" if login else (
            f"{source} has no usable tokens, and its confidential client cannot sign in "
            "from a notebook: call its login() first, then set_auth() with it"
        )  # fmt: skip
        return Credentials(None, ("app", id(app)), source, url, login, True, missing)
    authorizer = app_authorizer(app)
    return Credentials(authorizer, ("object", id(authorizer)), source, url, login)


def _from_search_client(client: globus_sdk.SearchClient, client_id: str | None) -> Credentials:
    # globus-sdk 4 keeps a client's app private (``_app``); its authorizer is public.
    app = getattr(client, "_app", None)
    if app is not None:
        found = _from_app(app)
    elif client.authorizer is not None:
        authorizer = client.authorizer
        found = Credentials(
            authorizer, ("object", id(authorizer)), f"the {type(authorizer).__name__}",
            login=default_login(client_id),
        )  # fmt: skip
    else:
        found = _from_environment(is_loopback(host_of(client.base_url)), client_id)
    return Credentials(
        found.authorizer, found.key, f"{found.source} of the SearchClient",
        base_url=client.base_url, login=found.login, needs_sign_in=found.needs_sign_in,
        missing=found.missing,
    )  # fmt: skip


def is_search_client(auth: object) -> TypeGuard[globus_sdk.SearchClient]:
    """Whether ``auth`` is a ``globus_sdk.SearchClient``."""
    from globus_sdk import SearchClient

    return isinstance(auth, SearchClient)


def _is_globus_app(auth: object) -> TypeGuard[globus_sdk.GlobusApp]:
    from globus_sdk import GlobusApp

    return isinstance(auth, GlobusApp)


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
