"""The model: what a task is and what the package says about it, with no I/O.

Holds the Task document and the state vocabulary (``task``), the errors every layer raises
and the advice they carry (``errors``), and the settings read from the environment
(``config``, the package's only reader of ``os.environ``), and Search's published limits
(``limits``: the ingest job checks entries against them, the simulator enforces them).

May import: the standard library only (no other layer of the package, no widget stack,
no HTTP client).
"""
