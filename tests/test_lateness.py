"""Late submissions: nbgrader's timestamps, the late policy, and its penalty in grades.csv, export and feedback
(synthetic results, no grading)."""
from __future__ import annotations

import csv
import os
from datetime import datetime, timedelta, timezone

import pytest

from autograder import lateness, result
from autograder.cli import main
from autograder.export import export_csv
from autograder.lateness import PolicyError, parse_timestamp, submission_time
from autograder.pages import write_pages
from autograder.result import CheckResult, SubmissionResult

UTC = timezone.utc
POLICY = """timezone = "Europe/Berlin"
penalty_per_day = 10
penalty_cap = 25
grace_minutes = 15
extensions = "extensions.csv"

[due]
01_loss_functions = 2026-12-01T23:59:00
"""


@pytest.mark.parametrize("text, expected", [
    ("2026-12-01 23:59:59.123456 UTC", datetime(2026, 12, 1, 23, 59, 59, 123456, UTC)),  # nbgrader submit
    ("2026-12-01 23:59:59.5 CET", datetime(2026, 12, 1, 22, 59, 59, 500000, UTC)),        # its timezone setting
    ("2026-12-01 23:59:59 -0500", datetime(2026, 12, 2, 4, 59, 59, tzinfo=UTC)),
    ("2026-12-01 23:59:59+01:00", datetime(2026, 12, 1, 22, 59, 59, tzinfo=UTC)),         # zip_collect
    ("2026-12-01 23:59:59", datetime(2026, 12, 1, 23, 59, 59, tzinfo=UTC)),               # no zone: UTC
])
def test_nbgraders_timestamps(text, expected):
    assert parse_timestamp(text) == expected


def test_the_submission_time_comes_from_timestamp_txt_else_the_file_time(tmp_path):
    notebook = tmp_path / "loss_functions.ipynb"
    notebook.write_text("{}")
    os.utime(notebook, (1_700_000_000, 1_700_000_000))
    assert submission_time(notebook) == (datetime.fromtimestamp(1_700_000_000, UTC), "file time")
    (tmp_path / "timestamp.txt").write_text("2026-12-01 23:59:59.123456 UTC\n")
    assert submission_time(notebook) == (datetime(2026, 12, 1, 23, 59, 59, 123456, UTC), "timestamp.txt")
    (tmp_path / "timestamp.txt").write_text("yesterday-ish")
    when, source = submission_time(notebook)
    assert when == datetime.fromtimestamp(1_700_000_000, UTC) and source.startswith("file time (timestamp.txt is not")
    (tmp_path / "timestamp.txt").write_text("2026-12-01 23:59:59 UTC" + " " * 5000)
    assert submission_time(notebook)[1] == "file time (timestamp.txt is not a small regular file)"
    (tmp_path / "timestamp.txt").unlink()
    (tmp_path / "timestamp.txt").symlink_to("/etc/hostname")
    assert submission_time(notebook)[1] == "file time (timestamp.txt is not a small regular file)"
    assert submission_time(tmp_path / "missing.ipynb") == (None, "no notebook, no timestamp.txt")


def _result(student: str, status: str = result.GRADED, score: float = 8.0, submitted: str = "") -> SubmissionResult:
    checks = [CheckResult("mse_loss", "a check", score, 10)]
    return SubmissionResult(student, "01_loss_functions", status, checks, submitted=submitted,
                            submitted_from="timestamp.txt")


DUE = datetime(2026, 12, 1, 22, 59, tzinfo=UTC)  # 23:59 in Berlin


@pytest.fixture
def out(tmp_path):
    """A grades folder with a policy: 10% a day, at most 25%, 15 minutes' grace, 2 days more for cleo."""
    out = tmp_path / "grades"
    out.mkdir()
    (out / "late.toml").write_text(POLICY)
    (out / "extensions.csv").write_text("student,assignment,days\ncleo,*,2\n")
    for r in (_result("ada", submitted=(DUE + timedelta(minutes=14)).isoformat()),        # within the grace
              _result("ben", submitted=(DUE + timedelta(hours=25)).isoformat()),          # 2 days late: 20%
              _result("cleo", submitted=(DUE + timedelta(days=2, hours=1)).isoformat()),  # 1 day after her extension
              _result("dev", score=1.0, submitted=(DUE + timedelta(days=9)).isoformat()),  # capped, never below 0
              _result("eve", result.UNGRADABLE, 0.0, (DUE + timedelta(days=9)).isoformat()),
              _result("fay")):                                                             # no time recorded
        result.save(r, out)
    return out


