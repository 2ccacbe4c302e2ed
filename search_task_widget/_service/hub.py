"""The Search token that JupyterHub hands to a single-user server in ``GLOBUS_DATA``.

oauthenticator's ``GlobusOAuthenticator`` (with ``enable_auth_state``) sets
``GLOBUS_DATA = base64(pickle(auth_state))`` in each user's server environment. The Search
token is at ``["tokens"]["search.api.globus.org"]["access_token"]`` when the hub admin
added a Search scope.

Unpickling runs code chosen by whoever wrote the data. It is done here only because the
variable is set by the hub, which also starts this very process (so it could run anything
in it anyway); nothing else is ever unpickled. Decoding problems are logged without any of
the variable's content and treated as "no hub token".
"""

from __future__ import annotations

import base64
import logging
import pickle
from collections.abc import Mapping

from .._model.config import HUB_ENV_VAR, SEARCH_RESOURCE_SERVER

log = logging.getLogger("search_task_widget")


def hub_search_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The Search access token in ``$GLOBUS_DATA``, or None (unset, unreadable, or no
    Search token in it)."""
    value = HUB_ENV_VAR.read(environ)
    if not value:
        return None
    auth_state = _decode(value)
    tokens = auth_state.get("tokens") if isinstance(auth_state, Mapping) else None
    entry = tokens.get(SEARCH_RESOURCE_SERVER) if isinstance(tokens, Mapping) else None
    token = entry.get("access_token") if isinstance(entry, Mapping) else None
    if not isinstance(token, str) or not token.strip():
        log.info(
            "$%s holds no %s token: ask the hub admin to add a Search scope",
            HUB_ENV_VAR,
            SEARCH_RESOURCE_SERVER,
        )
        return None
    return token.strip()


def _decode(value: str) -> object:
    try:
        raw = base64.b64decode(value, validate=False)
        return pickle.loads(raw)  # set by JupyterHub: see the module docstring
    except Exception as error:  # unpickling can fail in any way; none of them may escape
        # The type only: the message could quote the (secret) data.
        log.warning("could not decode $%s (%s); ignoring it", HUB_ENV_VAR, type(error).__name__)
        return None
