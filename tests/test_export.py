"""LMS gradebook CSVs from synthetic results (no grading)."""
from __future__ import annotations

import csv

import pytest

from autograder import result
from autograder.cli import main
from autograder.export import export_csv
from autograder.result import CheckResult, SubmissionResult


def _result(student: str, assignment: str, status: str, scores: list[tuple[str, float, float]]) -> SubmissionResult:
    checks = [CheckResult(name, "a check", got, top) for name, got, top in scores]
    return SubmissionResult(student, assignment, status, checks)


@pytest.fixture
def out(tmp_path):
    out = tmp_path / "grades"
    full = [("mse_loss", 2, 2), ("mae_loss", 1.5, 2)]         # 3.5 of 4
    result.save(_result("alice", "01_loss_functions", result.GRADED, full), out)
    result.save(_result("alice", "02_autograd", result.GRADED, [("relu_backward", 3, 3)]), out)
    result.save(_result("bob", "01_loss_functions", result.UNGRADABLE,
                        [("mse_loss", 0, 2), ("mae_loss", 0, 2)]), out)
    result.save(_result("bob", "02_autograd", result.GRADED, [("relu_backward", 1 / 3, 3)]), out)
    result.save(_result("cy, jr", "01_loss_functions", result.ERROR, [("mse_loss", 0, 2), ("mae_loss", 0, 2)]), out)
    return out


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_layout(out, tmp_path, capsys):
    dest = export_csv(out, tmp_path / "canvas.csv")
    rows = _rows(dest)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_loss_functions", "02_autograd"]
    assert rows[1] == ["Points Possible", "", "", "", "", "4", "3"]
    body = {r[3]: r for r in rows[2:]}
    assert list(body) == ["alice", "bob", "cy, jr"]
    assert body["alice"] == ["alice", "", "", "alice", "", "3.5", "3"]
    assert body["bob"][5:] == ["", "0.3333"]          # ungradable: empty, never 0
    assert body["cy, jr"][5:] == ["", ""]              # grader error, and no 02 submission
    err = capsys.readouterr().err
    assert "bob/01_loss_functions (ungradable)" in err
    assert "cy, jr/01_loss_functions (grader_error)" in err
    assert "cy, jr/02_autograd" in err


def test_moodle_layout(out, tmp_path):
    rows = _rows(export_csv(out, tmp_path / "moodle.csv", "moodle"))
    assert rows[0] == ["ID number", "01_loss_functions", "02_autograd"]
    assert rows[1:] == [["alice", "3.5", "3"], ["bob", "", "0.3333"], ["cy, jr", "", ""]]


def test_unknown_style(out, tmp_path):
    with pytest.raises(ValueError):
        export_csv(out, tmp_path / "x.csv", "blackboard")
    assert not (tmp_path / "x.csv").exists()


def test_cli(out, tmp_path, capsys):
    assert main(["export", str(out)]) == 0
    assert _rows(out / "canvas.csv")[0][0] == "Student"
    assert main(["export", str(out), "--style", "moodle", "--to", str(tmp_path / "m.csv")]) == 0
    assert _rows(tmp_path / "m.csv")[0][0] == "ID number"
    assert main(["export", str(tmp_path / "empty")]) == 2
