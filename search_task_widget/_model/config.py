"""Every environment variable the package reads: its name, default and meaning, once.

The other modules read the environment only through the :class:`EnvVar` constants here
(``tests/test_config.py`` checks, and that the reference page lists each one). A variable
is a ``str`` (its name), so ``f"${TOKEN_ENV_VAR}"`` names it in a message and
``TOKEN_ENV_VAR.read()`` reads it.

Some variables belong to others and are read here only to decide what to do: globus-sdk's
``GLOBUS_SDK_*`` (which globus-sdk itself parses), JupyterHub's ``GLOBUS_DATA`` and the
variables Voila sets in its kernels. httpx also reads its usual ``HTTP(S)_PROXY``,
``ALL_PROXY`` and ``NO_PROXY``, which this package never reads itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Who defines a variable this package reads.
OURS = "search-task-widget"
GLOBUS_SDK = "globus-sdk"
HTTPX = "httpx"
JUPYTERHUB = "JupyterHub"
VOILA = "Voila"


class EnvVar(str):
    """An environment variable: a ``str`` (its name) with a default and a description.

    Attributes:
        default: what an unset or blank variable means, as text ("" for nothing).
        doc: one sentence for people: what the variable does.
        defined_by: who defines it (:data:`OURS`, :data:`GLOBUS_SDK`, ...).
    """

    default: str
    doc: str
    defined_by: str

    # doc has a default only so that copy and pickle (which pass the name alone) work.
    def __new__(
        cls, name: str, *, doc: str = "", default: str = "", defined_by: str = OURS
    ) -> EnvVar:
        self = super().__new__(cls, name)
        self.default, self.doc, self.defined_by = default, doc, defined_by
        return self

    @property
    def name(self) -> str:
        """The variable's name, as a plain ``str``."""
        return str.__str__(self)

    def read(self, environ: Mapping[str, str] | None = None) -> str:
        """The value without surrounding whitespace, or :attr:`default` when unset or blank.

        ``environ`` replaces ``os.environ`` (tests, or a subprocess's environment).
        """
        return environment(environ).get(self, "").strip() or self.default

    def is_set(self, environ: Mapping[str, str] | None = None) -> bool:
        """Whether the variable is set to anything but the empty string."""
        return bool(environment(environ).get(self, ""))


def environment(environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """``environ``, or this process's environment when None."""
    return os.environ if environ is None else environ


# -- ours ----------------------------------------------------------------------------

TOKEN_ENV_VAR = EnvVar(
    "SEARCH_TASK_WIDGET_TOKEN",
    doc="An access token with the Search ingest (or all) scope, for auth=None: scripts, CI "
    "and the terminal watcher. The first place auth=None looks.",
)
CLIENT_ID_ENV_VAR = EnvVar(
    "SEARCH_TASK_WIDGET_CLIENT_ID",
    doc="The client id of a Globus native app: the notebook sign-in (and login_app()) "
    "signs in with it and finds the tokens it stored.",
)
LOOPBACK_AUTH_ENV_VAR = EnvVar(
    "SEARCH_TASK_WIDGET_LOOPBACK_AUTH",
    doc="1 sends the credentials auth=None finds (a token, hub tokens, a stored sign-in) to "
    "a Search service on 127.0.0.1 too; otherwise a loopback service gets no token.",
)
DEMO_SPEED_ENV_VAR = EnvVar(
    "SEARCH_TASK_WIDGET_DEMO_SPEED",
    default="1",
    doc="Runs the tasks of demo() that many times faster (a positive number), on top of its "
    "speed argument: for tutorials executed by tests or a documentation build.",
)

# -- JupyterHub --------------------------------------------------------------------------

HUB_ENV_VAR = EnvVar(
    "GLOBUS_DATA",
    defined_by=JUPYTERHUB,
    doc="The tokens JupyterHub's GlobusOAuthenticator hands each user's server "
    "(base64 of a pickle); its Search token is used when auth=None.",
)

# -- globus-sdk (parsed by globus-sdk; read here only to know whether they are set) ------

HTTP_TIMEOUT_ENV_VAR = EnvVar(
    "GLOBUS_SDK_HTTP_TIMEOUT",
    defined_by=GLOBUS_SDK,
    default="5",
    doc="Seconds to wait for each connect or read (-1: no limit), at most the 20 s a "
    "request may take as a whole; default 5 here (globus-sdk's own default is 60).",
)
VERIFY_SSL_ENV_VAR = EnvVar(
    "GLOBUS_SDK_VERIFY_SSL",
    defined_by=GLOBUS_SDK,
    default="true",
    doc="false to skip certificate checks, or the path of a CA bundle to trust (a "
    "TLS-inspecting proxy's).",
)
SERVICE_URL_ENV_VAR = EnvVar(
    "GLOBUS_SDK_SERVICE_URL_SEARCH",
    defined_by=GLOBUS_SDK,
    doc="The Search service URL when base_url is not given (before GLOBUS_SDK_ENVIRONMENT).",
)
SDK_ENVIRONMENT_ENV_VAR = EnvVar(
    "GLOBUS_SDK_ENVIRONMENT",
    defined_by=GLOBUS_SDK,
    default="production",
    doc="The Globus environment (production, preview, ...) of the default Search service "
    "and of the notebook sign-in.",
)

# -- httpx (read by httpx when certificates are checked as by default; here only to
# know when the shared SSL context must be built again) ---------------------------------

SSL_CERT_FILE_ENV_VAR = EnvVar(
    "SSL_CERT_FILE",
    defined_by=HTTPX,
    doc="A CA bundle to trust instead of certifi's, when GLOBUS_SDK_VERIFY_SSL names none.",
)
SSL_CERT_DIR_ENV_VAR = EnvVar(
    "SSL_CERT_DIR",
    defined_by=HTTPX,
    doc="A directory of CA certificates, as SSL_CERT_FILE (which comes first).",
)

# -- Voila (set in the kernels it starts) ------------------------------------------------

VOILA_SERVER_ENV_VAR = EnvVar(
    "SERVER_SOFTWARE",
    defined_by=VOILA,
    doc="Starts with voila/ in a kernel that Voila started: widgets then stay live views.",
)
VOILA_BASE_URL_ENV_VAR = EnvVar(
    "VOILA_BASE_URL", defined_by=VOILA, doc="Set by Voila: as SERVER_SOFTWARE."
)
VOILA_KERNEL_ID_ENV_VAR = EnvVar(
    "VOILA_KERNEL_ID", defined_by=VOILA, doc="Set by Voila: as SERVER_SOFTWARE."
)

#: Every variable above, in the order the reference page lists them.
ENV_VARS: tuple[EnvVar, ...] = (
    TOKEN_ENV_VAR,
    CLIENT_ID_ENV_VAR,
    LOOPBACK_AUTH_ENV_VAR,
    DEMO_SPEED_ENV_VAR,
    HUB_ENV_VAR,
    HTTP_TIMEOUT_ENV_VAR,
    VERIFY_SSL_ENV_VAR,
    SERVICE_URL_ENV_VAR,
    SDK_ENVIRONMENT_ENV_VAR,
    SSL_CERT_FILE_ENV_VAR,
    SSL_CERT_DIR_ENV_VAR,
    VOILA_SERVER_ENV_VAR,
    VOILA_BASE_URL_ENV_VAR,
    VOILA_KERNEL_ID_ENV_VAR,
)

# -- facts about the service that sign-in and hub tokens share ---------------------------

#: The resource server of Globus Search: the key of its tokens.
SEARCH_RESOURCE_SERVER = "search.api.globus.org"
