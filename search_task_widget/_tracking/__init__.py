"""Tracking: the one background poller and the core every view draws.

Holds when to ask (``schedule``), the poller thread that asks for every watch
(``poller``, with ``cells`` and ``marimo`` for the host's execution context), the
widget-free tracking core, ``TaskGroup`` (``group``), the policies a view chooses for when
it is told (``news``: ``PerAnswer``, ``PerRound``) and what a view shows of a task
(``rows``).

May import: ``_service`` and ``_model``. Never the widget stack (a view implements
``GroupView``).
"""
