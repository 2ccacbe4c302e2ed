"""Turn what the user passed as ``auth=`` into something that makes Authorization headers.

Tokens and authorizers come from globus-sdk; this module only picks the right one. It never
logs, stores in a synced place, or puts in a message any token or header.
"""

from __future__ import annotations

import hashlib
import os
from typing import Protocol, runtime_checkable

#: An access token for scripts and CI, read when ``auth`` is not given.
TOKEN_ENV_VAR = "SEARCH_TASK_WIDGET_TOKEN"


@runtime_checkable
class Authorizer(Protocol):
    """The part of :class:`globus_sdk.authorizers.GlobusAuthorizer` the client uses."""

    def get_authorization_header(self) -> str | None: ...

    def handle_missing_authorization(self) -> bool: ...


ACCEPTED = (
    "an access token (str), a globus_sdk GlobusAuthorizer (e.g. AccessTokenAuthorizer, "
    "RefreshTokenAuthorizer), or None (use $SEARCH_TASK_WIDGET_TOKEN if set, else no token)"
)


def resolve_auth(auth: object) -> Authorizer | None:
    """Return an authorizer for ``auth``, or None to send no Authorization header.

    Raises :class:`TypeError` (listing what is accepted) for anything else and
    :class:`ValueError` for an empty token.
    """
    if auth is None:
        token = os.environ.get(TOKEN_ENV_VAR, "").strip()
        return _access_token(token) if token else None
    if isinstance(auth, str):
        if not auth.strip():
            raise ValueError("auth is an empty string: pass an access token, or None")
        return _access_token(auth.strip())
    if isinstance(auth, Authorizer):
        return auth
    raise TypeError(f"auth must be {ACCEPTED}; got a {type(auth).__name__}")


def _access_token(token: str) -> Authorizer:
    # globus-sdk's own static authorizer; imported here so that importing this package
    # does not pay for globus-sdk until a token is actually used.
    from globus_sdk import AccessTokenAuthorizer

    return AccessTokenAuthorizer(token)


def credential_key(auth: object) -> object:
    """A key that is equal for equal credentials, without keeping the token readable.

    Used to share one HTTP client among widgets that authenticate the same way.
    """
    if auth is None:
        token = os.environ.get(TOKEN_ENV_VAR, "").strip()
        return ("env", _fingerprint(token)) if token else ("none",)
    if isinstance(auth, str):
        return ("token", _fingerprint(auth.strip()))
    return ("object", id(auth))


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
