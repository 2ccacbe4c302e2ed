"""The model: what a task is and what the package says about it, with no I/O.

Holds the Task document (``task``), the words for states, their order, tones, palette and
dates, written once (``vocabulary``), the errors every layer raises and every advice
sentence (``errors``), Search's published limits (``limits``: the ingest job checks entries
against them, the simulator enforces them) and the settings read from the environment
(``config``, the package's only reader of ``os.environ``).

May import: the standard library only (no other layer of the package, no widget stack,
no HTTP client).
"""
