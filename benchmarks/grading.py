"""Grading figures: the kit against nbgrader autograde, the sandbox's start, -j 2 against -j 1, peak memory.

    .venv/bin/python -m benchmarks.grading [--quick] [--repeat K] [--skip-nbgrader] [--assignment NAME]

The submissions are the instructor notebooks of source/. Progress goes to stderr; a Markdown table with
the targets goes to stdout. Timings are only meaningful on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import torch
from nbgrader.api import Gradebook

from autograder.limits import Limits
from autograder.result import GRADED, SubmissionResult, load_all
from autograder.release import IGNORE, assignment_names, nbgrader, nbgrader_course
from autograder.sandbox import Sandbox, Worker, describe_mode

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "source"


def log(message: str) -> None:
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def timed(command: Callable[[], subprocess.CompletedProcess], what: str) -> float:
    """Wall seconds of a command, which must succeed."""
    started = time.perf_counter()
    done = command()
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{what} failed with status {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds


def submit(folder: Path, students: list[str], names: list[str]) -> Path:
    """Put the instructor notebooks of ``names`` in ``folder/<student>/<assignment>/``; return ``folder``."""
    for student in students:
        for name in names:
            shutil.copytree(SOURCE / name, folder / student / name, ignore=IGNORE)
    return folder


def kit(submitted: Path, out: Path, jobs: int, skip: str | None = None) -> tuple[float, list[SubmissionResult]]:
    """Whole-process seconds of ``python -m autograder grade``, and the results.json files it wrote."""
    argv = [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "-j", str(jobs), "-q"]
    argv += ["--skip", skip] if skip else []
    seconds = timed(lambda: subprocess.run(argv, cwd=ROOT, capture_output=True, text=True), "autograder grade")
    results = load_all(out)
    for r in results:
        if r.status != GRADED or r.score < r.max_score:
            log(f"warning: the kit gave {r.student}/{r.assignment} {r.score:g}/{r.max_score:g} ({r.status}): "
                "the instructor notebook should get full marks")
    return seconds, results


def autograde(course: Path, name: str) -> float:
    """Whole-process seconds of ``nbgrader autograde`` on s1's submission of ``name``."""
    seconds = timed(lambda: nbgrader(course, "autograde", name, "--student", "s1", "--force"), "nbgrader autograde")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        graded = gradebook.find_submission(name, "s1")
        if graded.code_score < graded.max_code_score:
            log(f"warning: nbgrader gave s1/{name} {graded.code_score}/{graded.max_code_score} on its tests")
    return seconds


def sandbox_start(sandbox: Sandbox) -> float:
    """Seconds from ``Worker(sandbox)`` to the reply to a first empty cell (the first starts its fork server)."""
    started = time.perf_counter()
    worker = Worker(sandbox)
    try:
        reply = worker.request({"op": "exec", "index": 0, "source": "pass"}, 120)
        seconds = time.perf_counter() - started
    finally:
        worker.kill()
    if "ok" not in reply:
        sys.exit(f"the sandbox's first cell failed: {reply}")
    return seconds


def machine(load_start: tuple[float, ...], load_end: tuple[float, ...]) -> list[list[str]]:
    """What the figures were taken on, and how busy it was."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
               platform.processor())
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory_kb = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))
    loads = f"start {' '.join(f'{x:.2f}' for x in load_start)}, end {' '.join(f'{x:.2f}' for x in load_end)}"
    busy = " (**busy at the start: timings unreliable**)" if load_start[0] > 1.0 else ""
    return [["CPU", f"{cpu}, {os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable"],
            ["memory", f"{memory_kb / 2**20:.1f} GiB"], ["kernel", platform.release()],
            ["Python", platform.python_version()], ["torch", torch.__version__],
            ["sandbox", describe_mode().removeprefix("sandbox: ")], ["load average (1, 5, 15 min)", loads + busy]]


def markdown(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    return "\n".join("| " + " | ".join(row) + " |" for row in [header, ["---"] * len(header), *rows])


def verdict(ok: bool) -> str:
    """The cell saying whether a target is met."""
    return "met" if ok else "**not met**"


def versus(kit_seconds: float, nbgrader_seconds: float | None) -> list[str]:
    """The nbgrader cell and the kit / nbgrader cell of a row."""
    return [f"{nbgrader_seconds:.1f}", f"{kit_seconds / nbgrader_seconds:.2f}"] if nbgrader_seconds else ["-", "-"]


def per_assignment(inside: dict[str, list[float]], nbgrader: dict[str, list[float]], kit_total: float,
                   nbgrader_total: float | None, ratio: float | None) -> list[list[str]]:
    """Rows of the kit's seconds inside its run and nbgrader's per assignment; the rest of the kit's run; totals
    and ``ratio``, the median of the rounds' ratios."""
    kit = {name: median(seconds) for name, seconds in inside.items()}
    rows = [[name, f"{s:.1f}", *versus(s, median(nbgrader[name]) if nbgrader else None)] for name, s in kit.items()]
    return rows + [["rest of the kit's run (start-up, sandbox self-test, forks, grades.csv)",
                    f"{kit_total - sum(kit.values()):.1f}", "", ""],
                   ["total", f"{kit_total:.1f}", *([f"{nbgrader_total:.1f}", f"{ratio:.2f}"] if ratio else ["-", "-"])]]


