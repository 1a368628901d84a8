"""Which jobs a run must grade: a stored result is kept when it was graded from the same inputs.

The inputs are the notebook's bytes and nbgrader's timestamp beside it, the code that decides the marks (the
grader's whole package but for other assignments' files and the modules that only present results,
``PRESENTATION``) and the release notebook, the limits, the selection of graded names and the sandbox mode (a
result graded without a sandbox is not kept by a run that has one). Torch-free, so that a run can tell before it
starts the sandbox whether it needs one.
"""
from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from . import result
from .assignment import Assignment, Job, Selection
from .lateness import read_stamp
from .limits import Limits
from .modes import mode
from .notebook import NotebookError, read_bytes
from .result import ERROR

PACKAGE = Path(__file__).resolve().parent
# modules that read or present results and never decide a mark, a status or a message, and those of the marks given
# by hand, which are merged into every result anew whenever results are written (marks.publish): a change to any
# other module of the package regrades (a new module decides marks until it is listed here)
PRESENTATION = ("audit.py", "bundle.py", "export.py", "gradescope_results.py", "pages.py", "release.py", "report.py",
                "shards.py", "similarity.py", "similarity_pages.py", "marks.py", "marksheet.py", "rubric.py",
                "marking/__init__.py", "marking/server.py")
# where assignments keep their own files: hidden checks, and the sandbox side of their probes
_OWN = ("checks", "harness/assignments")


def marking_files(assignment: Assignment) -> list[Path]:
    """The files whose code decides ``assignment``'s marks."""
    def decides(path: Path) -> bool:
        relative = path.relative_to(PACKAGE)
        for folder in _OWN:
            if relative.is_relative_to(folder):  # its owner: "05_name" of 05_name.py or of 05_name/...
                owner = Path(relative.relative_to(folder).parts[0]).stem
                return not re.match(r"\d\d_", owner) or owner == assignment.id
        return relative.as_posix() not in PRESENTATION

    code = [p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts and decides(p)]
    return sorted({*code, *assignment.files})  # its checks' data files too


@cache
def _code(assignment: Assignment) -> str:
    """A digest of the code that decides ``assignment``'s marks and messages, and of its release notebook, where
    the results find a written answer whose metadata an editor removed."""
    digest = hashlib.sha256()
    for path in marking_files(assignment):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    if assignment.release.is_file():
        digest.update(b"release\0" + assignment.release.read_bytes())
    return digest.hexdigest()


def _notebook(path: Path) -> str:
    """A digest of the notebook's bytes, or why it cannot be read (which its grade says too)."""
    try:
        return hashlib.sha256(read_bytes(path)).hexdigest()
    except NotebookError as exc:
        return f"unreadable: {exc}"


def _timestamp(notebook: Path) -> str:
    """nbgrader's timestamp.txt beside the notebook, which the result records: the same notebook handed in again
    at another time is graded again."""
    try:
        return read_stamp(notebook)
    except NotebookError:
        return ""


def grading(assignment: Assignment, limits: Limits, selection: Selection) -> str:
    """How a run grades ``assignment``, whatever the notebook: the grading code, the limits, the selection, the
    mode. Shards merge only where they agree on it."""
    digest = hashlib.sha256()
    for part in (_code(assignment), repr(limits), repr(sorted(selection.only or ())), repr(sorted(selection.skip)),
                 mode().name):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def fingerprint(job: Job, limits: Limits, selection: Selection) -> str:
    """What a result is graded from: the notebook and its timestamp, and how it is graded (``grading``)."""
    digest = hashlib.sha256()
    for part in (_notebook(job.path), _timestamp(job.path), grading(job.assignment, limits, selection)):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def finished(job: Job, out_dir: Path, limits: Limits, selection: Selection) -> bool:
    """Whether ``out_dir`` holds a result of this job from the same inputs, not spoilt by a grader error."""
    stored = result.load(result.results_path(out_dir, job.student, job.assignment.id))
    return stored is not None and stored.status != ERROR and stored.fingerprint == fingerprint(job, limits, selection)


def unfinished(jobs: list[Job], out_dir: Path, limits: Limits, selection: Selection) -> list[Job]:
    """The jobs a resumed run grades."""
    return [j for j in jobs if not finished(j, out_dir, limits, selection)]
