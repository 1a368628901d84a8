"""Read a submitted notebook defensively: whatever arrives, return cells or a clear reason."""
from __future__ import annotations

import ast
import functools
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_BYTES = 50 * 2**20


class NotebookError(Exception):
    """The file cannot be read as a notebook; the message is for the student."""


@dataclass(frozen=True)
class Cell:
    index: int
    kind: str             # "code" or "markdown"
    source: str
    grade_id: str | None  # nbgrader's grade_id, if the cell kept its metadata
    grade: bool = False
    solution: bool = False
    number: int = 0       # its place among the code cells, from 1, as the counts of Jupyter's "Run All" show

    @property
    def label(self) -> str:
        """The cell as a student finds it: its place among the code cells and its first line."""
        first = next((line.strip() for line in self.source.splitlines() if line.strip()), "")
        first = first if len(first) <= 50 else first[:49] + "…"
        return f"code cell {self.number}" + (f' ("{first}")' if first else "")

    @property
    def is_visible_test(self) -> bool:
        """An nbgrader test cell: graded, not an answer."""
        return self.kind == "code" and self.grade and not self.solution

    @property
    def is_written_answer(self) -> bool:
        return self.kind == "markdown" and self.grade and self.solution


def _upgraded_cells(raw: object, name: str) -> list:
    """The cells of an older notebook format, upgraded by nbformat (imported only here: it takes a second)."""
    import nbformat

    try:
        return list(nbformat.reads(json.dumps(raw), as_version=4).get("cells", []))
    except Exception as exc:  # nbformat raises many kinds on broken input
        raise NotebookError(f"{name} is not a valid notebook: {str(exc)[:300]}") from None


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, no link or pipe; raise ``NotebookError`` else."""
    if os.path.realpath(path) != os.path.abspath(path):
        raise NotebookError(f"{path.name} is a link, not a file: submit the notebook itself")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a pipe would block without
    except FileNotFoundError:
        others = sorted(p.name for p in path.parent.glob("*.ipynb"))
        raise NotebookError(f"your submission holds several notebooks ({', '.join(others)}) and none is named "
                            f"{path.name}: hand in only {path.name}" if others else
                            f"no notebook was found in your submission: hand in {path.name}") from None
    except OSError as exc:
        raise NotebookError(f"cannot open {path.name}: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotebookError(f"{path.name} is not a regular file: submit the notebook itself")
    with os.fdopen(fd, "rb") as f:
        if info.st_size > max_bytes:
            raise NotebookError(f"{path.name} is {info.st_size / 2**20:.0f} MB, over the {max_bytes / 2**20:.0f} MB "
                                "limit: clear all outputs (Kernel > Restart & Clear Output), save and resubmit")
        return f.read(max_bytes + 1)


def _nth(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st: a cell's place as a student counts it."""
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def read(path: Path, max_bytes: int = MAX_BYTES) -> list[Cell]:
    """The notebook's cells, upgraded to nbformat 4; raise ``NotebookError`` if unreadable."""
    data = read_bytes(path, max_bytes)
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise NotebookError(f"{path.name} is not a notebook file (not valid JSON: {str(exc)[:200]}); "
                            "submit the .ipynb file saved by Jupyter") from None
    if isinstance(raw, dict) and raw.get("nbformat") == 4 and isinstance(raw.get("cells"), list):
        raw_cells = raw["cells"]  # checked cell by cell below
    else:
        raw_cells = _upgraded_cells(raw, path.name)
    cells: list[Cell] = []
    for index, cell in enumerate(raw_cells):
        if not isinstance(cell, dict):
            raise NotebookError(f"{path.name} is not a valid notebook: its {_nth(index + 1)} cell is not an object")
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        meta = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else {}
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{path.name} is not a valid notebook: its {_nth(index + 1)} cell (counting "
                                "markdown cells too) has no text source")
        kind = cell.get("cell_type", "") if isinstance(cell.get("cell_type"), str) else ""
        cells.append(Cell(
            index=index, kind=kind, source=source,
            grade_id=meta.get("grade_id") if isinstance(meta.get("grade_id"), str) else None,
            grade=meta.get("grade") is True, solution=meta.get("solution") is True,
            number=sum(c.kind == "code" for c in cells) + 1 if kind == "code" else 0))
    return cells


@functools.cache
def _ipython() -> Any:
    """IPython's own input transformations (imported here only: 0.06 s)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def python_source(cell: Cell) -> str:
    """The cell's code as Jupyter runs it: IPython's syntax (magics, ``!`` shell escapes, ``x = !cmd``, ``a?``)
    turned into Python by IPython's own input transformations, which call ``get_ipython()`` (harness/shell.py
    answers it in the worker). Code IPython cannot transform is returned as it is, for Python to report."""
    source = cell.source.replace("\r\n", "\n")
    lines = source.splitlines(True)
    blank = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    try:  # IPython drops leading blank lines: kept, so that line numbers are the cell's
        return "\n" * blank + _ipython().transform_cell("".join(lines[blank:]))
    except Exception:  # IPython's transformers raise on some broken input: Python then says what is wrong
        return source


def _defined(cell: Cell) -> set[str]:
    """The names a cell's code defines at its top level (functions, classes, assignments, imports)."""
    try:
        tree = ast.parse(python_source(cell))
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def only_in_tests(cells: list[Cell]) -> frozenset[str]:
    """Names that visible test cells define and the cells grading runs do not: code that uses them works in
    Jupyter, where the test cells ran, and fails in grading."""
    tests = set().union(*(_defined(c) for c in cells if c.is_visible_test))
    return frozenset(tests - set().union(*(_defined(c) for c in runnable(cells))))


def runnable(cells: list[Cell], with_tests: bool = False) -> list[Cell]:
    """Code cells the grader executes, in order: all but visible tests unless asked."""
    return [c for c in cells if c.kind == "code" and (with_tests or not c.is_visible_test)]

