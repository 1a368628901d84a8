"""Marks as a CSV spreadsheet, for graders who grade offline: ``mark --export`` and ``mark --import``.

One row per mark, in (assignment, question, student) order::

    student,assignment,question,answer_sha256,state,points,items,comment
    ada,01_loss_functions,why_cross_entropy,3f1c...,marked,2,likelihood;gradient,Clear.

``items`` are rubric item ids separated by ``;``. ``state`` ("marked", or "needs grading again" where the answer
changed since) and ``points`` are worked out on export; on import ``state`` is ignored and ``points``, where given,
must agree with the rubric. An import is checked row by row before anything is written: with any bad row (an
unknown student, assignment, question or rubric item, a malformed hash, points that disagree), every reason is
returned and no mark is applied. Export, import into an empty database and export again give the same bytes.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from . import rubric
from .marks import NEEDS_GRADING_AGAIN, Mark, Store, read, score
from .result import load_all, write_atomic

COLUMNS = ["student", "assignment", "question", "answer_sha256", "state", "points", "items", "comment"]


def _answers(out_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    """The written answers' hashes of every result, by (student, assignment)."""
    return {(r.student, r.assignment): {q: rubric.answer_hash(t) for q, t in (r.answers or {}).items()}
            for r in load_all(out_dir)}


def export_marks(out_dir: Path, dest: Path) -> int:
    """Write every mark of ``out_dir`` to ``dest``; return how many."""
    rubrics, marks = read(out_dir)
    answers = _answers(out_dir)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for m in sorted(marks.values(), key=lambda m: (m.assignment, m.question, m.student)):
        items = rubrics.get((m.assignment, m.question), [])
        current = answers.get((m.student, m.assignment), {}).get(m.question) == m.answer
        top = rubric.questions(m.assignment).get(m.question, 0.0)
        writer.writerow([m.student, m.assignment, m.question, m.answer, "marked" if current else NEEDS_GRADING_AGAIN,
                         f"{score(m, items, top):g}" if current else "",
                         ";".join(m.items), m.comment])
    write_atomic(Path(dest), buf.getvalue())
    return len(marks)


def import_marks(out_dir: Path, source: Path) -> list[str]:
    """Apply the marks of ``source`` to ``out_dir`` in one transaction, or none of them: return the reasons, line by
    line, why not (empty when applied)."""
    try:
        rows = _rows(Path(source).read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [f"{source}: cannot be read as a CSV file: {exc}"]
    if not rows or rows[0][1] != COLUMNS:
        return [f"line 1: the header must be {','.join(COLUMNS)}"]
    answers = _answers(out_dir)
    store = Store(out_dir)
    try:
        store.seed()
        rubrics = store.rubrics()
        errors, marks, seen = [], [], {}
        for line, row in rows[1:]:
            reason, mark = _check(row, answers, rubrics)
            if mark and mark.key in seen:
                reason = f"a second mark for {'/'.join(mark.key)} (the first is on line {seen[mark.key]})"
            if reason:
                errors.append(f"line {line}: {reason}")
            else:
                seen[mark.key] = line
                marks.append(mark)
        if not errors:
            store.put(marks)
        return errors
    finally:
        store.close()


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """The rows of a CSV text, each with the line it begins on (a comment may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, line = [], 1
    for row in reader:
        rows.append((line, row))
        line = reader.line_num + 1
    return rows


def _check(row: list[str], answers: dict[tuple[str, str], dict[str, str]],
           rubrics: dict[tuple[str, str], list[rubric.Item]]) -> tuple[str, Mark | None]:
    """Why ``row`` cannot be imported (or ""), and its mark."""
    if len(row) != len(COLUMNS):
        return f"{len(row)} fields where there should be {len(COLUMNS)}", None
    student, assignment, question, answer, _state, points, items, comment = row
    if (student, assignment) not in answers:
        return f"no graded submission of {assignment!r} by student {student!r} in this folder", None
    top = rubric.questions(assignment).get(question)
    if top is None:
        return f"{assignment} has no written answer named {question!r}", None
    if not re.fullmatch(r"[0-9a-f]{64}", answer):
        return "answer_sha256 is not a SHA-256 hash (64 lower-case hex digits, as exported)", None
    known = [i.id for i in rubrics.get((assignment, question), [])]
    given = [i for i in items.split(";") if i]
    if unknown := [i for i in given if i not in known]:
        return (f"{question}'s rubric has no item {', '.join(map(repr, unknown))} (its items: "
                f"{', '.join(known) or 'none'})"), None
    mark = Mark(student, assignment, question, answer, tuple(i for i in known if i in given), comment)
    worth = score(mark, rubrics[(assignment, question)] if known else [], top)
    if points and _number(points) != worth:
        return f"points {points} disagree with the rubric, which gives {worth:g} for these items (leave points empty " \
               "to take the rubric's)", None
    return "", mark


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
