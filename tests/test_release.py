"""release/ is what nbgrader makes of source/ today, no solution text reaches it, and nbgrader's own
autograde still works on the notebooks."""
import json
import re
import shutil

import nbformat
import pytest

from autograder.release import assignment_names, generate, nbgrader, nbgrader_course
from conftest import ROOT

NAMES = assignment_names(ROOT / "source")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    generate(ROOT / "source", out)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_release_is_up_to_date(fresh, name):
    for made in (fresh / name).glob("*.ipynb"):
        committed = ROOT / "release" / name / made.name
        assert committed.exists(), f"{committed} is missing: run python -m autograder release"
        assert json.loads(committed.read_text()) == json.loads(made.read_text()), \
            f"{committed} is out of date: run python -m autograder release"


def test_the_demo_hands_in_the_source_and_the_release_of_every_assignment(samples):
    """The demo's ada hands in the instructor's notebook (full marks) and ben the untouched release (zeros)."""
    for name in NAMES:
        for student, folder in (("ada", "source"), ("ben", "release")):
            for made in (ROOT / folder / name).glob("*.ipynb"):
                assert (samples / student / name / made.name).read_bytes() == made.read_bytes()
    assert {p.name for p in samples.iterdir()} == {"ada", "ben", "cleo", "dev", "eve"}


REGION = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)


def secret_lines(source_nb):
    """Substantial lines that stand only inside solution regions of a source notebook."""
    cells = [c.source for c in nbformat.read(source_nb, as_version=4).cells]
    public = {line.strip() for text in cells for line in REGION.sub("", text).splitlines()}
    return {line.strip() for text in cells for region in REGION.findall(text) for line in region.splitlines()
            if len(line.strip()) >= 12 and line.strip() not in public}


@pytest.mark.parametrize("name", NAMES)
def test_no_solution_text_in_release(name):
    for source_nb in (ROOT / "source" / name).glob("*.ipynb"):
        released = nbformat.read(ROOT / "release" / name / source_nb.name, as_version=4)
        text = "\n".join(c.source for c in released.cells)
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        released_lines = {line.strip() for line in text.splitlines()}
        leaked = sorted(secret_lines(source_nb) & released_lines)
        assert not leaked, f"solution text in release/{name}: {leaked[:3]}"


def test_the_leak_check_bites():
    """A 'release' that still holds the answers is caught."""
    source_nb = ROOT / "source" / "01_loss_functions" / "loss_functions.ipynb"
    text = "\n".join(c.source for c in nbformat.read(source_nb, as_version=4).cells)
    assert secret_lines(source_nb) & {line.strip() for line in text.splitlines()}


def test_nbgrader_autograde_still_runs_the_visible_tests(tmp_path):
    """The instructor's notebook passes its visible tests under nbgrader autograde; the release scores 0."""
    from nbgrader.api import Gradebook

    name = "01_loss_functions"
    nbgrader_course(tmp_path, [name], ROOT)
    notebook = next((ROOT / "source" / name).glob("*.ipynb"))
    for student, source in (("alice", notebook), ("bob", ROOT / "release" / name / notebook.name)):
        (tmp_path / "submitted" / student / name).mkdir(parents=True)
        shutil.copy(source, tmp_path / "submitted" / student / name)
    done = nbgrader(tmp_path, "autograde", name)
    assert done.returncode == 0, done.stderr[-3000:]
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        alice, bob = (gradebook.find_submission(name, s) for s in ("alice", "bob"))
        assert alice.max_code_score > 0 and alice.code_score == alice.max_code_score
        assert bob.code_score == 0
