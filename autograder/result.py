"""Grading results: Gradescope's results.json per submission and grades.csv per batch, written atomically.

results.json is read and written here only. Every text in it is plain text and says so (``output_format``):
Gradescope reads a text without a format as HTML, where a message such as ``<urlopen error ...>`` vanished.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lateness import Policy

GRADED, UNGRADABLE, ERROR = "graded", "ungradable", "grader_error"
VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's, for a test or the results
TEXT = "text"  # Gradescope's output format for plain text, given for every output and name


@dataclass
class CheckResult:
    name: str          # the graded name the check belongs to
    title: str         # what the check verifies
    score: float
    max_score: float
    output: str = ""
    error: bool = False  # the grader itself failed in this check
    visibility: str = "visible"  # when Gradescope shows it to the student (VISIBILITY), chosen at bundle time
    leaderboard: dict | None = None  # a figure it measured for Gradescope's leaderboard: {"name", "value"[, "order"]}
    pending: bool = False  # a written answer not graded by hand yet: no score, not 0 (marks.py)

    @property
    def label(self) -> str:
        return f"{self.name}: {self.title}"


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    status: str
    checks: list[CheckResult] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    memory_mb: float = 0.0  # the peak memory of the student's processes
    fingerprint: str = ""   # what it was graded from (see resume.fingerprint), to resume a batch
    sandbox: str = ""       # the sandbox mode student code ran in (modes.py)
    notebook: str = ""      # the file graded (the assignment's notebook name, or the only notebook handed in)
    flags: list[str] = field(default_factory=list)  # integrity flags, for the instructor (integrity.py, forbid.py)
    submitted: str = ""       # when it was handed in, ISO 8601 in UTC (lateness.submission_time); "" if unknown
    submitted_from: str = ""  # where that time came from: timestamp.txt or the file time
    grading: str = ""       # how it was graded, whatever the notebook (resume.grading): shards merge where it agrees
    answers: dict[str, str] | None = None  # written answers by grade_id, graded by hand; None: not recorded

    def scores(self) -> dict[str, tuple[float, float]]:
        """Per graded name: (score, max score), pending names left out."""
        out: dict[str, tuple[float, float]] = {}
        for c in self.scored:
            got, top = out.get(c.name, (0.0, 0.0))
            out[c.name] = (got + c.score, top + c.max_score)
        return out

    @property
    def leaderboard(self) -> list[dict]:
        """Gradescope's leaderboard entries, those of its checks that measured one."""
        return [c.leaderboard for c in self.checks if c.leaderboard]

    @property
    def scored(self) -> list[CheckResult]:
        """The checks that have a score: all but pending written answers."""
        return [c for c in self.checks if not c.pending]

    @property
    def pending(self) -> list[str]:
        """The graded names still waiting for a grader."""
        return list(dict.fromkeys(c.name for c in self.checks if c.pending))

    @property
    def score(self) -> float:
        return sum(c.score for c in self.scored)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.scored)

    def to_gradescope(self) -> dict:
        data = {
            "score": round(self.score, 4),
            "execution_time": round(self.seconds, 2),
            "output": self.output,
            "output_format": TEXT,
            "test_output_format": TEXT,
            "test_name_format": TEXT,
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [_test(c) for c in self.checks],
            "extra_data": {"student": self.student, "assignment": self.assignment, "status": self.status,
                           "grader_errors": sum(c.error for c in self.checks),
                           "peak_memory_mb": round(self.memory_mb, 1), "fingerprint": self.fingerprint,
                           "grading": self.grading, "sandbox": self.sandbox, "notebook": self.notebook,
                           "integrity": self.flags, "submitted_at": self.submitted,
                           "submitted_from": self.submitted_from, "written_answers": self.answers},
        }
        if self.leaderboard:
            data["leaderboard"] = self.leaderboard
        return data

    @classmethod
    def from_gradescope(cls, data: dict) -> "SubmissionResult":
        extra = data.get("extra_data", {})
        checks = []
        for t in data.get("tests", []):
            name, _, title = t["name"].partition(": ")
            checks.append(CheckResult(name, title, t.get("score", 0.0), t["max_score"], t.get("output", ""),
                                      pending="score" not in t, visibility=t.get("visibility", "visible"),
                                      leaderboard=t.get("extra_data", {}).get("leaderboard")))
        return cls(extra.get("student", ""), extra.get("assignment", ""), extra.get("status", GRADED),
                   checks, data.get("output", ""), data.get("execution_time", 0.0), extra.get("peak_memory_mb", 0.0),
                   extra.get("fingerprint", ""), extra.get("sandbox", ""), extra.get("notebook", ""),
                   list(extra.get("integrity", [])), extra.get("submitted_at", ""), extra.get("submitted_from", ""),
                   extra.get("grading", ""), _texts(extra.get("written_answers")))


