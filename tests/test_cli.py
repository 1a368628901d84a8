"""The commands as an instructor and a student use them: grade the demo samples, regrade one name, check."""
import csv
import json
import re
import shutil
import subprocess
import sys

import pytest

from autograder.modes import mode
from conftest import ROOT, grade, read_results, scores


@pytest.fixture(scope="module")
def demo(tmp_path_factory, samples):
    out = tmp_path_factory.mktemp("demo")
    done = grade(samples, out, "--skip", "test_accuracy")  # test_answers trains the instructor's model already
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def lost(res):
    return {n for n, (got, top) in scores(res).items() if got < top}


def test_grade_prints_the_sandbox_mode_and_a_summary(demo):
    _, done = demo
    assert done.stderr.startswith("sandbox: ")
    assert "mean score" in done.stdout


def test_demo_outcomes(demo):
    results = read_results(demo[0])
    for (student, assignment), res in results.items():
        if student == "ada":
            assert not lost(res) and res["extra_data"]["status"] == "graded", (assignment, res["output"])
        if student == "ben":
            assert all(got == 0 for got, _ in scores(res).values()), assignment
    assert lost(results[("cleo", "01_loss_functions")]) == {"mae_loss", "log_softmax", "cross_entropy_loss"}
    dev = results[("dev", "01_loss_functions")]
    assert lost(dev) == {"mse_loss"} and "Code cell 2 (" in dev["output"] and "did not finish" in dev["output"]
    assert results[("eve", "01_loss_functions")]["extra_data"]["status"] == "ungradable"


def test_grades_csv_has_a_row_per_submission_and_a_column_per_name(demo):
    rows = list(csv.DictReader((demo[0] / "grades.csv").open()))
    assert len(rows) == len(read_results(demo[0]))
    cleo = next(r for r in rows if r["student"] == "cleo")
    assert cleo["status"] == "graded" and float(cleo["mse_loss"]) == 8 and float(cleo["mae_loss"]) < 8
    assert {r["sandbox"] for r in rows} == {mode().name}  # the mode this machine gives
    eve = next(r for r in rows if r["student"] == "eve")
    assert eve["status"] == "ungradable" and float(eve["total"]) == 0


def test_only_regrades_the_named_checks_and_keeps_the_others(demo, samples, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(demo[0], out)
    path = out / "cleo" / "01_loss_functions" / "results.json"
    before = json.loads(path.read_text())
    done = grade(samples, out, "--only", "mae_loss")
    assert done.returncode == 0, done.stderr[-2000:]
    after = json.loads(path.read_text())
    assert scores(after) == scores(before)
    assert sorted(t["name"] for t in after["tests"]) == sorted(t["name"] for t in before["tests"])


@pytest.mark.parametrize("folder,code", [("source", 0), ("release", 1)])
def test_check_runs_the_visible_tests(folder, code):
    notebook = ROOT / folder / "01_loss_functions" / "loss_functions.ipynb"
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(notebook)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == code, done.stdout + done.stderr
    assert "mse_loss" in done.stdout and ("not implemented yet" in done.stdout) == (code == 1)


def test_a_second_run_resumes_and_grades_only_what_changed(samples, tmp_path):
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    for student in ("ada", "ben"):
        shutil.copytree(samples / student / "01_loss_functions", submitted / student / "01_loss_functions")
    first = grade(submitted, out)
    assert first.returncode == 0, first.stderr[-2000:]
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/*/results.json")}
    ben = submitted / "ben" / "01_loss_functions" / "loss_functions.ipynb"
    ben.touch()  # saved again, unchanged
    again = grade(submitted, out)
    assert "resuming: 2 submission(s) already graded" in again.stdout
    assert "sandbox" not in again.stderr, "nothing to grade, yet the sandbox started"
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("*/*/results.json")}
    shutil.copyfile(samples / "ada" / "01_loss_functions" / "loss_functions.ipynb", ben)  # ben resubmits
    third = grade(submitted, out)
    assert "resuming: 1 submission(s)" in third.stdout
    changed = {p.parent.parent.name for p in out.glob("*/*/results.json") if p.stat().st_mtime_ns != stamps[p]}
    assert changed == {"ben"}


def test_a_result_is_kept_only_for_the_same_notebook_bytes_grading_code_limits_and_names(tmp_path, monkeypatch):
    from autograder import assignment, resume
    from autograder.assignment import Assignment, Job, Selection
    from autograder.limits import Limits

    package = tmp_path / "autograder"
    shutil.copytree(ROOT / "autograder", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(resume, "PACKAGE", package)
    monkeypatch.setattr(assignment, "CHECKS", package / "checks")
    notebook = tmp_path / "submitted" / "s" / "loss_functions.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text('{"cells": []}')
    job = Job("s", Assignment("01_loss_functions"), notebook)

    def fingerprint(limits=Limits(), selection=Selection()):
        resume._code.cache_clear()
        return resume.fingerprint(job, limits, selection)

    first = fingerprint()
    notebook.touch()
    shutil.copyfile(notebook, tmp_path / "copy")
    (tmp_path / "copy").replace(notebook)  # a new inode, the same bytes
    assert fingerprint() == first
    (notebook.parent / "timestamp.txt").write_text("2026-12-01 23:59:59.123456 UTC")
    assert fingerprint() != first  # the same notebook handed in again at another time
    (notebook.parent / "timestamp.txt").unlink()
    changed = {"limits": fingerprint(limits=Limits(call_seconds=5)),
               "selection": fingerprint(selection=Selection(skip=frozenset({"mse_loss"})))}
    kept = {}
    for path in [notebook, *sorted(package.rglob("*.py"))]:
        text = path.read_text()
        path.write_text(text + "\n")
        what = path.relative_to(package).as_posix() if path != notebook else "notebook"
        (changed if fingerprint() != first else kept)[what] = path
        path.write_text(text)
    assert fingerprint() == first
    assert len(changed) > 30 and {"notebook", "checks/01_loss_functions.py", "harness/probes.py", "student.py",
                                  "plugin.py", "notebook.py", "data.py", "check.py"} <= set(changed)
    # what a change leaves graded: other assignments' own files, and the modules that only present results
    assert all(re.match(r"(checks|harness/assignments)/0[2-9]_", what) or what in resume.PRESENTATION
               for what in kept), kept


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_a_worker_count_below_one_is_refused_at_once(jobs, samples, tmp_path):
    """-j 0 used to wait forever for a worker that never started."""
    argv = [sys.executable, "-m", "autograder", "grade", str(samples), "--out", str(tmp_path), "-j", jobs]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "argument -j/--jobs: expected a whole number of at least 1" in done.stderr
    assert not any(tmp_path.iterdir())


def test_grade_says_why_it_finds_nothing_to_grade(tmp_path, capsys):
    from autograder.cli import main

    assert main(["grade", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    assert "is not a folder of submissions" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["grade", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert "no submissions found under" in capsys.readouterr().err
