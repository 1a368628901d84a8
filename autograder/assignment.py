"""The assignments the kit can grade (the hidden checks of each, in ``checks/``), the submissions of them, and
which graded names a run grades.

An assignment's hidden checks are either one module, ``checks/NN_name.py``, or a package, ``checks/NN_name/``: its
``__init__.py`` holds the assignment's declarations, and each other module holds the checks of one graded name (or of
a few), except those whose names start with ``_``, which hold code the modules share (``from ._common import ...``).
Declarations are read with ``ast``, never imported: ``WARM_UP`` (the slow imports grading needs), ``CARRY_FORWARD``
(the names graded with the student's own earlier names, not charged again for their mistakes) and, for a package,
``ORDER``, the check modules by name in the order their checks run and their results are listed (modules it leaves
out come after it, in name order).
"""
from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

CHECKS = Path(__file__).resolve().parent / "checks"
RELEASE = CHECKS.parent.parent / "release"  # the student notebooks, made by ``python -m autograder release``
# Slow imports, made once before forking: torch._dynamo (1.3 s) comes with the first optimizer and with torchvision
ALL_WARM_UP = ("torch._dynamo", "torchvision.datasets", "torchvision.transforms")


@dataclass(frozen=True)
class Assignment:
    id: str  # nbgrader's assignment name, e.g. "01_loss_functions"

    @property
    def notebook(self) -> str:
        return self.id.split("_", 1)[1] + ".ipynb"

    @property
    def release(self) -> Path:
        """The student notebook as released: where its written answers stand (``written``)."""
        return RELEASE / self.id / self.notebook

    @property
    def checks(self) -> Path:
        """Its hidden checks: the package ``checks/NN_name/`` where there is one, else ``checks/NN_name.py``."""
        package = CHECKS / self.id
        return package if _is_package(package) else CHECKS / f"{self.id}.py"

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file of its hidden checks, in name order: the module, or the package's files (its ``__init__.py``,
        check modules, shared modules and any data they read), without caches or hidden files."""
        return check_files(self.checks)

    @property
    def check_modules(self) -> list[Path]:
        """The modules that hold its checks, in the order the checks run (see ``check_modules``)."""
        return check_modules(self.checks)

    @cached_property
    def declarations(self) -> dict[str, object]:
        """What its checks declare (``declarations``), e.g. ``WARM_UP``."""
        return declarations(self.checks)

    @property
    def carried_forward(self) -> dict[str, tuple[str, ...]]:
        """The graded names whose checks reuse the student's own earlier names without charging their mistakes
        again (``CARRY_FORWARD``: name to the names it is graded with), for the self-check to say so."""
        return {name: tuple(on) for name, on in dict(self.declarations.get("CARRY_FORWARD", {})).items()}

    @property
    def warm_up(self) -> tuple[str, ...]:
        """The slow imports its notebooks and checks need: ``WARM_UP`` in its checks module or package's
        ``__init__.py``, all of ``ALL_WARM_UP`` where that is missing."""
        return tuple(self.declarations.get("WARM_UP", ALL_WARM_UP))


def _is_package(path: Path) -> bool:
    return (path / "__init__.py").is_file()


def declarations(checks: Path) -> dict[str, object]:
    """The literal upper-case constants of a checks module or a package's ``__init__.py``: read with ``ast``, not
    imported, so that a run knows them before it imports torch."""
    found = {}
    for node in ast.parse((checks / "__init__.py" if checks.is_dir() else checks).read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id.isupper():
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # not a literal: not a declaration
    return found


def check_files(checks: Path) -> tuple[Path, ...]:
    """Every file of the hidden checks ``checks`` (a module or a package), in name order, without caches or hidden
    files."""
    if not checks.is_dir():
        return (checks,)
    return tuple(p for p in sorted(checks.rglob("*")) if p.is_file() and p.suffix != ".pyc"
                 and not any(part == "__pycache__" or part.startswith(".") for part in p.relative_to(checks).parts))


def check_modules(checks: Path) -> list[Path]:
    """The modules of ``checks`` that hold checks, in the order they run: the module itself, or the package's
    modules but ``__init__.py`` and those named ``_*``, in the order of its ``ORDER``, then any others by name."""
    if not checks.is_dir():
        return [checks]
    found = {p.stem: p for p in sorted(checks.glob("*.py")) if not p.name.startswith("_")}
    order = list(declarations(checks).get("ORDER", ()))
    if unknown := [name for name in order if name not in found]:
        raise ValueError(f"ORDER in {checks / '__init__.py'} names {', '.join(unknown)}, "
                         f"which {'is not a module' if len(unknown) == 1 else 'are not modules'} of the package")
    return [found[name] for name in dict.fromkeys(order)] + [p for name, p in found.items() if name not in order]


def all_assignments() -> dict[str, Assignment]:
    """The assignments with hidden checks in ``checks/``, by id: a module ``NN_name.py`` or a package ``NN_name/``."""
    ids: dict[str, Path] = {}
    for path in sorted(CHECKS.iterdir()):
        name = path.stem if path.suffix == ".py" and path.is_file() else path.name if _is_package(path) else ""
        if not re.fullmatch(r"\d\d_\w+", name):
            continue
        if name in ids:
            raise ValueError(f"two sets of hidden checks for {name}: {ids[name]} and {path}; keep one")
        ids[name] = path
    return {name: Assignment(name) for name in sorted(ids)}


def of_notebook(path: Path) -> Assignment | None:
    """The assignment a student's notebook belongs to: the one its folder is named after (nbgrader's layout),
    else the one whose notebook has its name; None for neither."""
    known = all_assignments()
    return known.get(path.parent.name) or next((a for a in known.values() if a.notebook == path.name), None)


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


def no_notebook(folder: Path, expected: str) -> str:
    """Why ``notebook_in`` found nothing to grade in ``folder``, in the words the Gradescope bundle uses too."""
    found = [p for p in folder.glob("*.ipynb") if not p.name.startswith(".")]
    if not found:
        return f"No notebook was found in your submission: upload your {expected}."
    return f"Your submission holds several notebooks and none named {expected}: upload only your {expected}."


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
