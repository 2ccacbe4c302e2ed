"""Tracking: the one background poller and the core every view draws.

Holds when to ask (``schedule``), the poller thread that asks for every watch
(``poller``, with ``cells`` and ``marimo`` for the host's execution context) and the
widget-free tracking core, ``TaskGroup`` (``group``).

May import: ``_service`` and ``_model``. Never the widget stack (a view implements
``GroupView``).
"""
