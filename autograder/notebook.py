"""Read a submitted notebook defensively: whatever arrives, return cells or a clear reason."""
from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path


MAX_BYTES = 50 * 2**20
_MAGIC = re.compile(r"^(\s*)[%!]")


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
    cells = []
    for index, cell in enumerate(raw_cells):
        if not isinstance(cell, dict):
            raise NotebookError(f"{path.name} is not a valid notebook: cell {index} is not an object")
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        meta = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else {}
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{path.name} is not a valid notebook: cell {index} has no text source")
        cells.append(Cell(
            index=index, kind=cell.get("cell_type", "") if isinstance(cell.get("cell_type"), str) else "",
            source=source,
            grade_id=meta.get("grade_id") if isinstance(meta.get("grade_id"), str) else None,
            grade=meta.get("grade") is True, solution=meta.get("solution") is True))
    return cells


def python_source(cell: Cell) -> str:
    """The cell's code with IPython magics and shell escapes turned into ``pass``."""
    return "".join(_MAGIC.sub(r"\1pass  # ", line, count=1) if _MAGIC.match(line) else line
                   for line in cell.source.splitlines(True))


def runnable(cells: list[Cell], with_tests: bool = False) -> list[Cell]:
    """Code cells the grader executes, in order: all but visible tests unless asked."""
    return [c for c in cells if c.kind == "code" and (with_tests or not c.is_visible_test)]

