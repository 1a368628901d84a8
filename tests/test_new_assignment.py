"""An assignment is added by adding files only: a source notebook, its hidden checks and stored answers.

In a copy of the repository, a toy assignment is added, released with nbgrader, graded (a right and a wrong
submission) and audited; afterwards git sees new files and no edited one.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import ROOT, TEST_LIMITS

TOY = "09_toy_scaling"
SOLUTION = '''def scale(x, factor):
    """x with every element multiplied by factor, as a new tensor."""
    ### BEGIN SOLUTION
    return x * factor
    ### END SOLUTION'''
WRONG_SCALE = "def scale(x, factor):\n    return x + factor\n"

CHECKS = '''"""Hidden checks for 09_toy_scaling."""
import torch

from autograder.check import expect_close, expect_unchanged, graded

WARM_UP = ()  # nothing slow to import before forking


@graded("scale")
def test_scale_multiplies_every_element(student):
    """scale multiplies every element by the factor"""
    x = torch.arange(6.0).reshape(2, 3)
    expect_close(student.call("scale", x, 3.0).value, x * 3.0, rtol=1e-6, atol=1e-6, what="scale(x, 3.0)",
                 mistakes={"you added the factor instead of multiplying by it": x + 3.0})


@graded("scale")
def test_scale_leaves_its_input_alone(student):
    """scale returns a new tensor and leaves x as it was"""
    x = torch.arange(6.0)
    expect_unchanged(student.call("scale", x, 2.0), [x], "scale")
'''

ANSWERS = '''"""Answers for 09_toy_scaling."""
WRONG = {
    "scale": {
        "adds instead of multiplying": "def scale(x, factor):\\n    return x + factor\\n",
        "ignores the factor": "def scale(x, factor):\\n    return x.clone()\\n",
        "scales in place": "def scale(x, factor):\\n    return x.mul_(factor)\\n",
    },
}
RIGHT = {
    "scale": {"a loop over elements": "def scale(x, factor):\\n    return torch.stack([v * factor for v in x.flatten()])"
                                      ".reshape(x.shape)\\n"},
}
'''


def _notebook() -> nbformat.NotebookNode:
    def graded_cell(source: str, grade_id: str, test: bool = False) -> nbformat.NotebookNode:
        meta = {"grade": test, "grade_id": grade_id, "locked": test, "schema_version": 3, "solution": not test}
        return new_code_cell(source, metadata={"nbgrader": {**meta, **({"points": 1} if test else {})}})

    return new_notebook(cells=[
        new_markdown_cell("# Toy assignment: scaling a tensor"),
        new_code_cell("import torch"),
        graded_cell(SOLUTION, "scale"),
        graded_cell("assert torch.equal(scale(torch.ones(2), 2.0), torch.full((2,), 2.0))", "test_scale", test=True),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=repo, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


def _copy_of_repository(dest: Path) -> Path:
    """The working tree's files that git knows or would add, committed in a repository of their own."""
    files = _git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "copy")
    return dest


def test_an_assignment_is_added_by_adding_files_only(tmp_path):
    repo = _copy_of_repository(tmp_path / "repo")
    (repo / "source" / TOY).mkdir()
    nbformat.write(_notebook(), repo / "source" / TOY / "toy_scaling.ipynb")
    (repo / "autograder" / "checks" / f"{TOY}.py").write_text(CHECKS)
    (repo / "tests" / "answers" / f"{TOY}.py").write_text(ANSWERS)

    _run(repo, "release", TOY)
    released = nbformat.read(repo / "release" / TOY / "toy_scaling.ipynb", as_version=4)
    assert "return x * factor" not in released.cells[2].source

    submitted = tmp_path / "submitted"
    for student, source in (("right", SOLUTION), ("wrong", WRONG_SCALE)):
        nb = _notebook()
        nb.cells[2].source = source
        (submitted / student / TOY).mkdir(parents=True)
        nbformat.write(nb, submitted / student / TOY / "toy_scaling.ipynb")
    _run(repo, "grade", str(submitted), "--out", str(tmp_path / "grades"), "-q", *TEST_LIMITS)
    results = {s: json.loads((tmp_path / "grades" / s / TOY / "results.json").read_text()) for s in ("right", "wrong")}
    assert [r["score"] for r in (results["right"], results["wrong"])] == [2.0, 1.0]
    assert "added the factor instead of multiplying" in results["wrong"]["tests"][0]["output"]

    audited = _run(repo, "audit", TOY).stdout  # exits non-zero where an answer misbehaves
    assert "every answer behaves" in audited and "3 wrong and 1 right answers" in audited

    changed = [line for line in _git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
               if not line.startswith("?? ")]
    assert changed == []
