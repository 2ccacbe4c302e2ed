"""The notebook views: the widgets and the entry points that make them.

Holds ``TaskWidget`` (``widget``), ``TaskListWidget`` (``list_widget``), what both share
(``base``), the sign-in panel (``sign_in``), the shared front-end models and bundles
(``front_end``, ``assets``), displaying in the host (``display``, ``host``) and
``watch()``/``demo()`` (``watch``).

May import: every layer below (``_tracking``, ``_documents``, ``_service``, ``_model``) and
``simulator``. The only layer that imports anywidget, ipywidgets, traitlets or IPython.
"""
