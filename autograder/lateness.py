"""Late submissions: when a submission was handed in, and what a course's late policy takes off for it.

``grade`` records each submission's time in its results.json (``submission_time``): nbgrader's
``timestamp.txt`` beside the notebook, else the notebook's file time. The policy is applied where grades are
presented (grades.csv, the feedback pages, ``export``), read from ``late.toml`` in the grades folder, so that
all three apply the same one and a changed policy needs no regrading (``report`` rewrites them)::

    timezone = "Europe/Berlin"       # of the due dates written without an offset (default UTC)
    penalty_per_day = 10             # percent of the assignment's points, per day or part of a day late
    penalty_cap = 50                 # percent at most (default 100)
    grace_minutes = 15               # a submission this close after its due time is on time (default 0)
    extensions = "extensions.csv"    # optional, beside this file: student,assignment,days (assignment * for all)

    [due]
    01_loss_functions = 2026-12-01T23:59:00
    02_autograd = "2026-12-08 23:59"

The rule: a submission after its due time (plus the student's extension) and the grace period is late by the
days or parts of a day since that due time; it loses ``penalty_per_day`` percent of the assignment's points per
day, at most ``penalty_cap`` percent, and never more than it earned. A submission that could not be graded gets
no total at all, never 0.
"""
from __future__ import annotations

import csv
import math
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .notebook import NotebookError, read_bytes
from .result import GRADED, SubmissionResult

POLICY_FILE = "late.toml"
TIMESTAMP_FILE = "timestamp.txt"  # what nbgrader's submit, collect and zip_collect leave beside the notebooks
FROM_TIMESTAMP, FROM_FILE_TIME = "timestamp.txt", "file time"
DAY = timedelta(days=1)


class PolicyError(ValueError):
    """The late policy or its extensions cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Policy:
    due: dict[str, datetime]  # per assignment, timezone-aware
    penalty_per_day: float = 0.0
    penalty_cap: float = 100.0
    grace: timedelta = timedelta(0)
    zone: tzinfo = timezone.utc  # where due dates are shown
    extensions: dict[tuple[str, str], timedelta] = field(default_factory=dict)  # (student, assignment or "*")

    def extension(self, student: str, assignment: str) -> timedelta:
        return self.extensions.get((student, assignment), self.extensions.get((student, "*"), timedelta(0)))


@dataclass(frozen=True)
class Late:
    """How late one submission was, and what that costs."""

    submitted: datetime | None  # None where grading recorded no time
    due: datetime               # the assignment's due time, the student's extension included
    extension: timedelta
    days: int | None            # days or parts of a day late; 0 on time or within the grace period; None unknown
    percent: float              # of the assignment's points
    penalty: float              # points taken off: never more than were earned

    @property
    def extension_days(self) -> float:
        return self.extension / DAY


def parse_timestamp(text: str) -> datetime:
    """nbgrader's timestamp (``2026-12-01 23:59:59.123456 UTC``, a zone's abbreviation or an offset, or ISO 8601
    as ``zip_collect`` writes it) in UTC; one without a zone is UTC, as nbgrader reads it. Raises ValueError."""
    import dateutil.parser
    import dateutil.tz

    when = dateutil.parser.parse(text, tzinfos=lambda name, offset: dateutil.tz.gettz(name) if name else offset)
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def read_stamp(notebook: Path) -> str:
    """The text of nbgrader's ``timestamp.txt`` beside ``notebook``; NotebookError where it is not a small regular
    file (a link, a pipe, a large file: not one nbgrader wrote)."""
    return read_bytes(notebook.parent / TIMESTAMP_FILE, 1024).decode(errors="replace")


def submission_time(notebook: Path) -> tuple[datetime | None, str]:
    """When the notebook was handed in, and where that came from: nbgrader's ``timestamp.txt`` in its folder,
    else the notebook's own modification time (saying why where a timestamp.txt could not be read); (None, why)
    where neither exists."""
    stamp, why = notebook.parent / TIMESTAMP_FILE, ""
    if os.path.lexists(stamp):
        try:
            return parse_timestamp(read_stamp(notebook).strip()), FROM_TIMESTAMP
        except NotebookError:
            why = f" ({TIMESTAMP_FILE} is not a small regular file)"
        except (ValueError, OverflowError) as exc:
            why = f" ({TIMESTAMP_FILE} is not a time: {str(exc)[:100]})"
    try:
        mtime = os.lstat(notebook).st_mtime
    except OSError:
        return None, f"no notebook, no {TIMESTAMP_FILE}"
    return datetime.fromtimestamp(mtime, timezone.utc), FROM_FILE_TIME + why


def load(out_dir: Path) -> Policy | None:
    """The policy in ``out_dir/late.toml``; None where there is none. Raises ``PolicyError``."""
    path = Path(out_dir) / POLICY_FILE
    if not path.exists():
        return None
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: {exc}") from None
    known = {"timezone", "penalty_per_day", "penalty_cap", "grace_minutes", "extensions", "due"}
    if unknown := sorted(set(data) - known):
        raise PolicyError(f"{path}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    try:
        zone = ZoneInfo(data.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise PolicyError(f"{path}: timezone {data['timezone']!r} is not a time zone name such as "
                          "'Europe/Berlin' or 'UTC'") from None
    per_day, cap, grace = (_number(path, data, key, default) for key, default in
                           (("penalty_per_day", 0), ("penalty_cap", 100), ("grace_minutes", 0)))
    if cap > 100:
        raise PolicyError(f"{path}: penalty_cap is {cap:g}, over 100 percent")
    due = data.get("due", {})
    if not isinstance(due, dict):
        raise PolicyError(f"{path}: due must be a table, [due], of assignment = date and time")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, str):
        raise PolicyError(f"{path}: extensions must be the name of a CSV file")
    return Policy({a: _due(path, a, when, zone) for a, when in due.items()}, per_day, cap,
                  timedelta(minutes=grace), zone, read_extensions(path.parent / extensions) if extensions else {})


def _number(path: Path, data: dict, key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise PolicyError(f"{path}: {key} must be a number of at least 0, not {value!r}")
    return float(value)


def _due(path: Path, assignment: str, when: object, zone: tzinfo) -> datetime:
    """A due time from TOML's date-time, a string in ISO 8601, or a date (its end); in ``zone`` if it has none."""
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            pass
    if isinstance(when, date) and not isinstance(when, datetime):
        when = datetime.combine(when, datetime.max.time())
    if not isinstance(when, datetime):
        raise PolicyError(f"{path}: the due time of {assignment} is {when!r}, not a date and time "
                          "such as 2026-12-01T23:59:00")
    return when.replace(tzinfo=zone) if when.tzinfo is None else when


