"""Ingesting a catalogue: read, validate, batch, submit, watch and recover.

Search's limits, which entries are checked against, are ``_model.limits`` (the simulator
enforces the same ones).

Holds reading entries from iterables, GIngest
documents and ``.json`` / ``.jsonl`` files (``entries``), the checks an entry must pass
before it is sent (``validate``), order-keeping batching (``batches``), the SQLite journal
that lets a job resume after its process died (``journal``), submission within the
poller's request budget (``submit``), mapping a failed batch to its entries
(``failures``) and the :class:`~.job.IngestJob` core (``job``).

May import: ``_tracking``, ``_service`` and ``_model``. Never the widget stack: the live
notebook view of a job lives in ``_views``.
"""
