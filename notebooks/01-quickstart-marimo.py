import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Watching Globus Search tasks")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # Watching Globus Search tasks: a quick start (marimo)

    This notebook is for people learning [Globus Search](https://docs.globus.org/api/search/).
    It runs entirely on your own machine: a small simulator built into `search_task_widget`
    plays the part of the Search service, so you need **no Globus account and no network**.

    Open it with `marimo edit notebooks/01-quickstart-marimo.py`, or as an app with
    `marimo run notebooks/01-quickstart-marimo.py`. (The Jupyter version is
    `01-quickstart.ipynb`.)

    ## What is a Search task?

    When you send documents to a Search index (`SearchClient.ingest`), the service does
    **not** index them while you wait. It checks the request, queues the work and answers
    at once with a `task_id`. So that answer only means *accepted*: if some documents turn
    out to be bad, the ingest call has still said `200 OK`. **Failures only show up in the
    task**, which you read with `SearchClient.get_task`. Deletions (`delete_by_query`,
    `batch_delete_by_subject`) create tasks too.

    | state | meaning | final? |
    |---|---|---|
    | `CREATING` | the task is being set up | no |
    | `PENDING` | queued, waiting for its turn | no |
    | `PROGRESS` | running; searches may already see part of the data | no |
    | `SUCCESS` | done | yes |
    | `FAILED` | did not complete; part of the data may have been processed | yes |

    There is no percentage or count: the state is all the progress a task reports.
    """)
    return


@app.cell
def _():
    import marimo as mo

    import search_task_widget as stw

    return mo, stw


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## A live task

    `stw.demo()` submits a task to the simulator and returns a widget that follows it
    through its states. A widget is shown like any other marimo output: as a cell's last
    expression, as here, or wrapped in `mo.ui.anywidget(w)`. It updates by itself from a
    background thread, so the rest of the notebook stays free.
    """)
    return


@app.cell
def _(stw):
    w = stw.demo()
    w
    return (w,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    `w.wait()` blocks until the task ends and returns its Task document, a plain `dict`.
    With `timeout=` it gives up after that many seconds (raising `TimeoutError`). The widget
    above keeps moving while this cell waits.
    """)
    return


@app.cell
def _(w):
    doc = w.wait(timeout=60)
    doc["state"], doc["state_description"]
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## A failed task

    The `"failure"` scenario fails the way a real ingest with a bad document does: the
    ingest call was accepted, then the task ends `FAILED`. Here the widget goes through
    `mo.ui.anywidget`, marimo's own wrapper.
    """)
    return


@app.cell
def _(mo, stw):
    bad = stw.demo("failure")
    mo.ui.anywidget(bad)
    return (bad,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    `wait()` returns a failed task's document too; it does not raise. (It raises only when
    the task cannot be watched at all, for example a wrong task id or a missing
    permission.) The reason is in `message` (one sentence for people) and
    `additional_details` (structured details, often which documents failed and why). In
    your own code, check the state instead of assuming success.
    """)
    return


@app.cell
def _(bad, mo):
    failed = bad.wait(timeout=60)
    errors = (failed["additional_details"] or {}).get("errors", [])
    mo.md(
        f"""
    - state: `{failed["state"]}`
    - message: {failed["message"]}
    - {len(errors)} document error(s): fix them, then ingest those documents again
    """
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## When the service has a bad moment

    In the `"outage"` scenario the simulator answers `503 Service Unavailable` (with
    `Retry-After: 2`) for a few seconds. The widget says it is retrying, waits as the
    service asked, and carries on: an outage is not a failed task. The cell records every
    message the widget shows in its `error` attribute.
    """)
    return


@app.cell
def _(stw):
    retries = []

    def remember_retry(change: dict) -> None:
        if change["new"]:  # an empty string means "no problem right now"
            retries.append(change["new"])

    flaky = stw.demo("outage")
    flaky.observe(remember_retry, names="error")
    flaky
    return flaky, retries


@app.cell
def _(flaky, mo, retries):
    flaky.wait(timeout=60)
    mo.md("\n".join(f"- {message}" for message in retries) + f"\n\nfinal state: `{flaky.state}`")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The text form and a real task

    Where a widget cannot be drawn (a terminal, a log file), each widget has a one-line
    text form: `repr(w)`.

    With a real index, pass the reply of `SearchClient.ingest` as it is: the widget finds
    the `task_id` in it, and `auth=search_client` reuses that client's sign-in and service
    URL. See the README's "Signing in" section for the other ways to sign in.

    ```python
    w = stw.watch(search_client.ingest(index_id, document), auth=search_client)
    ```
    """)
    return


@app.cell
def _(bad, flaky, mo, w):
    mo.md("\n".join(f"- `{widget!r}`" for widget in (w, bad, flaky)))
    return


if __name__ == "__main__":
    app.run()
