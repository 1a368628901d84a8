"""``check NOTEBOOK``: a student runs their notebook's visible tests in the sandbox and sees a table."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from . import notebook
from .assignment import of_notebook
from .messages import clip, raised_message
from .report import table
from .sandbox import Sandbox, Worker, WorkerDied, WorkerTimeout

WRAP = 72  # characters of a message per line of the table


def _test_message(name: str, error: dict) -> str:
    if error.get("type") == "AssertionError" and error.get("message"):
        return clip(error["message"])
    return raised_message(name, error)


def _and(names: list[str]) -> str:
    return " and ".join(names)


def carry_forward_notes(rows: list[list[str]], carried: Mapping[str, tuple[str, ...]]) -> None:
    """Say, in a failed test's row, where grading is kinder than the test: grading never charges a name for the
    mistakes of the names it builds on (``carried``, the checks' ``CARRY_FORWARD``), and one of those fails its
    test too, which may be all that fails here."""
    failed = {row[0] for row in rows if row[1] != "ok"}
    for row in rows:
        own = [name for name in carried.get(row[0], ()) if name in failed] if row[1] == "FAIL" else []
        if own:
            row[2] = (f"FAIL here, maybe only because of your {_and(own)}, whose test fails too: grading does not "
                      f"charge {row[0]} for {_and(own)}'s mistakes, so fix {_and(own)} first. {row[2]}")


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
    assignment = of_notebook(path)
    carry_forward_notes(rows, assignment.carried_forward if assignment else {})
    print(table(["name", "result", "message"], rows, wrap=WRAP))
    print(f"\n{sum(r[1] == 'ok' for r in rows)} visible test(s) passed, {failed} failed. "
          "The grader runs further, hidden checks.")
    return int(failed > 0)