@dataclass
class Rounds:
    """The gradings of s1's submission, round by round: the kit with -j 1 and -j 2, then nbgrader."""

    kit: dict[int, list[float]] = field(default_factory=lambda: {1: [], 2: []})  # whole-run seconds by -j
    inside: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # the kit's, -j 1
    nbgrader: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    results: list[SubmissionResult] = field(default_factory=list)

    def nbgrader_totals(self) -> list[float]:
        return [sum(run) for run in zip(*self.nbgrader.values())]

    def ratio(self, workers: int) -> float | None:
        """The median over rounds of the kit's seconds over nbgrader's in the same round."""
        nb = self.nbgrader_totals()
        return median(k / n for k, n in zip(self.kit[workers], nb)) if nb else None


def one_submission(scratch: Path, names: list[str], repeat: int, course: Path | None) -> Rounds:
    """``repeat`` rounds of grading s1's submission of ``names``: the kit with -j 1, with -j 2, and nbgrader
    autograde where ``course`` is given. A round's runs follow each other, so that the machine's drift in
    speed (this VM's swings by 20% within minutes) touches both sides of a ratio alike."""
    submitted = scratch / "submitted"
    submit(submitted, ["s1"], names)
    if course:
        log("nbgrader: generate_assignment (not timed)")
        course.mkdir()
        nbgrader_course(course, names, ROOT)
        submit(course / "submitted", ["s1"], names)
    rounds = Rounds()
    for i in range(repeat):
        for workers in (1, 2):
            log(f"round {i + 1} of {repeat}: the kit grades one submission of {len(names)} assignment(s), "
                f"-j {workers}")
            seconds, found = kit(submitted, scratch / f"out-j{workers}-{i}", workers)
            rounds.kit[workers].append(seconds)
            rounds.results += found
            if workers == 1:
                for r in found:
                    rounds.inside[r.assignment].append(r.seconds)
            log(f"kit: {seconds:.1f} s")
        for name in names if course else []:
            rounds.nbgrader[name].append(autograde(course, name))
            log(f"nbgrader: autograde {name}: {rounds.nbgrader[name][-1]:.1f} s")
    return rounds


