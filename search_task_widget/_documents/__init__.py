"""What a finished widget leaves behind: HTML documents that need no kernel.

Holds a task's and a list's document (``document``), the static SVG timeline
(``timeline_svg``) and the plain snapshot pages (``static``).

May import: ``_model`` only (documents are drawn from rows, never from live objects).
"""
