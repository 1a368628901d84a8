"""The end-of-run summary and the HTML pages, from synthetic results.json files (no grading)."""
import html
import re

import pytest

from autograder import cli, report
from autograder.pages import write_pages
from autograder.result import ERROR, GRADED, UNGRADABLE, CheckResult, SubmissionResult, load_all, save

A = "01_loss_functions"
HOSTILE_NAME = '<img src=x onerror="alert(1)">'  # a folder name cannot hold "/"
HOSTILE_MESSAGE = "<script>alert(1)</script> & friends"
NOT_YET = "mse_loss is not implemented yet: it still raises NotImplementedError"
FLAG = "mse_loss: searches the garbage collector's objects (get_objects) (code cell 3, line 4: <script>gc.get_objects()"


def checks(mse: float, mae: float, message: str = NOT_YET) -> list[CheckResult]:
    return [CheckResult("mse_loss", "matches the PyTorch loss", mse, 2, "" if mse == 2 else message),
            CheckResult("mae_loss", "matches the PyTorch loss", mae, 2, "" if mae == 2 else "mae is off")]


@pytest.fixture
def out(tmp_path):
    results = [
        SubmissionResult("ada", A, GRADED, checks(2, 2), "why: written answer, graded by hand (80 words)", 3.0),
        SubmissionResult("ben", A, GRADED, checks(0, 0), "", 4.0),
        SubmissionResult("cleo", A, GRADED, checks(0, 1), "", 5.0),
        SubmissionResult("dan", A, GRADED, checks(0, 2), "", 6.0, flags=[FLAG]),
        SubmissionResult(HOSTILE_NAME, A, GRADED, checks(1, 2, HOSTILE_MESSAGE), "", 7.0),
        SubmissionResult("eve", A, UNGRADABLE, checks(0, 0, "not graded: not a notebook"),
                         "Your submission could not be graded: not a notebook\nsecond line", 1.0),
        SubmissionResult("fay", A, ERROR, checks(2, 0), "The grader failed on this submission.", 99.0),
        SubmissionResult("ada", "02_autograd", GRADED, [CheckResult("relu_backward", "is exact", 1, 1)], "", 2.0),
    ]
    for r in results:
        save(r, tmp_path)
    return tmp_path


def test_summary_shows_distribution_slowest_and_not_graded(out):
    text = report.summary(load_all(out))
    assert "min/med/max" in text and "<25%" in text and "(total)" in text
    mse = next(line for line in text.splitlines() if line.startswith("mse_loss"))
    assert mse.split()[1:] == ["0.71", "/", "2", "0/0/2", "4", "0", "0", "1", "0", "2"]
    slowest = next(line for line in text.splitlines() if line.startswith("slowest") and "fay" in line)
    assert slowest.startswith("slowest: fay 99.0 s, ") and "ada" not in slowest and "eve" not in slowest
    assert "Your submission could not be graded: not a notebook" in text and "second line" not in text
    assert re.search(r"\nfay +grader_error +The grader failed on this submission\.\n", text)


def test_integrity_flags_reach_the_instructor_only(out):
    text = report.summary(load_all(out))
    assert re.search(r"\ndan +mse_loss: searches the garbage collector's objects", text), text
    write_pages(out)
    assert html.escape(FLAG) in (out / "report" / f"{A}.html").read_text()
    assert "garbage collector" not in (out / "dan" / A / "feedback.html").read_text()


def test_pages_exist_and_link_each_other(out):
    paths = write_pages(out)
    assert paths[0] == out / "report" / "index.html"
    assert {out / "report" / f"{a}.html" for a in (A, "02_autograd")} <= set(paths)
    assert (out / "ada" / A / "feedback.html") in paths and (out / "eve" / A / "feedback.html") in paths
    index = paths[0].read_text()
    assert f'href="{A}.html"' in index and f'href="../ada/{A}/feedback.html"' in index


def test_assignment_page_has_histograms_and_frequent_failures(out):
    write_pages(out)
    page = (out / "report" / f"{A}.html").read_text()
    assert page.count("<svg") == 3  # the total and two graded names
    assert "7 submission(s): 5 graded, 1 ungradable, 1 grader_error" in page
    # three readable submissions fail mse_loss with NOT_YET; eve's unreadable file is not counted
    assert f"<tr><td>3</td><td><pre>{NOT_YET}</pre></td></tr>" in page
    assert "not a notebook" not in page
    assert "<script" not in page.lower()


def test_feedback_page_shows_checks_and_notes(out):
    write_pages(out)
    page = (out / "cleo" / A / "feedback.html").read_text()
    assert "Total: 1 / 4" in page and "matches the PyTorch loss" in page
    assert "<td>failed</td>" in page and "<td>passed</td>" not in page
    assert f"<pre>{NOT_YET}</pre>" in page and "<pre>mae is off</pre>" in page and "1 / 2" in page
    assert "written answer, graded by hand" in (out / "ada" / A / "feedback.html").read_text()
    assert "(grader_error)" in (out / "fay" / A / "feedback.html").read_text()


def test_hostile_names_and_messages_are_escaped(out):
    paths = write_pages(out)
    feedback = (out / HOSTILE_NAME / A / "feedback.html").read_text()
    assert html.escape(HOSTILE_MESSAGE) in feedback and html.escape(HOSTILE_NAME) in feedback
    for path in paths:
        text = path.read_text()
        assert HOSTILE_NAME not in text and "<script" not in text.lower() and "<img" not in text, path
    index = paths[0].read_text()
    assert 'href="../%3Cimg%20src%3Dx%20onerror%3D%22alert%281%29%22%3E/' in index


def test_report_command_prints_the_index(out, capsys):
    assert cli.main(["report", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "report" / "index.html")
