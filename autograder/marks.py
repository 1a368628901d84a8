"""Marks given by hand to written answers, kept in ``GRADES_DIR/marks.sqlite``, and merged into the results.

A mark belongs to (student, assignment, question) and holds the rubric items applied, a comment, and the hash of
the answer text it judged: when the answer changes (a resubmission), the mark is kept but no longer counts, and the
answer is pending again, "needs grading again". Its score is worked out from the rubric's current points whenever it
is read, so that editing an item's points re-scores every answer marked with it.

The database is the only place marks live. ``publish`` merges them into every results.json and grades.csv; ``grade``
calls it when it ends, and ``report``, ``export`` and ``mark`` before they read or when they stop, so that they all
agree and no regrade of the checks can overwrite a mark.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from . import lateness, result, rubric
from .result import CheckResult, SubmissionResult
from .rubric import TITLE, Item

DATABASE = "marks.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (assignment TEXT NOT NULL, question TEXT NOT NULL, id TEXT NOT NULL,
    position INTEGER NOT NULL, points REAL NOT NULL, text TEXT NOT NULL, PRIMARY KEY (assignment, question, id));
CREATE TABLE IF NOT EXISTS marks (student TEXT NOT NULL, assignment TEXT NOT NULL, question TEXT NOT NULL,
    answer TEXT NOT NULL, items TEXT NOT NULL, comment TEXT NOT NULL, PRIMARY KEY (student, assignment, question));
"""
NEEDS_GRADING_AGAIN = "needs grading again"


@dataclass(frozen=True)
class Mark:
    student: str
    assignment: str
    question: str
    answer: str               # rubric.answer_hash of the text it judged
    items: tuple[str, ...]    # the ids of the rubric items applied
    comment: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.student, self.assignment, self.question


class Store:
    """The marks database of a grades folder; every write is one transaction."""

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / DATABASE
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a mark the page confirmed survives a power cut
        self.db.executescript(SCHEMA)

    def seed(self, rubrics: Path = rubric.RUBRICS) -> None:
        """Add the templates' items the database lacks (points edited while grading are kept); raise
        ``rubric.RubricError`` for a template that cannot be used. Only who gives marks seeds: merging reads."""
        with self.db:
            for path in sorted(rubrics.glob("*.toml")):
                for question, items in rubric.template(path.stem, rubrics).items():
                    self.db.executemany("INSERT OR IGNORE INTO items VALUES (?, ?, ?, ?, ?, ?)",
                                        [(path.stem, question, i.id, n, i.points, i.text) for n, i in enumerate(items)])

    def rubrics(self) -> dict[tuple[str, str], list[Item]]:
        """Each question's rubric, by (assignment, question), items in order."""
        found: dict[tuple[str, str], list[Item]] = {}
        for a, q, item_id, points, text in self.db.execute(
                "SELECT assignment, question, id, points, text FROM items ORDER BY assignment, question, position"):
            found.setdefault((a, q), []).append(Item(item_id, points, text))
        return found

    def marks(self) -> dict[tuple[str, str, str], Mark]:
        return {m.key: m for m in (Mark(s, a, q, h, tuple(json.loads(i)), c) for s, a, q, h, i, c in self.db.execute(
            "SELECT student, assignment, question, answer, items, comment FROM marks"))}

    def put(self, marks: Iterable[Mark]) -> None:
        """Store ``marks`` (replacing those of the same answers) in one transaction: all or none."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO marks VALUES (?, ?, ?, ?, ?, ?)",
                                [(*m.key, m.answer, json.dumps(list(m.items)), m.comment) for m in marks])

    def set_points(self, assignment: str, question: str, item_id: str, points: float) -> bool:
        """Change a rubric item's points (every mark using it follows); False if there is no such item."""
        with self.db:
            return self.db.execute("UPDATE items SET points = ? WHERE assignment = ? AND question = ? AND id = ?",
                                   (points, assignment, question, item_id)).rowcount == 1

    def close(self) -> None:
        self.db.close()


def score(mark: Mark, items: list[Item], top: float) -> float:
    """The points of the applied items, within 0 and the question's points."""
    return min(top, max(0.0, sum(i.points for i in items if i.id in mark.items)))


def feedback(mark: Mark, items: list[Item]) -> str:
    """What the student reads: each applied item with its points, then the comment."""
    lines = [f"{i.points:+g} {i.text}" for i in items if i.id in mark.items]
    return "\n".join([*lines, *([f"Comment: {mark.comment}"] if mark.comment.strip() else [])]) or "No rubric item."


def state(mark: Mark | None, answer: str) -> str:
    """Whether ``answer`` is "graded" by ``mark``, "pending" (never marked), or "changed" since it was marked."""
    return "pending" if mark is None else "graded" if mark.answer == rubric.answer_hash(answer) else "changed"


def written_check(question: str, top: float, answer: str | None, mark: Mark | None, items: list[Item]) -> CheckResult:
    """The test of one written answer: marked, pending, needing grading again, or missing."""
    if answer is None:
        return CheckResult(question, TITLE, 0.0, top, "No answer to this question was found in the graded notebook.")
    if mark is None:
        return CheckResult(question, TITLE, 0.0, top, f"Pending: graded by hand ({top:g} points), not yet.",
                           pending=True)
    if state(mark, answer) == "changed":
        return CheckResult(question, TITLE, 0.0, top, f"Pending, {NEEDS_GRADING_AGAIN}: the answer changed since it "
                           "was marked.", pending=True)
    return CheckResult(question, TITLE, score(mark, items, top), top, feedback(mark, items))


def merge(res: SubmissionResult, rubrics: dict[tuple[str, str], list[Item]],
          marks: dict[tuple[str, str, str], Mark]) -> SubmissionResult:
    """``res`` with a test per written answer of its assignment (the release notebook's), from ``marks``; as it
    is where it recorded no written answers (the grader failed before reading them, or an older kit graded it)."""
    questions = rubric.questions(res.assignment)
    if not questions or res.answers is None:
        return res
    checks = [c for c in res.checks if c.title != TITLE]
    checks += [written_check(q, top, res.answers.get(q), marks.get((res.student, res.assignment, q)),
                             rubrics.get((res.assignment, q), [])) for q, top in questions.items()]
    return replace(res, checks=checks)


def read(out_dir: Path) -> tuple[dict[tuple[str, str], list[Item]], dict[tuple[str, str, str], Mark]]:
    """The rubrics and marks of ``out_dir``; none where nobody has marked there yet (no database is made)."""
    if not (Path(out_dir) / DATABASE).exists():
        return {}, {}
    store = Store(out_dir)
    try:
        return store.rubrics(), store.marks()
    finally:
        store.close()


def publish(out_dir: Path) -> list[SubmissionResult]:
    """Merge the marks into every results.json under ``out_dir`` (rewriting those that change) and write
    grades.csv, with the late policy of ``out_dir`` (``lateness.load``, which raises for one it cannot use); return
    the merged results."""
    rubrics, marks = read(out_dir)
    merged = []
    for old in result.load_all(out_dir):
        new = merge(old, rubrics, marks)
        if new.to_gradescope() != old.to_gradescope():
            result.save(new, out_dir)
        merged.append(new)
    result.write_grades_csv(merged, out_dir / "grades.csv", lateness.load(out_dir))
    return merged