def jobs(scratch: Path, names: list[str], copies: int, skip: str | None,
         repeat: int) -> tuple[list[float], list[float], float, list[dict]]:
    """Seconds of the kit on ``copies`` submissions of ``names`` in ``repeat`` rounds of -j 1 then -j 2, of a
    run that finds them all graded already (what resuming a finished batch costs), and the results."""
    many = submit(scratch / "many", [f"s{i:02d}" for i in range(1, copies + 1)], names)
    serial, parallel, results = [], [], []
    for i in range(repeat):
        for workers, times in ((1, serial), (2, parallel)):
            log(f"round {i + 1} of {repeat}: the kit grades {copies} submissions of {', '.join(names)}, "
                f"-j {workers}")
            seconds, found = kit(many, scratch / f"many-j{workers}-{i}", workers, skip)
            times.append(seconds)
            results += found
            log(f"kit: {seconds:.1f} s")
    log("kit: again, with nothing left to grade")
    fixed, _ = kit(many, scratch / "many-j1-0", 1, skip)
    log(f"kit: {fixed:.1f} s")
    return serial, parallel, fixed, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: one assignment, 3 sandbox starts, 4 submissions for -j")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of each timing (one submission: kit -j 1, -j 2, nbgrader; 20: -j 1, -j 2); "
                             "the figures are medians")
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--assignment", help="for -j, 20 submissions of this assignment alone (default: all)")
    args = parser.parse_args()
    every = assignment_names(SOURCE)
    names = every[:1] if args.quick else every
    starts, copies = (3, 4) if args.quick else (10, 20)
    for_jobs = [args.assignment] if args.assignment else names
    # not 2 x 20 trainings (9 min), which -j cannot speed up where each already uses train_threads = 2 CPUs
    skip = "test_accuracy" if "05_mnist_classifier" in for_jobs else None
    load_start = os.getloadavg()
    if load_start[0] > 1.0:
        log(f"warning: the 1-minute load is {load_start[0]:.2f} at the start: timings are unreliable")

    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as tmp:
        scratch = Path(tmp)
        rounds = one_submission(scratch, names, args.repeat, None if args.skip_nbgrader else scratch / "course")
        results = rounds.results
        log(f"sandbox: one cold start, then {starts} timed")
        with Sandbox(Limits()) as sandbox:
            cold = sandbox_start(sandbox)
            warm = median(sandbox_start(sandbox) for _ in range(starts))
        serial, parallel, fixed, found = jobs(scratch, for_jobs, copies, skip, args.repeat)
        results += found
    load_end = os.getloadavg()

    kit_total, kit_j2 = median(rounds.kit[1]), median(rounds.kit[2])
    nb_total = median(rounds.nbgrader_totals()) if rounds.nbgrader else None
    peaks = [r.memory_mb for r in results if r.memory_mb]
    full = names == every  # the targets of one submission are for all five assignments
    what = f"one submission ({len(names)} assignment{'s' * (len(names) > 1)}, median of {args.repeat})"
    what_many = args.assignment or f"a submission of {len(names)} assignment{'s' * (len(names) > 1)}"
    rounds_of = f"median of {args.repeat}"
    speedup = median(s / p for s, p in zip(serial, parallel))
    rows = [[f"{what}: kit, `grade -j 1`, whole process", f"{kit_total:.1f} s", "< 120 s",
             verdict(kit_total < 120) if full else "(--quick)"]]
    rows.append([f"{what}: kit, `grade -j 2` (its assignments at once), whole process", f"{kit_j2:.1f} s",
                 "< 120 s", verdict(kit_j2 < 120) if full else "(--quick)"])
    if nb_total is not None:
        rows += [[f"{what}: `nbgrader autograde`, one run per assignment", f"{nb_total:.1f} s", "", ""],
                 *[[f"kit `-j {j}` / nbgrader, median of the rounds' ratios", f"{rounds.ratio(j):.2f}", "<= 0.5",
                    verdict(rounds.ratio(j) <= 0.5) if full else "(--quick)"] for j in (1, 2)]]
    rows += [["sandbox start to first reply, cold (first in the process)", f"{cold:.3f} s", "", ""],
             [f"sandbox start to first reply, median of the {starts} after it", f"{warm:.3f} s", "< 1 s",
              verdict(warm < 1)],
             [f"{copies} x {what_many}{f' (--skip {skip})' if skip else ''}: `-j 1`, {rounds_of}",
              f"{median(serial):.1f} s", "", ""],
             [f"{copies} x {what_many}: `-j 2`, {rounds_of}", f"{median(parallel):.1f} s", "", ""],
             ["speedup of `-j 2`, whole process, median of the rounds' ratios", f"{speedup:.2f}x", ">= 1.7x",
              "(--quick)" if args.quick else verdict(speedup >= 1.7)],
             ["the same run with nothing left to grade (no sandbox: start-up, summary, report)", f"{fixed:.1f} s",
              "", ""]]
    if peaks:
        rows += [[f"peak memory per worker, max of {len(peaks)} gradings", f"{max(peaks):.0f} MB", "< 2048 MB",
                  verdict(max(peaks) < 2048)],
                 ["peak memory per worker, median", f"{median(peaks):.0f} MB", "", ""]]
    else:
        rows.append(["peak memory per worker", "n/a (no peak memory in the results)", "< 2048 MB", "n/a"])
    print(markdown(["figure", "measured", "target", "met"], rows))

    print()
    print(markdown(["assignment", "kit: grading inside the run (s)", "nbgrader autograde, whole process (s)",
                    "kit / nbgrader"],
                   per_assignment(rounds.inside, rounds.nbgrader, kit_total, nb_total, rounds.ratio(1))))
    print()
    print(markdown(["machine", ""], machine(load_start, load_end)))


if __name__ == "__main__":
    main()
