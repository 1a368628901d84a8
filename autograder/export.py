"""Gradebook CSVs that an LMS imports: one row per student, one column per assignment (its total score).

``canvas``: Canvas's gradebook import layout, the same as its gradebook export::

    Student,ID,SIS User ID,SIS Login ID,Section,01_loss_functions,02_autograd
    Points Possible,,,,,31,26
    alice,,,alice,,29.5,26

Canvas finds the student by ``ID`` (its numeric user id, left empty here), then
``SIS User ID``, then ``SIS Login ID`` (the student's folder name), then by name.
An assignment column is matched to an existing assignment by its exact title;
a title Canvas does not know becomes a new assignment whose points come from the
``Points Possible`` row.

``moodle``: Moodle's CSV grade import (Grades > Import > CSV file)::

    ID number,01_loss_functions,02_autograd
    alice,29.5,26

The identifier column is ``ID number`` and holds the student's folder name; in
Moodle's import form pick it under "Map from" and the user field it matches under
"Map to" (ID number, or Username if the folders are named by Moodle usernames).
Moodle's format has no points-possible row.

Each total is the one after the late penalty of the grades folder's ``late.toml`` (lateness.py), if any.
A submission the grader could not grade (``ungradable``, ``grader_error``), one whose
written answers are not all graded by hand yet (pending), or no submission at all,
is an empty cell, never 0, and is listed in a warning.
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from . import lateness
from .result import GRADED, SubmissionResult, load_all, write_atomic

STYLES = ("canvas", "moodle")
CANVAS_IDS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_ID = "ID number"


def _num(x: float) -> str:
    return f"{round(x, 4):g}"


def export_csv(out_dir: Path, dest: Path, style: str = "canvas") -> Path:
    """Write the results under ``out_dir`` as an LMS gradebook CSV at ``dest``, each total after the late penalty
    of ``out_dir``'s late policy; return ``dest``. Raises ``lateness.PolicyError`` for a policy it cannot use."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r} (one of {', '.join(STYLES)})")
    policy = lateness.load(Path(out_dir))
    results = load_all(Path(out_dir))
    assignments = sorted({r.assignment for r in results})
    students = sorted({r.student for r in results})
    by_key: dict[tuple[str, str], SubmissionResult] = {(r.student, r.assignment): r for r in results}
    possible = {a: max((sum(c.max_score for c in r.checks) for r in results if r.assignment == a), default=0.0)
                for a in assignments}  # pending written answers included

    not_graded: list[str] = []
    pending: list[str] = []
    missing: list[str] = []
    untimed: list[str] = []
    rows = []
    for s in students:
        cells = []
        for a in assignments:
            r = by_key.get((s, a))
            if r is None:
                missing.append(f"{s}/{a}")
                cells.append("")
            elif r.status != GRADED:
                not_graded.append(f"{s}/{a} ({r.status})")
                cells.append("")
            elif r.pending:
                pending.append(f"{s}/{a} ({', '.join(r.pending)})")
                cells.append("")
            else:
                late = lateness.assess(policy, r)
                if late and late.days is None:
                    untimed.append(f"{s}/{a}")
                cells.append(_num(lateness.final_score(policy, r) or 0.0))
        rows.append((s, cells))

    buf = io.StringIO()
    writer = csv.writer(buf)
    if style == "canvas":
        writer.writerow([*CANVAS_IDS, *assignments])
        writer.writerow(["Points Possible", "", "", "", "", *[_num(possible[a]) for a in assignments]])
        for s, cells in rows:
            writer.writerow([s, "", "", s, "", *cells])
    else:
        writer.writerow([MOODLE_ID, *assignments])
        for s, cells in rows:
            writer.writerow([s, *cells])
    dest = Path(dest)
    write_atomic(dest, buf.getvalue())

    if not_graded:
        print(f"warning: {len(not_graded)} submission(s) could not be graded and are left empty, not 0: "
              + _some(not_graded), file=sys.stderr)
    if pending:
        print(f"warning: {len(pending)} submission(s) have written answers not graded yet (python -m autograder mark) "
              f"and are left empty: {_some(pending)}", file=sys.stderr)
    if missing:
        print(f"warning: {len(missing)} submission(s) have no results and are left empty: {_some(missing)}",
              file=sys.stderr)
    if untimed:
        print(f"warning: {len(untimed)} submission(s) have no recorded submission time and lose nothing for "
              f"lateness (grade them again to record it): {_some(untimed)}", file=sys.stderr)
    return dest


def _some(items: list[str], shown: int = 5) -> str:
    """The first ``shown`` items, and how many more: a course of 500 makes a line per student unreadable."""
    return ", ".join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")
