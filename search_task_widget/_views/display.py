"""Showing a widget once: ``show()`` followed by the same widget as the cell's result.

``stw.watch(...)`` or ``stw.sign_in(...)`` as a cell's last line both display the widget
and return it; IPython would then display the returned widget a second time. The widget
remembers the cell it was shown in and skips that second display. Outside IPython and
marimo (a script, the plain Python prompt) ``show()`` shows nothing: the prompt prints the
returned widget's text form once, a script prints nothing it was not asked to.
"""

from __future__ import annotations

from .host import running_in_marimo


def execution_count() -> int | None:
    """The IPython cell being run, or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    shell = get_ipython()
    return getattr(shell, "execution_count", None) if shell is not None else None


def in_ipython() -> bool:
    """Whether this runs inside IPython (a kernel or IPython's terminal)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    return get_ipython() is not None


class ShownOnce:
    """Mixin for widgets: :meth:`show` them, and the cell's result adds no second view."""

    _shown_in_cell: int | None = None

    def show(self) -> None:
        """Display the widget in the current cell; outside IPython and marimo, do nothing.

        Outside IPython, ``display()`` would print the text form: in a script that is a
        line nobody asked for, and in the plain Python prompt a second copy of the one
        the prompt prints for the returned widget.
        """
        if not (in_ipython() or running_in_marimo()):  # marimo shows display()'s objects
            return
        from IPython.display import display

        display(self)
        self._shown_in_cell = execution_count()

    def _shown_just_now(self) -> bool:
        """True (once) when :meth:`show` already displayed this widget in this cell."""
        if self._shown_in_cell is not None and self._shown_in_cell == execution_count():
            self._shown_in_cell = None
            return True
        return False