def test_the_policy_and_its_rule(out):
    policy = lateness.load(out)
    assert policy.due["01_loss_functions"] == DUE and policy.grace == timedelta(minutes=15)
    got = {r.student: (lateness.assess(policy, r), lateness.final_score(policy, r)) for r in result.load_all(out)}
    assert (got["ada"][0].days, got["ada"][1]) == (0, 8)
    assert (got["ben"][0].days, got["ben"][0].percent, got["ben"][1]) == (2, 20, 6)   # 20% of 10 points
    assert (got["cleo"][0].days, got["cleo"][0].extension_days, got["cleo"][1]) == (1, 2, 7)
    assert (got["dev"][0].days, got["dev"][0].percent, got["dev"][1]) == (9, 25, 0)   # 2.5 off 1 point: 0, not -1.5
    assert got["eve"][1] is None                                                       # not graded: no total, not 0
    assert got["fay"][0].days is None and got["fay"][1] == 8


def test_no_policy_changes_nothing(tmp_path):
    r = _result("ada", submitted=(DUE + timedelta(days=3)).isoformat())
    assert lateness.load(tmp_path) is None and lateness.assess(None, r) is None and lateness.final_score(None, r) == 8


@pytest.mark.parametrize("text, says", [
    ("penalty_per_days = 10\n", "unknown setting(s) penalty_per_days"),
    ('timezone = "Mars/Olympus"\n', "'Mars/Olympus' is not a time zone name"),
    ("penalty_cap = 150\n", "penalty_cap is 150, over 100 percent"),
    ("penalty_per_day = -5\n", "penalty_per_day must be a number of at least 0"),
    ('[due]\n01_loss_functions = "next friday"\n', "the due time of 01_loss_functions is 'next friday'"),
    ("penalty_per_day = \n", "late.toml: "),
])
def test_a_policy_it_cannot_use_is_refused_with_the_reason(tmp_path, text, says):
    (tmp_path / "late.toml").write_text(text)
    with pytest.raises(PolicyError, match=None) as refused:
        lateness.load(tmp_path)
    assert says in str(refused.value)


def test_every_bad_extension_row_is_named(tmp_path):
    (tmp_path / "late.toml").write_text('extensions = "ext.csv"\n')
    (tmp_path / "ext.csv").write_text("student,assignment,days\nada,01_loss_functions,two\n,*,1\n"
                                      "ben,*,1\nben,*,3\n")
    with pytest.raises(PolicyError) as refused:
        lateness.load(tmp_path)
    message = str(refused.value)
    assert "line 2: days must be a number" in message and "line 3: a student and an assignment" in message
    assert "line 5: a second extension for ben and *" in message


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_grades_csv_shows_each_students_lateness(out):
    result.write_grades_csv(result.load_all(out), out / "grades.csv", lateness.load(out))
    rows = {r["student"]: r for r in _rows(out / "grades.csv")}
    late = {s: (r["days_late"], r["extension_days"], r["late_penalty"], r["final"]) for s, r in rows.items()}
    assert late == {"ada": ("0", "0", "0", "8"), "ben": ("2", "0", "2", "6"), "cleo": ("1", "2", "1", "7"),
                    "dev": ("9", "0", "1", "0"), "eve": ("9", "0", "0", ""), "fay": ("", "0", "0", "8")}
    assert rows["ben"]["total"] == "8" and rows["ben"]["submitted"] == (DUE + timedelta(hours=25)).isoformat()


def test_export_applies_the_penalty_and_warns_of_unknown_times(out, capsys):
    rows = list(csv.reader(export_csv(out, out / "moodle.csv", "moodle").open()))
    assert rows[1:] == [["ada", "8"], ["ben", "6"], ["cleo", "7"], ["dev", "0"], ["eve", ""], ["fay", "8"]]
    assert "1 submission(s) have no recorded submission time" in capsys.readouterr().err


def test_the_feedback_page_says_how_late_and_what_it_cost(out):
    write_pages(out)
    page = lambda s: (out / s / "01_loss_functions" / "feedback.html").read_text()  # noqa: E731
    assert "Total: 6 / 10 (8 before the late penalty)" in page("ben")
    assert "Handed in 2026-12-03 00:59 CET, 2 day(s) late (due 2026-12-01 23:59 CET): 20% of the points off, -2." \
        in page("ben")
    assert "on time (due 2026-12-01 23:59 CET)." in page("ada")
    assert "1 day(s) late (due 2026-12-03 23:59 CET, with an extension of 2 day(s))" in page("cleo")
    assert "No submission time was recorded" in page("fay")
    assert "(2 d late)" in (out / "report" / "index.html").read_text()


def test_report_rewrites_grades_csv_after_a_policy_change_and_a_bad_policy_stops_every_command(out, capsys):
    assert main(["report", str(out)]) == 0
    assert _rows(out / "grades.csv")[1]["final"] == "6"
    (out / "late.toml").write_text(POLICY.replace("penalty_per_day = 10", "penalty_per_day = 5"))
    assert main(["report", str(out)]) == 0
    assert _rows(out / "grades.csv")[1]["final"] == "7"
    (out / "late.toml").write_text("penalty_cap = 'lots'\n")
    for command in (["report", str(out)], ["export", str(out)], ["grade", str(out), "--out", str(out)]):
        assert main(command) == 2
        assert "error: the late policy: " in capsys.readouterr().err
