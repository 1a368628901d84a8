"""Shared fixtures: one graded batch of every stored answer, built once per test session."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = Path(__file__).resolve().parent / "answers"
# short limits keep the hostile submissions quick; real grading uses the defaults
TEST_LIMITS = ["--cell-seconds", "20", "--call-seconds", "10"]


def load_answers(assignment: str):
    spec = importlib.util.spec_from_file_location(f"answers_{assignment}", ANSWERS / f"{assignment}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def with_answers(source: Path, answers: dict[str, str], dest: Path, extra_cells: list[tuple[int, str]] = ()) -> None:
    """Write ``source`` with the cells named in ``answers`` replaced; insert ``extra_cells`` (position, code)."""
    nb = nbformat.read(source, as_version=4)
    found = set()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
            found.add(grade_id)
    assert found == set(answers), f"no cell for {set(answers) - found} in {source}"
    for position, code in extra_cells:
        nb.cells.insert(position, nbformat.v4.new_code_cell(code))
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def grade(submitted: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "-q",
                           "-j", "2", *TEST_LIMITS, *extra], cwd=ROOT, capture_output=True, text=True, timeout=1800)


def read_results(out: Path) -> dict[tuple[str, str], dict]:
    return {(p.parent.parent.name, p.parent.name): json.loads(p.read_text()) for p in out.glob("*/*/results.json")}


def scores(results: dict) -> dict[str, tuple[float, float]]:
    """Per graded name: (score, max score), from a results.json."""
    out: dict[str, tuple[float, float]] = {}
    for test in results["tests"]:
        name = test["name"].split(":", 1)[0]
        got, top = out.get(name, (0.0, 0.0))
        out[name] = (got + test["score"], top + test["max_score"])
    return out


# KIT_ANSWERS=02_autograd,04_activations narrows the batch while working on those checks
ASSIGNMENTS = sorted(p.stem for p in ANSWERS.glob("[0-9][0-9]_*.py")
                     if not os.environ.get("KIT_ANSWERS") or p.stem in os.environ["KIT_ANSWERS"].split(","))


def cells_of(name: str, answer) -> dict[str, str]:
    """The cells an answer replaces: a source replaces the cell of ``name``; a dict {grade_id: source}
    replaces several (for a name with no cell of its own, such as test_accuracy)."""
    return answer if isinstance(answer, dict) else {name: answer}


@pytest.fixture(scope="session")
def answer_batch(tmp_path_factory) -> dict:
    """Every stored answer of every assignment, the instructor's and the release notebook, graded.

    Names an answers module lists in ``SLOW`` (test_accuracy trains a model) are graded in a second
    pass, ``--only`` for the instructor, the release and the answers aimed at them.
    """
    root = tmp_path_factory.mktemp("answers")
    submitted, slow_submitted, out = root / "submitted", root / "slow", root / "out"
    expected, depends, slow_names = {}, {}, set()

    def add(student, assignment, notebook, slow):
        for folder in (submitted, slow_submitted) if slow else (submitted,):
            (folder / student / assignment).mkdir(parents=True, exist_ok=True)
            (folder / student / assignment / notebook.name).write_bytes(notebook.read_bytes())

    for assignment in ASSIGNMENTS:
        source = next((ROOT / "source" / assignment).glob("*.ipynb"))
        answers = load_answers(assignment)
        slow = set(getattr(answers, "SLOW", ()))
        slow_names |= slow
        depends[assignment] = getattr(answers, "DEPENDS", {})
        add("instructor", assignment, source, bool(slow))
        add("release", assignment, ROOT / "release" / assignment / source.name, bool(slow))
        expected[("instructor", assignment)] = ("right", None, None)
        expected[("release", assignment)] = ("release", None, None)
        for kind, table in (("wrong", answers.WRONG), ("right", getattr(answers, "RIGHT", {}))):
            for name, variants in table.items():
                for label, answer in variants.items():
                    cells = cells_of(name, answer)
                    student = f"{kind}--{name}--{slug(label)}"
                    built = root / "built" / student / assignment / source.name
                    with_answers(source, cells, built)
                    add(student, assignment, built, name in slow)
                    expected[(student, assignment)] = (kind, name, set(cells))
    done = grade(submitted, out, *(["--skip", ",".join(sorted(slow_names))] if slow_names else []))
    assert done.returncode == 0, done.stderr[-3000:]
    if slow_names:
        again = grade(slow_submitted, out, "--only", ",".join(sorted(slow_names)))
        assert again.returncode == 0, again.stderr[-3000:]
    return {"expected": expected, "depends": depends, "results": read_results(out), "out": out, "run": done}
