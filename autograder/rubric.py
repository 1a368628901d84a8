"""Written answers graded by hand: which questions an assignment has, their points, and their rubric templates.

The questions and their points come from the release notebook's nbgrader metadata (markdown solution cells), never
from a submission, whose metadata a student can edit. The rubric templates live with the hidden checks, in
``checks/rubrics/NN_name.toml``, an array of tables per question::

    [[why_cross_entropy]]
    id = "likelihood"          # stable: marks name the items they apply
    points = 1                 # positive to award, negative to deduct
    text = "Explains that ..." # what the student reads

They are read only to seed a grades folder's marks database (marks.py), where the items' points can then be edited
while grading; an assignment without one has no written answers graded by hand with the kit. Not being Python, they
are no part of the fingerprint of the autograded checks (resume.py) and not in the Gradescope bundle, whose written
answers Gradescope's own grading handles (its results list them in their output only).
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .assignment import CHECKS, Assignment

RUBRICS = CHECKS / "rubrics"
TITLE = "written answer, graded by hand"  # the title of a written answer's test in results.json


class RubricError(ValueError):
    """A rubric template that cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class Item:
    id: str
    points: float
    text: str


def questions(assignment: str, rubrics: Path = RUBRICS) -> dict[str, float]:
    """The written answers of ``assignment`` that the kit grades by hand and their points, in notebook order, from
    the release notebook's nbgrader metadata; none where the assignment has no rubric template (a Gradescope
    bundle leaves them out: Gradescope grades written answers in questions of its own) or no release."""
    if not (rubrics / f"{assignment}.toml").is_file():
        return {}
    return dict(_questions(Assignment(assignment).release))


@cache
def _questions(path: Path) -> tuple[tuple[str, float], ...]:
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return ()
    found = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "markdown" and meta.get("solution") and meta.get("grade") and meta.get("grade_id"):
            found.append((meta["grade_id"], float(meta.get("points", 0))))
    return tuple(found)


def template(assignment: str, rubrics: Path = RUBRICS) -> dict[str, list[Item]]:
    """The rubric template of each written answer of ``assignment``: {} where it has no file."""
    path = rubrics / f"{assignment}.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}: {exc}") from None
    found = {}
    for question, rows in data.items():
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise RubricError(f"{path}: {question} must be an array of tables ([[{question}]])")
        items = []
        for n, row in enumerate(rows, 1):
            item_id, points, text = row.get("id"), row.get("points"), row.get("text")
            if not isinstance(item_id, str) or not re.fullmatch(r"[\w-]+", item_id) \
                    or not isinstance(points, (int, float)) or isinstance(points, bool) or not isinstance(text, str):
                raise RubricError(f"{path}: item {n} of {question} needs id (letters, digits, - or _), points (a "
                                  "number) and text")
            items.append(Item(item_id, float(points), text.strip()))
        if len({i.id for i in items}) != len(items):
            raise RubricError(f"{path}: two items of {question} share an id")
        found[question] = items
    return found


def answer_hash(text: str) -> str:
    """What a mark is tied to: the answer's exact text (line endings aside)."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()


def alike_hash(text: str) -> str:
    """Equal for answers that are word-for-word alike: case, spacing and punctuation at word edges aside."""
    words = [w.strip(".,;:!?\"'()") for w in text.lower().split()]
    return hashlib.sha256(" ".join(w for w in words if w).encode()).hexdigest()[:16]
