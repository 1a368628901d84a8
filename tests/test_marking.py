"""Written answers graded by hand: the marking page in headless Chromium, the marks' merge into results,
grades.csv, feedback pages and export, the CSV round trip, resubmissions, and regrades that keep every mark."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from autograder import marks, notebook, result, written
from autograder.assignment import Assignment
from autograder.marking.server import Marking, order
from autograder.marks import Mark, Store
from autograder.marksheet import export_marks, import_marks
from autograder.result import GRADED, CheckResult, SubmissionResult
from autograder.rubric import answer_hash
from conftest import ROOT, grade, read_results

A, Q = "01_loss_functions", "why_cross_entropy"
STUDENTS = ["ada", "ben", "cleo", "dev"]  # the demo's readable 01 notebooks (eve's is no notebook)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def grades(samples, tmp_path) -> Path:
    """A grades folder of the demo's 01 notebooks: their written answers as grading reads them, and one
    autograded check each (no sandbox: the checks are not what is tested here)."""
    out = tmp_path / "grades"
    for student in STUDENTS:
        found = written.find(notebook.read(samples / student / A / "loss_functions.ipynb"),
                             written.release_cells(Assignment(A).release))
        result.save(SubmissionResult(student, A, GRADED, [CheckResult("mse_loss", "a check", 1, 2)],
                                     answers={w.grade_id: w.text for w in found if w.text is not None}), out)
    marks.publish(out)
    return out


@pytest.fixture
def server(grades):
    """``python -m autograder mark GRADES --port 0``; its URL. Stopped with Ctrl-C, as an instructor does."""
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "mark", str(grades), "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("grading page: "), line + proc.stderr.read()
    yield line.split()[2], proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("KIT_SCREENSHOTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_grading_by_keyboard_reaches_the_database_results_pages_and_export(page, server, grades, tmp_path):
    url, proc = server
    shots = _shots(tmp_path)
    page.goto(f"{url}q/{A}/{Q}")
    first = order(A, Q, STUDENTS)
    assert page.locator("#who").inner_text() == "answer 1 (name hidden)"
    assert page.locator("#progress").inner_text() == "0 of 4 graded"
    page.screenshot(path=str(shots / "marking-start.png"), full_page=True)
    # answer 1: items 1 and 2 and a comment; answer 2: item 1; answer 3: items 2 and 3
    for keys, comment in ((["1", "2"], "Clear, with the gradient argument."), (["1"], ""), (["2", "3"], "")):
        for key in keys:
            page.keyboard.press(key)
        if comment:
            page.keyboard.press("c")
            page.keyboard.type(comment + " jk123")  # keys typed in the comment box do not grade or move
            page.keyboard.press("Escape")
        expect(page.locator("#saved")).to_have_text("saved")  # the page's CSP forbids evaluated scripts
        page.keyboard.press("j")
    assert page.locator("#progress").inner_text() == "3 of 4 graded"
    page.keyboard.press("n")
    assert page.locator("#who").inner_text() == first[3]
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.locator("#items li").first.locator("input").fill("0.5")  # "likelihood": 1 -> 0.5, re-scores everyone
    page.locator("#items li").first.locator("input").press("Tab")
    expect(page.locator("#saved")).to_have_text(re.compile("^re-scored"))
    assert page.locator("#score").inner_text() == "1.5 / 2"
    page.screenshot(path=str(shots / "marking-rescored.png"), full_page=True)
    page.goto(f"{url}q/{A}/{Q}/alike")
    assert "3 answers alike: answer " in page.locator("h2").first.inner_text()  # names hidden here too
    page.screenshot(path=str(shots / "marking-alike.png"), full_page=True)
    assert "updated with the marks" in _stop(proc)

    store = Store(grades)
    stored = store.marks()
    store.close()
    comment = "Clear, with the gradient argument. jk123"
    assert {k[0]: (m.items, m.comment) for k, m in stored.items()} == {
        first[0]: (("likelihood", "gradient"), comment), first[1]: (("likelihood",), ""),
        first[2]: (("gradient", "wrong-claim"), "")}
    expected = {first[0]: "1.5", first[1]: "0.5", first[2]: "0.5", first[3]: "pending"}
    assert {r["student"]: r[Q] for r in _rows(grades / "grades.csv")} == expected
    tests = {s: next(t for t in json.loads((grades / s / A / "results.json").read_text())["tests"]
                     if t["name"].startswith(Q)) for s in STUDENTS}
    assert tests[first[0]]["score"] == 1.5 and comment in tests[first[0]]["output"]
    assert "+0.5 Explains that cross-entropy" in tests[first[0]]["output"]
    assert "score" not in tests[first[3]] and tests[first[3]]["output"].startswith("Pending")
    feedback = (grades / first[0] / A / "feedback.html").read_text()
    assert comment in feedback and "Total: 2.5 / 4" in feedback
    assert "why_cross_entropy pending" in (grades / first[3] / A / "feedback.html").read_text()
    done = subprocess.run([sys.executable, "-m", "autograder", "export", str(grades), "--style", "moodle"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    exported = {r["ID number"]: r[A] for r in _rows(grades / "moodle.csv")}
    assert exported == {first[0]: "2.5", first[1]: "1.5", first[2]: "1.5", first[3]: ""}
    assert f"{first[3]}/{A} ({Q})" in done.stderr


def _some_marks(grades: Path) -> None:
    answers = {r.student: r.answers[Q] for r in result.load_all(grades)}
    store = Store(grades)
    store.seed()
    comment = 'Good, "but": a,b\nline 2 é'  # quotes, a comma, a line break, a non-ASCII letter
    store.put([Mark("ada", A, Q, answer_hash(answers["ada"]), ("likelihood", "gradient"), comment),
               Mark("ben", A, Q, answer_hash(answers["ben"]), (), ""),
               Mark("cleo", A, Q, answer_hash(answers["cleo"]), ("gradient", "wrong-claim"), "see §2")])
    store.close()


def test_the_csv_round_trip_loses_nothing(grades, tmp_path):
    _some_marks(grades)
    first = tmp_path / "marks.csv"
    assert export_marks(grades, first) == 3
    empty = tmp_path / "empty"
    shutil.copytree(grades, empty, ignore=shutil.ignore_patterns("marks.sqlite*"))
    assert import_marks(empty, first) == []
    again = tmp_path / "again.csv"
    export_marks(empty, again)
    assert again.read_bytes() == first.read_bytes()
    rows = _rows(first)
    assert [r["student"] for r in rows] == ["ada", "ben", "cleo"] and rows[2]["items"] == "gradient;wrong-claim"


def test_bad_rows_are_refused_with_reasons_and_nothing_is_applied(grades, tmp_path):
    _some_marks(grades)
    good = tmp_path / "marks.csv"
    export_marks(grades, good)
    header, ada, *_ = list(csv.reader(good.open(newline="", encoding="utf-8")))  # ada's comment spans lines 2-3
    sha = "0" * 64
    bad = [header, ada,
           ["zoe", A, Q, sha, "marked", "", "", ""],
           ["ben", A, "nope", sha, "marked", "", "", ""],
           ["ben", A, Q, sha, "marked", "", "likelihood;typo", ""],
           ["ben", A, Q, "xyz", "marked", "", "", ""],
           ["ben", A, Q, sha, "marked", "2", "likelihood", ""],
           ada]
    path = tmp_path / "bad.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(bad)
    empty = tmp_path / "empty"
    shutil.copytree(grades, empty, ignore=shutil.ignore_patterns("marks.sqlite*"))
    errors = import_marks(empty, path)
    assert [e.split(":")[0] for e in errors] == [f"line {n}" for n in (4, 5, 6, 7, 8, 9)], errors
    assert "no graded submission" in errors[0] and "zoe" in errors[0]
    assert "no written answer named 'nope'" in errors[1]
    assert "no item 'typo'" in errors[2]
    assert "not a SHA-256" in errors[3]
    assert "disagree with the rubric, which gives 1" in errors[4]
    assert "a second mark" in errors[5] and "the first is on line 2" in errors[5]
    store = Store(empty)
    assert store.marks() == {}  # nothing half-applied
    store.close()
    done = subprocess.run([sys.executable, "-m", "autograder", "mark", str(empty), "--import", str(path)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "nothing imported (6 bad row(s))" in done.stderr


def test_a_resubmitted_answer_needs_grading_again(grades, tmp_path):
    _some_marks(grades)
    ada = result.load(result.results_path(grades, "ada", A))
    ada.answers[Q] += "\nOne more sentence after the deadline."
    result.save(ada, grades)
    marks.publish(grades)
    test = next(t for t in json.loads(result.results_path(grades, "ada", A).read_text())["tests"]
                if t["name"].startswith(Q))
    assert "score" not in test and "needs grading again" in test["output"]
    assert {r["student"]: r[Q] for r in _rows(grades / "grades.csv")}["ada"] == "pending"
    export_marks(grades, tmp_path / "marks.csv")
    assert {r["student"]: r["state"] for r in _rows(tmp_path / "marks.csv")} == {
        "ada": "needs grading again", "ben": "marked", "cleo": "marked"}
    marking = Marking(grades)
    states = {r["student"]: r["state"] for r in marking.question_data(A, Q)["answers"]}
    marking.store.close()
    assert states == {"ada": "changed", "ben": "graded", "cleo": "graded", "dev": "pending"}


def test_a_regrade_of_the_checks_keeps_every_mark(samples, tmp_path):
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    for student in ("ada", "cleo"):
        shutil.copytree(samples / student / A, submitted / student / A)
    assert grade(submitted, out).returncode == 0
    _marked = {"ada": ("likelihood", "gradient"), "cleo": ("gradient",)}
    answers = {s: r["extra_data"]["written_answers"][Q] for (s, _), r in read_results(out).items()}
    store = Store(out)
    store.seed()
    store.put([Mark(s, A, Q, answer_hash(answers[s]), items, f"comment for {s}") for s, items in _marked.items()])
    store.close()

    def written() -> dict[str, float]:
        return {s: next(t["score"] for t in r["tests"] if t["name"].startswith(Q)) for (s, _), r in
                read_results(out).items()}

    for extra in ((), ("--only", "mae_loss")):  # resumed (nothing to grade), then one name regraded
        done = grade(submitted, out, *extra)
        assert done.returncode == 0, done.stderr[-2000:]
        assert written() == {"ada": 2, "cleo": 1}, extra
        assert {r["student"]: r[Q] for r in _rows(out / "grades.csv")} == {"ada": "2", "cleo": "1"}


def test_rubrics_are_no_part_of_the_checks_fingerprint_nor_of_the_bundle():
    from autograder import bundle, resume
    from autograder.assignment import Assignment

    for assignment in (Assignment(A), Assignment("05_mnist_classifier")):  # a module and a package of checks
        assert not [p for p in resume.marking_files(assignment) if "rubrics" in p.parts]
        assert not [p for p in bundle._package_files(assignment) if "rubrics" in p.parts]


@pytest.mark.parametrize("text,reason", [("[[q]]\nid = 'a'\npoints = 1\n", "needs id"),
                                         ("q = 3\n", "array of tables"),
                                         ("[[q]\n", "Expected"),
                                         ("[[q]]\nid='a'\npoints=1\ntext='x'\n[[q]]\nid='a'\npoints=2\ntext='y'\n",
                                          "share an id")])
def test_a_bad_rubric_template_is_refused_naming_the_file(tmp_path, text, reason):
    from autograder.rubric import RubricError, template

    (tmp_path / f"{A}.toml").write_text(text)
    with pytest.raises(RubricError, match=reason) as caught:
        template(A, tmp_path)
    assert f"{A}.toml" in str(caught.value)


def test_a_mark_given_to_the_alike_answers_leaves_other_marks_alone(page, server, grades):
    url, proc = server
    cleo = result.load(result.results_path(grades, "cleo", A)).answers[Q]
    store = Store(grades)
    store.put([Mark("cleo", A, Q, answer_hash(cleo), ("gradient",), "marked before")])
    store.close()
    page.goto(f"{url}q/{A}/{Q}")
    page.keyboard.press("n")
    while page.locator("#who").inner_text() != "ada":  # cleo and dev handed in ada's answer word for word
        page.keyboard.press("j")
    page.keyboard.press("1")
    expect(page.locator("#saved")).to_have_text("saved")
    page.keyboard.press("a")
    expect(page.locator("#progress")).to_have_text("3 of 4 graded")
    expect(page.locator("#saved")).to_have_text("saved")
    _stop(proc)
    store = Store(grades)
    assert {k[0]: m.items for k, m in store.marks().items()} == {"ada": ("likelihood",), "cleo": ("gradient",),
                                                                  "dev": ("likelihood",)}
    store.close()
