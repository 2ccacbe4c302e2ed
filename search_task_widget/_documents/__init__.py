"""What a finished widget leaves behind: HTML documents that need no kernel.

Holds a task's and a list's document (``document``), the static SVG timeline
(``timeline_svg``) and the self-contained page of ``to_html`` (``static``).

May import: ``_model`` only (documents are drawn from rows, never from live objects).
"""
