"""Grading across machines: which students a shard grades, and the merge of shards' results into one folder.

A shard is ``I/N`` (``I`` from 0, as a Slurm array's ``SLURM_ARRAY_TASK_ID`` and a Kubernetes Indexed Job's
``JOB_COMPLETION_INDEX`` count): the students whose id's SHA-256 is ``I`` modulo ``N``, the same on every machine
and every run (Python's ``hash()`` is salted per process). All of a student's assignments go to one shard.

A merge copies each shard's ``STUDENT/ASSIGNMENT/`` files (results.json, output.txt, grader.log) into one folder
and rebuilds grades.csv from all of them, as a one-machine run writes it (under that folder's late policy, with
the marks given by hand there). It refuses results that cannot come from one run: the same submission graded
differently, an assignment graded with different grading code, limits, ``--only``/``--skip`` or sandbox mode
(``resume.grading``), or another late policy.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from . import lateness, marks, result
from .result import SubmissionResult

COPIED = ("results.json", "output.txt", "grader.log")  # a submission's files; feedback.html is rebuilt


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """``I/N`` with ``0 <= I < N``; ValueError with what is wrong."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ValueError(f"expected I/N, such as 0/4 (shards count from 0, as Slurm's and Kubernetes' indices "
                             f"do), not {text!r}")
        index, count = int(match[1]), int(match[2])
        if count < 1:
            raise ValueError(f"shard {text!r}: the count must be at least 1")
        if index >= count:
            raise ValueError(f"shard {text!r}: the index must be below the count, 0 to {count - 1} of {count}")
        return cls(index, count)

    def holds(self, student: str) -> bool:
        digest = hashlib.sha256(student.encode("utf-8", "surrogateescape")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


class MergeConflict(ValueError):
    """Results that one run could not have written; the message says which and what to do."""


@dataclass
class Merged:
    results: list[SubmissionResult]
    copied: dict[Path, int]  # per source folder, the submissions copied from it


def _same_grade(a: SubmissionResult, b: SubmissionResult) -> bool:
    """Whether two results give the same grade and feedback (times and memory aside)."""
    def grade(r: SubmissionResult) -> tuple:
        return (r.status, r.fingerprint, r.output, r.notebook, r.sandbox,
                [(c.label, c.score, c.max_score, c.output) for c in r.checks])
    return grade(a) == grade(b)


def _collect(sources: list[Path]) -> dict[tuple[str, str], tuple[Path, SubmissionResult]]:
    """Every result of ``sources`` by (student, assignment), with the folder it is in; MergeConflict where two
    differ or one cannot be read."""
    found: dict[tuple[str, str], tuple[Path, SubmissionResult]] = {}
    for source in sources:
        for path in sorted(source.glob("*/*/results.json")):
            res = result.load(path)
            if res is None or (res.student, res.assignment) != (path.parent.parent.name, path.parent.name):
                raise MergeConflict(f"{path} is not a results.json the grader wrote for "
                                    f"{path.parent.parent.name}/{path.parent.name}: regrade that shard")
            key = (res.student, res.assignment)
            if key in found and not _same_grade(found[key][1], res):
                other, was = found[key]
                raise MergeConflict(
                    f"{res.student}/{res.assignment} was graded differently in {other} ({was.score:g}/"
                    f"{was.max_score:g}, {was.status}, fingerprint {was.fingerprint or 'none'}) and in {source} "
                    f"({res.score:g}/{res.max_score:g}, {res.status}, fingerprint {res.fingerprint or 'none'}): "
                    "a student belongs to one shard; remove the stale one, or merge into an empty folder")
            found.setdefault(key, (source, res))
    return found


def _agree(found: dict[tuple[str, str], tuple[Path, SubmissionResult]]) -> None:
    """MergeConflict unless each assignment's results were graded the same way (``resume.grading``); results
    without one (a grader process that died) are left out of the comparison."""
    ways: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    for (_, assignment), (source, res) in found.items():
        if res.grading:
            ways[assignment][res.grading].append(source)
    for assignment, by_way in sorted(ways.items()):
        if len(by_way) > 1:
            shown = "; ".join(f"{way} in {', '.join(sorted({str(s) for s in where}))} ({len(where)} result(s))"
                              for way, where in sorted(by_way.items()))
            raise MergeConflict(
                f"{assignment} was graded in different ways (grading code, limits, --only/--skip or sandbox "
                f"mode): {shown}. Grade every shard with the same kit, options and sandbox (--regrade the odd one "
                "out) before merging")


def _one_policy(sources: list[Path], out: Path) -> None:
    """MergeConflict where a source has a late policy other than ``out``'s, which grades.csv applies."""
    mine = out / lateness.POLICY_FILE
    for source in sources:
        theirs = source / lateness.POLICY_FILE
        if theirs.is_file() and (not mine.is_file() or theirs.read_bytes() != mine.read_bytes()):
            raise MergeConflict(f"{theirs} is not the late policy of {out} ({mine}), which the merged grades.csv "
                                f"applies: copy it there, with any extensions file it names, or remove it")


def merge(sources: list[Path], out: Path) -> Merged:
    """Copy the results of ``sources`` into ``out`` and rebuild its grades.csv from every result there.

    ``out`` may be one of the sources (shards that wrote into one shared folder: the merge then only rebuilds
    grades.csv); results it holds already take part in the checks. Nothing is written where the merge is refused
    (MergeConflict).
    """
    out_resolved = out.resolve()
    sources = list(dict.fromkeys(s.resolve() for s in sources))
    found = _collect([out_resolved, *[s for s in sources if s != out_resolved]] if out.is_dir() else sources)
    _agree(found)
    _one_policy([s for s in sources if s != out_resolved], out)
    copied: dict[Path, int] = {s: 0 for s in sources}
    for (student, assignment), (source, _) in sorted(found.items()):
        if source == out_resolved:
            continue
        for name in COPIED:
            path = source / student / assignment / name
            if path.is_file():
                result.write_atomic(out / student / assignment / name, path.read_bytes())
        copied[source] += 1
    return Merged(marks.publish(out), copied)  # the marks given by hand in ``out`` too
