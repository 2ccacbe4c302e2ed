"""Globus Auth, mocked through globus-sdk's own testing tools (``globus_sdk.testing`` on
``responses``): the token endpoint, and the OpenID configuration and signing key that
globus-sdk fetches to check the ``id_token`` of a sign-in.

``responses`` mocks ``requests`` only, which is what globus-sdk uses; the widget's own
requests to the (loopback) fake Search service go through httpx and are untouched.

Use :func:`mocked_auth` as a context manager; it yields an :class:`AuthMock` whose
``token_requests()`` are the form bodies posted to the token endpoint.
"""

from __future__ import annotations

import base64
import json
import pickle
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs

import globus_sdk
import jwt
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from globus_sdk.testing import RegisteredResponse

#: A made-up native app client id and the identity that signs in.
CLIENT_ID = "0c4b6f7e-3d0a-4a53-9d6c-7f1b0d2e9a11"
IDENTITY_ID = "8d2f1c0e-5b6a-4e7d-9c3b-2a1f0e9d8c7b"
INGEST_SCOPE = "urn:globus:auth:scope:search.api.globus.org:ingest"
JWKS_URL = "https://auth.globus.org/jwk.json"

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def fake_token(kind: str) -> str:
    """A token-shaped random string, built at run time (no secret-looking literal in git)."""
    return f"{kind}-{uuid.uuid4().hex}{uuid.uuid4().hex}"


def id_token(client_id: str = CLIENT_ID, identity_id: str = IDENTITY_ID) -> str:
    now = int(time.time())
    claims = {
        "sub": identity_id,
        "aud": client_id,
        "iss": "https://auth.globus.org",
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, _KEY, algorithm="RS512")


def code_grant_response(
    search_token: str,
    refresh_token: str | None = None,
    *,
    client_id: str = CLIENT_ID,
    identity_id: str = IDENTITY_ID,
) -> dict:
    """What Globus Auth answers to an authorization-code exchange: an Auth token with an
    ``id_token``, and the Search token in ``other_tokens``."""
    return {
        "access_token": fake_token("auth"),
        "scope": "openid",
        "resource_server": "auth.globus.org",
        "expires_in": 172800,
        "token_type": "Bearer",
        "state": "_default",
        "id_token": id_token(client_id, identity_id),
        "refresh_token": fake_token("auth-refresh") if refresh_token else None,
        "other_tokens": [
            {
                "access_token": search_token,
                "scope": INGEST_SCOPE,
                "resource_server": "search.api.globus.org",
                "expires_in": 172800,
                "token_type": "Bearer",
                "state": "_default",
                "refresh_token": refresh_token,
            }
        ],
    }


def refresh_grant_response(search_token: str, expires_in: int = 172800) -> dict:
    """What Globus Auth answers to a refresh-token grant for Search."""
    return {
        "access_token": search_token,
        "scope": INGEST_SCOPE,
        "resource_server": "search.api.globus.org",
        "expires_in": expires_in,
        "token_type": "Bearer",
        "state": "_default",
        "other_tokens": [],
    }


class AuthMock:
    """The active mock: register token answers, read what was posted."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock

    def answer_token_request(self, body: dict, status: int = 200) -> None:
        """Queue one answer of the token endpoint (answers are used in order)."""
        RegisteredResponse(
            service="auth", path="/v2/oauth2/token", method="POST", json=body, status=status
        ).add(requests_mock=self.mock)

    def token_requests(self) -> list[dict[str, str]]:
        """The form bodies posted to the token endpoint, oldest first."""
        found = []
        for call in self.mock.calls:
            if call.request.url.endswith("/v2/oauth2/token"):
                body = call.request.body or ""
                text = body.decode() if isinstance(body, bytes) else body
                found.append({k: v[0] for k, v in parse_qs(text).items()})
        return found


@contextmanager
def mocked_auth() -> Iterator[AuthMock]:
    """Mock Globus Auth for the duration of the block (any other requests URL fails)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        RegisteredResponse(
            service="auth",
            path="/.well-known/openid-configuration",
            json={
                "issuer": "https://auth.globus.org",
                "jwks_uri": JWKS_URL,
                "id_token_signing_alg_values_supported": ["RS512"],
            },
        ).add(requests_mock=mock)
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_KEY.public_key()))
        # A full URL (the configuration above names it), so no service.
        RegisteredResponse(path=JWKS_URL, json={"keys": [public_jwk]}).add(requests_mock=mock)
        yield AuthMock(mock)


def globus_data(search_token: str | None) -> str:
    """``GLOBUS_DATA`` as GlobusOAuthenticator builds it: base64(pickle(auth_state))."""
    tokens = {"auth.globus.org": {"access_token": fake_token("hub-auth"), "expires_in": 172800}}
    if search_token is not None:
        tokens["search.api.globus.org"] = {
            "access_token": search_token,
            "scope": INGEST_SCOPE,
            "expires_in": 172800,
            "refresh_token": fake_token("hub-refresh"),
        }
    auth_state = {"client_id": "hub-client", "tokens": tokens}
    return base64.b64encode(pickle.dumps(auth_state)).decode()


def store_sign_in(app: globus_sdk.UserApp, auth, token: str) -> None:
    """Store tokens in ``app`` as a finished sign-in would (through globus-sdk)."""
    from search_task_widget._service.auth import resolve_auth
    from search_task_widget._service.login import login_for

    resolve_auth(app)  # adds the ingest requirement, as a widget would
    login = login_for(app)
    login.start()
    auth.answer_token_request(code_grant_response(token, fake_token("refresh")))
    login.finish("code")
