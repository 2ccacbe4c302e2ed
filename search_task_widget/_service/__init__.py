"""The service client and credentials: how the package talks to Globus Search.

Holds the pooled httpx client and its request workers (``client``, ``requests``), the
credentials resolved through globus-sdk (``auth``, ``login``, ``hub``) and what a
globus-sdk reply tells about the task it created (``reply``).

May import: ``_model``. Never the widget stack; globus-sdk only inside functions (lazily).
"""
