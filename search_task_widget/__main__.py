"""``python -m search_task_widget watch TASK_ID``: follow a Search task from a terminal."""

from ._terminal.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
