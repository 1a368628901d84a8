"""``check NOTEBOOK``: a student runs their notebook's visible tests in the sandbox and sees a table."""
from __future__ import annotations

from pathlib import Path

from . import notebook
from .report import table
from .sandbox import Sandbox, Worker, WorkerDied, WorkerTimeout
from .messages import raised_message


def _test_message(name: str, error: dict) -> str:
    if error.get("type") == "AssertionError" and error.get("message"):
        return error["message"]
    return raised_message(name, error)


def check_notebook(path: Path, sandbox: Sandbox) -> int:
    """Run every code cell, tests included, in ``sandbox``; print one row per visible test. Exit status 1 if any
    fails."""
    try:
        cells = notebook.read(path)
    except notebook.NotebookError as exc:
        print(f"cannot check: {exc}")
        return 2
    rows, failed, worker = [], 0, Worker(sandbox)
    try:
        for cell in notebook.runnable(cells, with_tests=True):
            try:
                reply = worker.request({"op": "exec", "index": cell.number, "source": notebook.python_source(cell)},
                                       sandbox.limits.cell_seconds)
            except (WorkerTimeout, WorkerDied) as exc:
                rows.append([cell.grade_id or cell.label, "STOPPED", f"{cell.label}: {exc}"])
                failed += 1
                break
            if cell.is_visible_test:
                error = reply.get("error")
                name = (cell.grade_id or cell.label).removeprefix("test_")
                rows.append([name, "FAIL" if error else "ok", _test_message(name, error) if error else ""])
                failed += bool(error)
            elif reply.get("error"):
                rows.append([cell.grade_id or cell.label, "ERROR", raised_message("it", reply["error"])])
    finally:
        worker.kill()
    print(table(["name", "result", "message"], rows))
    print(f"\n{sum(r[1] == 'ok' for r in rows)} visible test(s) passed, {failed} failed. "
          "The grader runs further, hidden checks.")
    return int(failed > 0)
