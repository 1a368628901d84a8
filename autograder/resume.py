"""Which jobs a run must grade: a stored result is kept when it was graded from the same inputs.

The inputs are the notebook's bytes, the code that decides the marks (the assignment's checks, the grader's
modules in ``MARKING`` and the sandbox's harness), the limits, the selection of graded names and the sandbox
mode (a result graded without a sandbox is not kept by a run that has one). Torch-free, so that a run can tell
before it starts the sandbox whether it needs one.
"""
from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from . import result
from .assignment import Assignment, Job, Selection
from .limits import Limits
from .modes import mode
from .notebook import NotebookError, read_bytes
from .result import ERROR

PACKAGE = Path(__file__).resolve().parent
# the grader's modules that decide marks, statuses or messages, besides the assignment's checks and the harness
MARKING = ("check.py", "integrity.py", "plugin.py", "student.py", "notebook.py", "messages.py", "grade.py",
           "data.py")


@cache
def _code(assignment: Assignment) -> str:
    """A digest of the code that decides ``assignment``'s marks."""
    digest = hashlib.sha256()
    for path in (*assignment.files, *(PACKAGE / name for name in MARKING),
                 *sorted((PACKAGE / "harness").glob("*.py"))):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _notebook(path: Path) -> str:
    """A digest of the notebook's bytes, or why it cannot be read (which its grade says too)."""
    try:
        return hashlib.sha256(read_bytes(path)).hexdigest()
    except NotebookError as exc:
        return f"unreadable: {exc}"


def fingerprint(job: Job, limits: Limits, selection: Selection) -> str:
    """What a result is graded from: the notebook, the grading code, the limits, the selection, the mode."""
    digest = hashlib.sha256()
    for part in (_notebook(job.path), _code(job.assignment), repr(limits), repr(sorted(selection.only or ())),
                 repr(sorted(selection.skip)), mode().name):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def finished(job: Job, out_dir: Path, limits: Limits, selection: Selection) -> bool:
    """Whether ``out_dir`` holds a result of this job from the same inputs, not spoilt by a grader error."""
    try:
        extra = json.loads(result.results_path(out_dir, job.student, job.assignment.id).read_text())["extra_data"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return extra.get("status") != ERROR and extra.get("fingerprint") == fingerprint(job, limits, selection)


def unfinished(jobs: list[Job], out_dir: Path, limits: Limits, selection: Selection) -> list[Job]:
    """The jobs a resumed run grades."""
    return [j for j in jobs if not finished(j, out_dir, limits, selection)]
