"""Written answers found by nbgrader's metadata, by their place in the release notebook where an editor removed
it (tests/fidelity/variants.py's notebooks), or reported missing; no grading but one end-to-end run."""
from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

from autograder import notebook, written
from autograder.assignment import Assignment, all_assignments
from conftest import ROOT, grade, read_results

_spec = importlib.util.spec_from_file_location("variants", Path(__file__).parent / "fidelity" / "variants.py")
variants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(variants)

ASSIGNMENTS = list(all_assignments().values())


def _found(folder: Path, assignment: Assignment) -> list[written.WrittenAnswer]:
    [path] = folder.glob("*.ipynb")
    return written.find(notebook.read(path), written.release_cells(assignment.release))


def _build(build, tmp_path: Path, assignment: Assignment) -> Path:
    folder = tmp_path / build.__name__ / assignment.id
    folder.mkdir(parents=True)
    build(ROOT / "source" / assignment.id / assignment.notebook, folder, assignment.id)
    return folder


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.id)
def test_an_answer_without_metadata_is_found_by_its_place(tmp_path, assignment):
    [expected] = [c for c in notebook.read(assignment.release) if c.is_written_answer]
    [by_metadata] = written.find(notebook.read(ROOT / "source" / assignment.id / assignment.notebook),
                                 written.release_cells(assignment.release))
    assert by_metadata.found_by == written.METADATA and by_metadata.words > 20
    for build, how in ((variants.colab, written.PLACE), (variants.no_nbgrader_metadata, written.PLACE),
                       (variants.windows, written.METADATA), (variants.nbformat3, written.METADATA)):
        [answer] = _found(_build(build, tmp_path, assignment), assignment)
        assert (answer.grade_id, answer.found_by, answer.words) == (expected.grade_id, how, by_metadata.words), \
            build.__name__
        assert ("found by its place" in str(answer)) == (how == written.PLACE)


def _stripped(tmp_path: Path, assignment: Assignment, change) -> list[written.WrittenAnswer]:
    """The instructor's notebook without nbgrader's metadata, ``change``d (a function of its cells)."""
    folder = _build(variants.no_nbgrader_metadata, tmp_path, assignment)
    [path] = folder.glob("*.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells = change(nb.cells)
    nbformat.write(nb, path)
    return _found(folder, assignment)


def _answer_at() -> int:
    """Where 01's written answer stands in the instructor's notebook (its variants keep the cells' order)."""
    source = notebook.read(ROOT / "source" / "01_loss_functions" / "loss_functions.ipynb")
    return next(c.index for c in source if c.is_written_answer)


def test_a_deleted_answer_is_reported_missing_with_the_fix(tmp_path):
    at = _answer_at()
    [answer] = _stripped(tmp_path, Assignment("01_loss_functions"), lambda cells: cells[:at] + cells[at + 1:])
    assert answer.text is None and answer.found_by == ""
    assert str(answer).startswith("why_cross_entropy: written answer MISSING: ")
    assert "write it in the markdown cell below its question" in str(answer)


def test_an_answer_in_two_cells_or_written_into_the_question_is_found(tmp_path):
    at = _answer_at()
    a = Assignment("01_loss_functions")
    second = nbformat.v4.new_markdown_cell("A second paragraph.")
    [answer] = _stripped(tmp_path / "split", a, lambda cells: cells[:at + 1] + [second] + cells[at + 1:])
    assert answer.found_by == written.PLACE and answer.text.endswith("\n\nA second paragraph.")

    def into_question(cells):
        cells[at - 1].source += "\n\nMy answer: cross-entropy punishes confident mistakes."
        return cells[:at] + cells[at + 1:]
    [answer] = _stripped(tmp_path / "question", a, into_question)
    assert answer.found_by == written.PLACE and "confident mistakes" in answer.text


def test_an_untouched_stub_is_found_with_no_words(tmp_path):
    a = Assignment("01_loss_functions")
    folder = tmp_path / "ben"
    folder.mkdir()
    variants.colab(a.release, folder, a.id)
    [answer] = _found(folder, a)
    assert (answer.found_by, answer.words) == (written.PLACE, 0)


def test_without_a_release_the_metadata_alone_finds_answers():
    cells = notebook.read(ROOT / "source" / "01_loss_functions" / "loss_functions.ipynb")
    assert [a.grade_id for a in written.find(cells, [])] == ["why_cross_entropy"]
    assert written.release_cells(Path("/nonexistent/x.ipynb")) == []


def test_grading_lists_answers_found_by_place_and_missing_ones_and_records_the_time(tmp_path):
    """One end-to-end run of 01 (-j 1): Colab's save with nbgrader's timestamp, late under the grades folder's
    policy, and one with the answer deleted."""
    a = Assignment("01_loss_functions")
    submitted = tmp_path / "submitted"
    colab, gone = _build(variants.colab, submitted, a), submitted / "gone" / a.id
    (colab / "timestamp.txt").write_text("2026-12-01 23:59:59.123456 UTC\n")
    raw = json.loads((colab / a.notebook).read_text())
    del raw["cells"][_answer_at()]
    gone.mkdir(parents=True)
    (gone / a.notebook).write_text(json.dumps(raw))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "late.toml").write_text("penalty_per_day = 10\n[due]\n"
                                                "01_loss_functions = 2026-11-30T12:00:00Z\n")
    done = grade(submitted, tmp_path / "out", "-j", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    results = read_results(tmp_path / "out")
    found, missing = results[("colab", a.id)], results[("gone", a.id)]
    assert found["score"] == sum(t["max_score"] for t in found["tests"] if "score" in t)  # all but the pending
    assert "why_cross_entropy: written answer, graded by hand (" in found["output"]
    assert "found by its place" in found["output"]
    assert found["extra_data"]["submitted_at"] == "2026-12-01T23:59:59.123456+00:00"
    assert found["extra_data"]["submitted_from"] == "timestamp.txt"
    assert missing["extra_data"]["submitted_from"] == "file time"
    assert "why_cross_entropy: written answer MISSING" in missing["output"]
    feedback = (tmp_path / "out" / "gone" / a.id / "feedback.html").read_text()
    assert "why_cross_entropy: written answer MISSING" in feedback
    row = next(csv.DictReader((tmp_path / "out" / "grades.csv").open()))  # colab's: 1.5 days late, 20% off
    assert (row["student"], row["days_late"], float(row["late_penalty"])) == ("colab", "2", found["score"] * 0.2)
    assert row["why_cross_entropy"] == row["final"] == "pending"  # the written answer is to be graded by hand
    feedback = (tmp_path / "out" / "colab" / a.id / "feedback.html").read_text()
    assert "2 day(s) late (due 2026-11-30 12:00 UTC)" in feedback
