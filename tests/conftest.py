"""Shared fixtures and helpers; ``answer_batch`` grades every stored answer once per test session."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder import audit
from autograder.limits import Limits
from autograder.release import demo_submissions
from autograder.result import SubmissionResult
from autograder.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
# short limits keep the hostile submissions quick; real grading uses the defaults
LIMITS = Limits(cell_seconds=20, call_seconds=10)
# where a test inserts a code cell into 01's notebook to have it run second: after the title, objectives,
# points and imports cells, so that messages name it "Code cell 2"
AFTER_IMPORTS = 4
TEST_LIMITS = ["--cell-seconds", f"{LIMITS.cell_seconds:g}", "--call-seconds", f"{LIMITS.call_seconds:g}"]
with_answers = audit.with_answers  # test_hostile and test_robustness build notebooks with it


def grade(submitted: Path, out: Path, *extra: str, sandbox: str = "",
          launcher: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``python -m autograder grade``, in sandbox mode ``sandbox`` alone if given (AUTOGRADER_SANDBOX), started
    through ``launcher`` if given."""
    env = {**os.environ, "AUTOGRADER_SANDBOX": sandbox} if sandbox else None
    return subprocess.run([*launcher, sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
                           "-q", "-j", "2", *TEST_LIMITS, *extra], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800, env=env)


def read_results(out: Path) -> dict[tuple[str, str], dict]:
    return {(p.parent.parent.name, p.parent.name): json.loads(p.read_text()) for p in out.glob("*/*/results.json")}


def failures(results: dict, names: set[str] | None = None) -> list[str]:
    """The messages of a results.json's checks that lost marks, of ``names`` if given (a written answer still
    to be marked by hand has no score: it lost nothing yet)."""
    return [t["output"] for t in results["tests"] if t.get("score", t["max_score"]) < t["max_score"]
            and (names is None or t["name"].split(":", 1)[0] in names)]


def scores(results: dict) -> dict[str, tuple[float, float]]:
    """Per graded name: (score, max score), from a results.json."""
    return SubmissionResult.from_gradescope(results).scores()


@pytest.fixture(scope="session", autouse=True)
def every_results_json_follows_gradescopes_specification(tmp_path_factory) -> Iterator[None]:
    """After the session, every results.json its tests left under their temporary folders (the grader's, the
    bundle's, the merge's) validates against Gradescope's specification (``gradescope_schema``)."""
    yield
    from gradescope_schema import validate
    from jsonschema import ValidationError

    invalid = []
    for path in sorted(tmp_path_factory.getbasetemp().rglob("results.json")):
        try:
            validate(json.loads(path.read_text()))
        except (ValueError, ValidationError) as exc:
            invalid.append(f"{path}: {getattr(exc, 'message', exc)}")
    assert not invalid, "results.json files that Gradescope would misread:\n" + "\n".join(invalid)


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Path:
    """The demo's submissions (release.demo_submissions): ada the instructor's notebooks, ben the release."""
    return demo_submissions(ROOT, tmp_path_factory.mktemp("demo") / "submitted")


# KIT_ANSWERS=02_autograd,04_activations narrows the batch while working on those checks
ASSIGNMENTS = sorted(p.stem for p in audit.ANSWERS.glob("[0-9][0-9]_*.py")
                     if not os.environ.get("KIT_ANSWERS") or p.stem in os.environ["KIT_ANSWERS"].split(","))


@pytest.fixture(scope="session")
def session_sandbox() -> Iterator[Sandbox]:
    """One sandbox for the tests that start workers in this process, as a run has one: its fork server starts
    once (3.5 s), and it is closed, slots, cgroups and server, when the session ends."""
    with Sandbox(Limits()) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def answer_batch(tmp_path_factory) -> dict[str, audit.Audit]:
    """Every stored answer of every assignment, the instructor's and the release notebook, graded in one
    batch by ``autograder.audit`` (``SLOW`` names in a second pass); an ``Audit`` per assignment."""
    return audit.run(ASSIGNMENTS, tmp_path_factory.mktemp("answers"), limits=LIMITS, workers=2)


CHROMIUM = Path(os.environ.get("KIT_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright's client (``./kit test`` installs both as root);
    the tests that need it are skipped, saying why, where it is missing."""
    playwright = pytest.importorskip("playwright.sync_api", reason="Playwright's Python client is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set KIT_CHROMIUM)")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()
