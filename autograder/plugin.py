"""A pytest plugin that runs one assignment's hidden checks against one submission.

It provides the ``student`` fixture, keeps the selected names, and turns
each check's outcome into a ``CheckResult`` with a message fit for a student.
"""
from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

import pytest

from .assignment import Selection, check_modules
from .check import CheckFailed
from .result import CheckResult

PYTEST_ARGS = ["--disable-plugin-autoload", "-p", "no:cacheprovider", "-p", "no:terminal", "--noconftest",
               "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:logging", "-p", "no:faulthandler",
               "-W", "ignore", "--import-mode=importlib"]


class GradingPlugin:
    def __init__(self, student: Any, selection: Selection = Selection()):
        self._student = student
        self.selection = selection
        self.results: list[CheckResult] = []
        self.points: dict[str, float] = {}  # what each graded name is worth: its checks' points, in their order
        self.log: list[str] = []  # grader-side tracebacks, for the instructor only

    @pytest.fixture(name="student", scope="session")
    def student_fixture(self) -> Any:
        return self._student

    @property
    def names(self) -> set[str]:
        """Every graded name of the assignment, selected or not."""
        return set(self.points)

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "graded(name, points): the graded name a check belongs to")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        for item in items:
            name, points = _graded(item)
            self.points[name] = self.points.get(name, 0.0) + points
        keep = [i for i in items if _graded(i)[0] in self.selection]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        yield
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            self.results.append(self._judge(item, call))

    def charge(self, blamed: dict[str, str]) -> None:
        """A name blamed for ending the process (a thread it left ran on) after its checks had passed still loses
        its last check: when the process ends is a race, its grade must not be."""
        for name, why in blamed.items():
            own = [r for r in self.results if r.name == name]
            if own and all(r.score >= r.max_score for r in own):
                own[-1].score, own[-1].output = 0.0, why

    def _judge(self, item: pytest.Item, call: pytest.CallInfo) -> CheckResult:
        name, points = _graded(item)
        result = CheckResult(name, _title(item), 0.0, points)
        exc = call.excinfo.value if call.excinfo else None
        if exc is None:
            result.score = points
            properties = dict(item.user_properties)
            result.output = properties.get("feedback", "")  # record_property("feedback", ...)
            result.leaderboard = properties.get("leaderboard")  # record_property("leaderboard", {"name", "value"})
        elif isinstance(exc, CheckFailed):
            result.output = str(exc)
        else:
            result.error = True
            result.output = ("The grader could not run this check (an internal error); "
                             "your instructor has the details.")
            self.log.append(f"{result.label}\n" + "".join(traceback.format_exception(exc)))
        return result


def _title(item: pytest.Item) -> str:
    """The check's docstring's first line, with its parameters filled in: ``reduction={reduction!r}``."""
    title = (getattr(item, "obj", None).__doc__ or item.name).strip().splitlines()[0].rstrip(".")
    params = getattr(getattr(item, "callspec", None), "params", {})
    try:
        return title.format(**params)
    except (KeyError, IndexError, ValueError):
        return title


def _graded(item: pytest.Item) -> tuple[str, float]:
    mark = item.get_closest_marker("graded")
    if mark is None:
        return "unattributed", 0.0
    return mark.kwargs["name"], float(mark.kwargs.get("points", 1.0))


def run_checks(checks: Path, student: Any, selection: Selection = Selection(),
               extra: tuple[str, ...] = ()) -> GradingPlugin:
    """Run the checks in ``checks``, an assignment's module or package, against ``student``; the plugin holds the
    results.

    pytest is given the check modules themselves, in their order (``assignment.check_modules``), and collects each
    whatever its name, in that order. It imports a module ``checks/NN_name.py`` as ``autograder.checks.NN_name``, and
    a package's modules, whose folder's name is no identifier, as ``NN_name.module`` under ``checks/``, after the
    package itself (``NN_name``), so that they import the package's shared modules relatively (``from ._common import
    ...``), once per process. ``extra``: more pytest arguments."""
    plugin = GradingPlugin(student, selection)
    modules = [str(p) for p in check_modules(checks)]
    pytest.main([*modules, "--rootdir", str(checks.parent), "-c", os.devnull, *PYTEST_ARGS, *extra], plugins=[plugin])
    return plugin


def max_points(checks: Path) -> dict[str, float]:
    """What each graded name of ``checks`` (an assignment's module or package) is worth, in the order its checks
    run: the sum of its checks' points, found by collecting them, with no student and nothing run. A notebook's
    points table states these (tests/test_frame.py)."""
    return run_checks(checks, None, extra=("--collect-only",)).points
