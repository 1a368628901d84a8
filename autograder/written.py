"""Written answers, graded by hand: found by nbgrader's metadata, or by their place in the release notebook where
an editor (Colab, an old VS Code) removed it; an answer found neither way is missing, and said so.

By place: the answer is the markdown that stands, in the submission, between the nearest cells before and after
the release's answer cell that the submission still holds unchanged (the question above it, the next heading),
leaving out cells the release holds unchanged. A student who wrote into the question cell itself has that cell
taken as the answer, question and all: shown to the grader rather than lost.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .notebook import Cell, NotebookError, read

METADATA, PLACE = "metadata", "place"
STUB = "YOUR ANSWER HERE"  # nbgrader_config.py's ClearSolutions.text_stub: not a word of the answer


@dataclass(frozen=True)
class WrittenAnswer:
    grade_id: str
    text: str | None  # None: not found
    found_by: str     # METADATA or PLACE; "" where not found

    @property
    def words(self) -> int:
        return len((self.text or "").replace(STUB, "").split())

    def __str__(self) -> str:
        """The line of the results' output that lists it, for the grader by hand and the student."""
        if self.text is None:
            return (f"{self.grade_id}: written answer MISSING: no cell of your notebook holds it (its cell was "
                    "deleted, or moved away from its question after your editor removed nbgrader's metadata); "
                    "write it in the markdown cell below its question and hand the notebook in again")
        how = "; found by its place, as your editor removed nbgrader's metadata" if self.found_by == PLACE else ""
        return f"{self.grade_id}: written answer, graded by hand ({self.words} words{how})"


def release_cells(release: Path) -> list[Cell]:
    """The release notebook's cells; none where it cannot be read (a Gradescope bundle of an older kit)."""
    try:
        return read(release)
    except NotebookError:
        return []


def _key(cell: Cell) -> tuple[str, str]:
    """A cell as a place-marker: its kind and text, line endings and spacing aside (Windows, Colab)."""
    return cell.kind, " ".join(cell.source.split())


def find(cells: list[Cell], release: list[Cell]) -> list[WrittenAnswer]:
    """The written answers of the submission ``cells``: the release's, in its order, each found by metadata, by
    place or missing; without a release, those the metadata marks."""
    marked = {c.grade_id: c for c in cells if c.is_written_answer}
    expected = [c for c in release if c.is_written_answer and c.grade_id]
    if not expected:
        return [WrittenAnswer(g, c.source, METADATA) for g, c in marked.items()]
    keys = [_key(c) for c in cells]
    counts = Counter(keys)  # linear: a notebook may hold a million cells
    unique = {k: i for i, k in enumerate(keys) if counts[k] == 1 and k[1]}  # place-markers: once, not empty
    unchanged = {_key(c) for c in release if not c.is_written_answer}
    answers = []
    for answer in expected:
        if answer.grade_id in marked:
            answers.append(WrittenAnswer(answer.grade_id, marked[answer.grade_id].source, METADATA))
            continue
        at = release.index(answer)
        before = next((unique[k] for k in map(_key, reversed(release[:at])) if k in unique), None)
        after = next((unique[k] for k in map(_key, release[at + 1:]) if k in unique and unique[k] > (before or -1)),
                     len(cells))
        between = [c for c in cells[before + 1:after] if c.kind == "markdown" and _key(c) not in unchanged
                   and c.grade_id is None] if before is not None else []
        text = "\n\n".join(c.source for c in between) if between else None
        answers.append(WrittenAnswer(answer.grade_id, text, PLACE if between else ""))
    return answers
