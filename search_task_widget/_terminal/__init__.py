"""The terminal view: ``search-task-watch`` (``cli``) and its live status line (``view``).

May import: ``_tracking``, ``_service``, ``_model`` and ``simulator``. Never ``_views`` or the
widget stack: the command starts without anywidget, ipywidgets or IPython.
"""
