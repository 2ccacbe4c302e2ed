"""Sign in to Globus from inside a notebook, with globus-sdk doing the OAuth2 work.

globus-sdk's login flow managers either open a browser on the machine that runs the kernel
(useless on a hub) or block on ``input()``; a widget cannot block the kernel's main thread,
because the click it waits for arrives on that same thread. So the flow is split in two
steps, both short and both on the main thread (widget callbacks run there):

1. :meth:`NotebookLogin.start` begins a native-app flow (PKCE; the redirect is Globus
   Auth's page that shows the user a code) and returns the authorize URL, which the
   widget shows as a link;
2. :meth:`NotebookLogin.finish` exchanges the pasted code for tokens and stores them in
   the app's token storage, through globus-sdk (a JSON file of mode 0600 by default).

One :class:`NotebookLogin` serves every widget of one ``UserApp``: a code pasted into any
of them signs them all in, and the next widget finds the stored tokens.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # globus-sdk is imported only when a sign-in is actually needed
    import globus_sdk

    from .client import Authorizer

from .._model.config import CLIENT_ID_ENV_VAR, SEARCH_RESOURCE_SERVER
from .._model.errors import SIGN_IN_NOT_CONFIGURED

log = logging.getLogger("search_task_widget")

#: The name under which :func:`login_app` stores tokens (``~/.globus/app/<client id>/<name>``).
APP_NAME = "search-task-widget"
#: Either of these scopes lets a token read tasks (``GET /v1/task/...``).
TASK_SCOPES = tuple(
    f"urn:globus:auth:scope:{SEARCH_RESOURCE_SERVER}:{name}" for name in ("ingest", "all")
)


class SignInError(Exception):
    """A sign-in step failed; the message says what to do, and never quotes a secret."""


def configured_client_id(client_id: str | None = None) -> str | None:
    """``client_id`` if given, else ``$SEARCH_TASK_WIDGET_CLIENT_ID``, else None."""
    value = client_id if client_id is not None else CLIENT_ID_ENV_VAR.read()
    return value.strip() or None


_default_apps: dict[tuple[str, str], globus_sdk.UserApp] = {}
_default_apps_lock = threading.Lock()


def login_app(
    client_id: str | None = None, *, environment: str | None = None
) -> globus_sdk.UserApp:
    """The ``globus_sdk.UserApp`` that notebook sign-in uses, one per client id.

    It asks for Search's ``ingest`` scope (enough to watch tasks and to ingest), keeps
    refresh tokens so a session outlives the 2 h access token, stores them with
    globus-sdk's default JSON storage (``~/.globus/app/<client id>/search-task-widget/``,
    mode 0600), and never starts an interactive login by itself: a widget shows the
    notebook sign-in instead. Pass it as ``auth=`` and to ``SearchClient(app=...)``.

    Raises:
        ValueError: no client id given and ``$SEARCH_TASK_WIDGET_CLIENT_ID`` unset.
    """
    resolved = configured_client_id(client_id)
    if resolved is None:
        raise ValueError(SIGN_IN_NOT_CONFIGURED)
    import globus_sdk
    from globus_sdk.config import get_environment_name
    from globus_sdk.scopes import SearchScopes

    env = environment or get_environment_name()
    with _default_apps_lock:
        app = _default_apps.get((resolved, env))
        if app is None:
            app = _default_apps[(resolved, env)] = globus_sdk.UserApp(
                APP_NAME,
                client_id=resolved,
                scope_requirements={SEARCH_RESOURCE_SERVER: [SearchScopes.ingest]},
                config=globus_sdk.GlobusAppConfig(
                    request_refresh_tokens=True,
                    token_validation_error_handler=None,  # never log in on our behalf
                    environment=env,
                ),
            )
        return app


def require_task_scope(app: globus_sdk.GlobusApp) -> None:
    """Make ``app`` ask for a scope that can read tasks, unless it already does."""
    from globus_sdk.scopes import SearchScopes

    wanted = app.scope_requirements.get(SEARCH_RESOURCE_SERVER, [])
    if not any(str(scope) in TASK_SCOPES for scope in wanted):
        app.add_scope_requirements({SEARCH_RESOURCE_SERVER: [SearchScopes.ingest]})


def needs_sign_in(app: globus_sdk.GlobusApp) -> bool:
    """True when ``app`` has no usable Search tokens (checked without starting a login)."""
    return bool(app.login_required())


def app_authorizer(app: globus_sdk.GlobusApp) -> Authorizer:
    """The app's Search authorizer; call only when :func:`needs_sign_in` is False.

    On the main thread only: GlobusApp is not thread safe, and the poller thread merely
    uses the authorizer returned here.
    """
    return app.get_authorizer(SEARCH_RESOURCE_SERVER)


class SignInListener(Protocol):
    """What a widget offers a :class:`NotebookLogin`: a call when the sign-in succeeded."""

    def on_signed_in(self, authorizer: Authorizer) -> None: ...


class NotebookLogin:
    """The two-step sign-in of one ``UserApp`` (a native app), shared by its widgets.

    Not for the poller thread: every method runs on the kernel's main thread.
    """

    def __init__(self, app: globus_sdk.UserApp) -> None:
        import globus_sdk

        self.app = app
        self._auth_client = globus_sdk.NativeAppAuthClient(
            client_id=app.client_id, environment=app.config.environment, app_name=app.app_name
        )
        self._url: str | None = None
        self._listeners: weakref.WeakSet[SignInListener] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"<NotebookLogin app={self.app.app_name!r} client_id={self.app.client_id}>"

    @property
    def authorize_url(self) -> str | None:
        """The link of the sign-in in progress, or None."""
        return self._url

    def subscribe(self, listener: SignInListener) -> None:
        """Call ``listener.on_signed_in(authorizer)`` after a successful sign-in.

        Held weakly: a forgotten widget does not stay alive for its sign-in.
        """
        self._listeners.add(listener)

    def unsubscribe(self, listener: SignInListener) -> None:
        self._listeners.discard(listener)

    def start(self) -> str:
        """Begin (or keep) a sign-in flow and return the URL to open.

        No network: the URL carries the PKCE challenge, the verifier stays in this kernel.
        """
        if self._url is None:
            redirect = self._auth_client.base_url + "v2/web/auth-code"
            self._auth_client.oauth2_start_flow(
                [str(s) for scopes in self.app.scope_requirements.values() for s in scopes],
                redirect_uri=redirect,
                refresh_tokens=self.app.config.request_refresh_tokens,
                prefill_named_grant=f"{self.app.app_name} (Jupyter)",
            )
            self._url = self._auth_client.oauth2_get_authorize_url()
        return self._url

    def finish(self, code: str) -> Authorizer:
        """Exchange the code the user pasted for tokens, store them, tell the widgets.

        Raises:
            SignInError: no sign-in in progress, an empty or refused code, or tokens
                that do not cover Search; a new :meth:`start` may be needed.
        """
        import globus_sdk

        code = (code or "").strip()
        if self._url is None:
            raise SignInError("no sign-in is in progress: open the sign-in link first")
        if not code:
            raise SignInError("paste the code that the Globus sign-in page shows")
        try:
            tokens = self._auth_client.oauth2_exchange_code_for_tokens(code)
            self.app.token_storage.store_token_response(tokens)
        except globus_sdk.GlobusAPIError as error:
            self._url = None  # a code is single use: the next try needs a new flow
            raise SignInError(
                f"Globus Auth refused the code ({error.http_status} {error.code}): codes are "
                "single use and expire within minutes; open the new sign-in link and try again"
            ) from None
        except globus_sdk.NetworkError as error:
            raise SignInError(
                f"could not reach Globus Auth ({type(error).__name__}); try again"
            ) from None
        except globus_sdk.GlobusError as error:  # a token validator refused the tokens
            self._url = None
            if type(error).__name__ == "IdentityMismatchError":
                raise SignInError(
                    "you signed in as another identity than the stored sign-in's: sign in "
                    "with the same identity, or sign out first (the app's logout())"
                ) from None
            raise SignInError(f"the sign-in could not be stored: {type(error).__name__}") from None
        self._url = None
        # A new login replaces the app's tokens, but the app keeps handing out the
        # authorizer it cached for the old ones; add_scope_requirements() is the public
        # call that drops that cache (globus-sdk 4 has no other).
        self.app.add_scope_requirements({SEARCH_RESOURCE_SERVER: []})
        if needs_sign_in(self.app):
            raise SignInError(
                "the sign-in did not grant access to Globus Search; try again and accept "
                "every requested permission"
            )
        authorizer = app_authorizer(self.app)
        for listener in list(self._listeners):
            try:
                listener.on_signed_in(authorizer)
            except Exception as error:  # one broken widget must not keep the others waiting
                log.warning("a widget failed to resume after sign-in (%s)", type(error).__name__)
        return authorizer


_logins: weakref.WeakKeyDictionary[Any, NotebookLogin] = weakref.WeakKeyDictionary()


def login_for(app: globus_sdk.GlobusApp) -> NotebookLogin | None:
    """The shared :class:`NotebookLogin` of ``app``; None when a notebook cannot sign it in
    (a ClientApp, or a confidential client)."""
    import globus_sdk

    if not isinstance(app, globus_sdk.UserApp) or _is_confidential(app):
        return None
    login = _logins.get(app)
    if login is None:
        login = _logins[app] = NotebookLogin(app)
    return login


def _is_confidential(app: globus_sdk.UserApp) -> bool:
    import globus_sdk

    # GlobusApp keeps its login client private; its type is what tells a native app
    # (which can run this PKCE flow) from a confidential one.
    return isinstance(getattr(app, "_login_client", None), globus_sdk.ConfidentialAppAuthClient)


def default_login(client_id: str | None = None) -> NotebookLogin | None:
    """The notebook sign-in of :func:`login_app` when a client id is given or configured."""
    if configured_client_id(client_id) is None:
        return None
    return login_for(login_app(client_id))
