"""The assignments the kit can grade (one hidden-check module each, in ``checks/``), the submissions of them, and
which graded names a run grades."""
from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

CHECKS = Path(__file__).resolve().parent / "checks"
# Slow imports, made once before forking: torch._dynamo (1.3 s) comes with the first optimizer and with torchvision
ALL_WARM_UP = ("torch._dynamo", "torchvision.datasets", "torchvision.transforms")


@dataclass(frozen=True)
class Assignment:
    id: str  # nbgrader's assignment name, e.g. "01_loss_functions"

    @property
    def notebook(self) -> str:
        return self.id.split("_", 1)[1] + ".ipynb"

    @property
    def checks(self) -> Path:
        return CHECKS / f"{self.id}.py"

    @cached_property
    def declarations(self) -> dict[str, object]:
        """What the checks declare about the assignment in literal upper-case constants, e.g. ``WARM_UP``: read
        with ``ast``, not imported, so that a run knows them before it imports torch."""
        found = {}
        for node in ast.parse(self.checks.read_text()).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and node.targets[0].id.isupper():
                try:
                    found[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    continue  # not a literal: not a declaration
        return found

    @property
    def warm_up(self) -> tuple[str, ...]:
        """The slow imports its notebooks and checks need: ``WARM_UP`` in its checks, all of ``ALL_WARM_UP``
        where that is missing."""
        return tuple(self.declarations.get("WARM_UP", ALL_WARM_UP))


def all_assignments() -> dict[str, Assignment]:
    return {p.stem: Assignment(p.stem) for p in sorted(CHECKS.glob("*.py")) if re.fullmatch(r"\d\d_\w+", p.stem)}


def warm_up(assignments: Iterable[Assignment]) -> tuple[str, ...]:
    """The slow imports that grading ``assignments`` needs, each once."""
    return tuple(dict.fromkeys(module for a in assignments for module in a.warm_up))


@dataclass(frozen=True)
class Job:
    student: str
    assignment: Assignment
    path: Path  # the notebook, which may be missing (see notebook_in)


def notebook_in(folder: Path, expected: str) -> Path:
    """The notebook to grade in a student's folder: the one named ``expected``, else the only notebook there
    (Colab saves a copy as "Copy of ..."), else the expected path, missing, for grading to say why."""
    if os.path.lexists(folder / expected):
        return folder / expected
    found = [p for p in sorted(folder.glob("*.ipynb")) if p.is_file() and not p.name.startswith(".")]
    return found[0] if len(found) == 1 else folder / expected


def find_jobs(submitted: Path, assignments: dict[str, Assignment] | None = None) -> tuple[list[Job], list[str]]:
    """Jobs for ``submitted/<student>/<assignment>/``; also warnings for what was skipped."""
    assignments = assignments if assignments is not None else all_assignments()
    submitted = submitted.resolve()  # links below it are then refused by notebook.read
    jobs, warnings = [], []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        for adir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if adir.name not in assignments:
                warnings.append(f"skipped {adir}: no checks for an assignment named {adir.name!r}")
                continue
            a = assignments[adir.name]
            jobs.append(Job(student_dir.name, a, notebook_in(adir, a.notebook)))
    return jobs, warnings


@dataclass(frozen=True)
class Selection:
    """Which graded names to grade: ``--only`` these, ``--skip`` those."""

    only: frozenset[str] | None = None
    skip: frozenset[str] = frozenset()

    def __contains__(self, name: str) -> bool:
        return (self.only is None or name in self.only) and name not in self.skip

    @property
    def everything(self) -> bool:
        return self.only is None and not self.skip
