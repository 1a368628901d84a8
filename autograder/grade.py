"""Grade one submission, or a batch of them in nbgrader's ``submitted/`` layout.

Each submission is graded in a forked child of this process, so a grader
crash costs one result row, never the batch. A batch run again resumes: a
submission whose stored result was graded from the same inputs (resume.py) is
not graded again.
"""
from __future__ import annotations

import importlib
import os
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import wait
from pathlib import Path

import torch
from tqdm import tqdm

from . import lateness, marks, modes, notebook, result, written
from .assignment import Assignment, Job, Selection, no_notebook, warm_up
from .plugin import run_checks
from .result import ERROR, GRADED, UNGRADABLE, CheckResult, SubmissionResult
from .resume import fingerprint, grading, unfinished
from .sandbox import Sandbox
from .student import Student, Submission, Unreadable


@dataclass
class Graded:
    result: SubmissionResult
    log: list[str]  # the grader's own tracebacks, for the instructor
    output: str     # what the student's code printed, capped


def grade_notebook(path: Path, assignment: Assignment, sandbox: Sandbox, student_id: str = "student",
                   selection: Selection = Selection()) -> Graded:
    """Grade one notebook, its code run in ``sandbox`` (the run's)."""
    started = time.monotonic()
    try:
        cells = notebook.read(path)
        student: Submission = Student(cells, sandbox, assignment.id)
        reason = ""
    except notebook.NotebookError as exc:
        reason = str(exc) if os.path.lexists(path) else no_notebook(path.parent, assignment.notebook)
        cells, student = [], Unreadable(reason, sandbox.limits)
    try:
        plugin = run_checks(assignment.checks, student, selection)
    finally:
        student.close()
    plugin.charge(student.blamed)
    reason = reason or _another_assignments(cells, plugin.names, assignment)
    if reason:  # once, in the summary, rather than "not defined" for every name
        _not_graded(plugin.results, reason)
    status = ERROR if any(c.error for c in plugin.results) else UNGRADABLE if reason else GRADED
    found = written.find(cells, written.release_cells(assignment.release))
    summary = _summary(status, reason, student, found, path, assignment)
    result = SubmissionResult(student_id, assignment.id, status, plugin.results, summary, time.monotonic() - started,
                              student.peak_mb, notebook=path.name, flags=student.flags,
                              answers={a.grade_id: a.text for a in found if a.text is not None})
    return Graded(result, plugin.log, student.output)


def _not_graded(checks: list[CheckResult], reason: str) -> None:
    for check in checks:
        check.score, check.output = 0.0, f"not graded: {reason}"


def not_graded(assignment: Assignment, reason: str, status: str, sandbox: str) -> SubmissionResult:
    """The result of a submission that was not graded (``reason``, for the student): every check of ``assignment``
    at 0 of its points, so that its maximum shows. No student code runs, and no sandbox is needed."""
    plugin = run_checks(assignment.checks, Unreadable(reason))
    _not_graded(plugin.results, reason)
    return SubmissionResult("student", assignment.id, status, plugin.results, reason, sandbox=sandbox)


def _another_assignments(cells: list[notebook.Cell], names: set[str], assignment: Assignment) -> str:
    """Why the notebook is another assignment's, where no answer cell nbgrader marked is of a graded name of this
    assignment's (``names``); else ""."""
    answers = sorted({c.grade_id for c in cells if c.solution and c.grade_id})
    if not answers or names & set(answers):
        return ""
    shown = ", ".join(answers[:4]) + (", ..." if len(answers) > 4 else "")
    return (f"this looks like another assignment's notebook (its answers are {shown}, none of them "
            f"{assignment.id}'s): hand in {assignment.notebook}")


def _summary(status: str, reason: str, student: Student | Unreadable, found: list[written.WrittenAnswer],
             path: Path, assignment: Assignment) -> str:
    lines = []
    if path.name != assignment.notebook and path.exists():
        lines.append(f"Graded {path.name}, the only notebook handed in (this assignment's is {assignment.notebook}).")
    if status == UNGRADABLE:
        lines.append(f"Your submission could not be graded: {reason}")
        return "\n".join(lines)
    for run in student.problems():
        lines.append(str(run)[0].upper() + str(run)[1:])
    lines += map(str, found)
    return "\n".join(lines)