def _texts(data: object) -> dict[str, str] | None:
    """The written answers a results.json recorded; None where it recorded none (or not as text)."""
    if isinstance(data, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return data
    return None


def _test(c: CheckResult) -> dict:
    """A check as a test of Gradescope's schema, which has no "pending": a pending test has no score (Gradescope
    counts the submission's own) and says so in its output."""
    test = {"name": c.label, "name_format": TEXT, "score": c.score, "max_score": c.max_score,
            "status": "passed" if c.score >= c.max_score else "failed",
            "output": c.output, "output_format": TEXT, "tags": [c.name], "visibility": c.visibility,
            **({"extra_data": {"leaderboard": c.leaderboard}} if c.leaderboard else {})}
    if c.pending:
        del test["score"], test["status"]
    return test


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def results_path(out_dir: Path, student: str, assignment: str) -> Path:
    return out_dir / student / assignment / "results.json"


def save(result: SubmissionResult, out_dir: Path) -> Path:
    path = results_path(out_dir, result.student, result.assignment)
    write_atomic(path, json.dumps(result.to_gradescope(), indent=2) + "\n")
    return path


def load(path: Path) -> SubmissionResult | None:
    """The result stored at ``path``; None where there is none or it cannot be read."""
    try:
        return SubmissionResult.from_gradescope(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def load_all(out_dir: Path) -> list[SubmissionResult]:
    return [r for r in map(load, sorted(out_dir.glob("*/*/results.json"))) if r is not None]


def write_grades_csv(results: list[SubmissionResult], path: Path, policy: Policy | None = None) -> None:
    """One row per student and assignment: status, sandbox mode, a column per graded name ("pending" for a
    written answer not graded by hand yet), the total of what is graded; then when it was handed in and what the
    late ``policy`` takes off: ``final`` is the total after it (empty where the submission could not be graded,
    never 0; "pending" while a written answer is)."""
    from .lateness import assess, final_score  # lateness reads results: imported here, else a cycle

    names: list[str] = []
    for r in results:
        names += [n for n in dict.fromkeys(c.name for c in r.checks) if n not in names]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student", "assignment", "status", "sandbox", *names, "total", "max_total",
                     "submitted", "days_late", "extension_days", "late_penalty", "final"])
    for r in sorted(results, key=lambda r: (r.student, r.assignment)):
        scores, pending, late, final = r.scores(), r.pending, assess(policy, r), final_score(policy, r)
        writer.writerow([r.student, r.assignment, r.status, r.sandbox,
                         *["pending" if n in pending else _num(scores[n][0]) if n in scores else "" for n in names],
                         _num(r.score), _num(r.max_score), r.submitted,
                         *([late.days, _num(late.extension_days), _num(late.penalty)] if late else ["", "", ""]),
                         "" if final is None else "pending" if pending else _num(final)])
    write_atomic(path, buf.getvalue())


def _num(x: float) -> str:
    return f"{x:g}"
