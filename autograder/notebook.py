"""Read a submitted notebook defensively: whatever arrives, return cells or a clear reason."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

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


def read(path: Path, max_bytes: int = MAX_BYTES) -> list[Cell]:
    """The notebook's cells, upgraded to nbformat 4; raise ``NotebookError`` if unreadable."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise NotebookError(f"cannot open {path.name}: {exc.strerror}") from None
    if size > max_bytes:
        raise NotebookError(f"{path.name} is {size / 2**20:.0f} MB, over the {max_bytes / 2**20:.0f} MB "
                            "limit: clear all outputs (Kernel > Restart & Clear Output), save and resubmit")
    try:
        raw = json.loads(Path(path).read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotebookError(f"{path.name} is not a notebook file (not valid JSON: {exc}); "
                            "submit the .ipynb file saved by Jupyter") from None
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:
        raise NotebookError(f"{path.name} is not a valid notebook: {exc}") from None
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        meta = meta if isinstance(meta, dict) else {}
        source = cell.get("source", "")
        cells.append(Cell(
            index=index, kind=cell.get("cell_type", ""),
            source=source if isinstance(source, str) else "".join(source),
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
