"""release/ is what nbgrader makes of source/ today, and no solution text reaches it."""
import json
import re

import nbformat
import pytest

from autograder.release import assignment_names, generate
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