def _merge(new: SubmissionResult, out_dir: Path, selection: Selection) -> SubmissionResult:
    """With ``--only`` or ``--skip``, keep the stored results of the names not graded now."""
    old = None if selection.everything else result.load(result.results_path(out_dir, new.student, new.assignment))
    if old is None:
        return new
    new.checks = [c for c in old.checks if c.name not in selection] + new.checks
    return new


def grade_job(job: Job, out_dir: Path, sandbox: Sandbox, selection: Selection) -> SubmissionResult:
    """Grade and save one job, in a grader forked by ``grade_batch`` (``sandbox`` is its copy of the batch's);
    never raises."""
    torch.set_num_threads(1)  # the checks' comparisons are small: more threads would only contend with the workers
    output = ""
    try:
        graded = grade_notebook(job.path, job.assignment, sandbox, job.student, selection)
        res, log, output = graded.result, graded.log, graded.output
    except Exception:
        log = [traceback.format_exc()]
        res = SubmissionResult(job.student, job.assignment.id, ERROR, [],
                               "The grader failed on this submission; your instructor has the details.")
    finally:
        sandbox.close()  # what this process made; a batch's lanes and server belong to the batch
    res = _merge(res, out_dir, selection)
    submitted, res.submitted_from = lateness.submission_time(job.path)
    res.submitted = submitted.isoformat() if submitted else ""
    res.fingerprint = fingerprint(job, sandbox.limits, selection)
    res.grading = grading(job.assignment, sandbox.limits, selection)
    res.sandbox = modes.mode().name
    path = result.save(res, out_dir)
    for name, text in (("grader.log", "\n".join(log)), ("output.txt", output)):
        if text:
            result.write_atomic(path.with_name(name), text)
    return res


def warm(jobs: Iterable[Job]) -> None:
    """Import the slow modules that the jobs' checks need once, here, rather than in every forked child."""
    for module in warm_up(j.assignment for j in jobs):
        importlib.import_module(module)


def grade_batch(jobs: list[Job], out_dir: Path, sandbox: Sandbox, selection: Selection = Selection(),
                workers: int = 1, progress: bool = True, pending: list[Job] | None = None) -> list[SubmissionResult]:
    """Grade the ``pending`` of ``jobs`` with ``workers`` processes, forked from this one, whose workers run in
    ``sandbox`` (the run's, under its limits); write each results.json and grades.csv.

    By default the pending jobs are those ``unfinished`` in ``out_dir``: the others are not graded again.
    """
    ctx, limits = get_context("fork"), sandbox.limits
    budget = limits.notebook_seconds + 600  # a grader child that outlives this is killed
    pending = unfinished(jobs, out_dir, limits, selection) if pending is None else list(pending)
    warm(pending)
    running, failures, lanes = {}, 0, list(range(workers))
    with tqdm(total=len(jobs), initial=len(jobs) - len(pending), unit="submission", disable=not progress,
              dynamic_ncols=True) as bar:
        if len(pending) < len(jobs):
            bar.write(f"resuming: {len(jobs) - len(pending)} submission(s) already graded from the same files "
                      "and options (--regrade grades them again)")
        while pending or running:
            while pending and lanes:
                job, lane = pending.pop(0), lanes.pop()
                sandbox.lane(lane)  # the child's workers are forked in this lane's cgroup
                proc = ctx.Process(target=grade_job, args=(job, out_dir, sandbox, selection), daemon=True)
                proc.start()
                running[proc.sentinel] = (proc, job, time.monotonic(), lane)
            for sentinel in wait(list(running), timeout=1.0):
                proc, job, _, lane = running.pop(sentinel)
                lanes.append(lane)
                proc.join()
                failures += _after(job, proc.exitcode, out_dir)
                bar.update(1)
                bar.set_postfix(failed=failures)
            for sentinel, (proc, job, started, _) in list(running.items()):
                if time.monotonic() - started > budget:
                    proc.kill()
    results = marks.publish(out_dir)
    keys = {(j.student, j.assignment.id) for j in jobs}
    return [r for r in results if (r.student, r.assignment) in keys]


def _after(job: Job, exitcode: int | None, out_dir: Path) -> int:
    """Make sure a finished job left a result; return 1 if it is not a clean grade."""
    stored = result.load(result.results_path(out_dir, job.student, job.assignment.id))
    if stored is None or exitcode != 0:
        result.save(SubmissionResult(job.student, job.assignment.id, ERROR, [], (
            f"The grader process for this submission ended abnormally (exit code {exitcode})."), 0.0,
            sandbox=modes.mode().name), out_dir)
        return 1
    return int(stored.status != GRADED)