def read_extensions(path: Path) -> dict[tuple[str, str], timedelta]:
    """A CSV of ``student,assignment,days`` (``*`` for every assignment); every bad row is named, with why."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PolicyError(f"{path}: {exc}") from None
    if rows and not {"student", "assignment", "days"} <= set(rows[0]):
        raise PolicyError(f"{path}: the columns must be student,assignment,days")
    found: dict[tuple[str, str], timedelta] = {}
    problems = []
    for line, row in enumerate(rows, start=2):
        key = ((row["student"] or "").strip(), (row["assignment"] or "").strip())
        try:
            days = float(row["days"] or "")
        except ValueError:
            days = -1.0
        if not all(key):
            problems.append(f"line {line}: a student and an assignment (or *) are needed")
        elif not 0 <= days < 3650:
            problems.append(f"line {line}: days must be a number of at least 0, not {row['days']!r}")
        elif key in found:
            problems.append(f"line {line}: a second extension for {key[0]} and {key[1]}")
        else:
            found[key] = timedelta(days=days)
    if problems:
        raise PolicyError(f"{path}: " + "; ".join(problems))
    return found


def assess(policy: Policy | None, r: SubmissionResult) -> Late | None:
    """How late ``r`` was under ``policy``; None where the policy sets no due time for its assignment."""
    if policy is None or r.assignment not in policy.due:
        return None
    extension = policy.extension(r.student, r.assignment)
    due = policy.due[r.assignment] + extension
    submitted = _recorded(r.submitted)
    over = submitted - due if submitted else None
    days = None if over is None else math.ceil(over / DAY) if over > policy.grace else 0
    percent = min(policy.penalty_cap, policy.penalty_per_day * (days or 0))
    penalty = min(max(r.score, 0.0), r.max_score * percent / 100) if r.status == GRADED else 0.0
    return Late(submitted, due, extension, days, percent, penalty)


def _recorded(text: str) -> datetime | None:
    """The submission time a result recorded; None where it recorded none (or a result was edited by hand)."""
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def final_score(policy: Policy | None, r: SubmissionResult) -> float | None:
    """The total after any late penalty; None where the submission could not be graded (never 0)."""
    if r.status != GRADED:
        return None
    late = assess(policy, r)
    return r.score - (late.penalty if late else 0.0)
