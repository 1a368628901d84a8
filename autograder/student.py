"""The grader's handle on one submission: its notebook running in a sandboxed worker.

Cells run one at a time. A cell that hangs or kills the process is recorded
and skipped: the worker restarts and replays the other cells, so every graded
name that does not depend on that cell can still be graded.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch

from . import integrity
from .check import CheckFailed, StudentRaised, TimedOut
from .harness.protocol import ExecRequest, ProbeRequest, well_formed
from .harness.values import revive
from .limits import Limits
from .messages import Context, raised, raised_message
from .notebook import Cell, only_in_tests, python_source, runnable
from .sandbox import ChannelCorrupted, Sandbox, Tampered, Worker, WorkerDied, WorkerTimeout

MAX_RESTARTS = 8


@dataclass
class CellRun:
    label: str    # the cell as a student finds it (Cell.label)
    status: str   # "ok", "error", "timeout", "crashed" or "skipped"
    message: str = ""

    def __str__(self) -> str:
        return f"{self.label} {self.message}"


@dataclass
class Call:
    """What one call of a student's function sent back, as plain data."""

    value: Any
    args_after: list
    requires_grad_after: list[bool]
    forbidden: list[str]
    grads: Any = None
    value_requires_grad: bool = False   # the returned tensor still requires grad
    grads_after: list | None = None     # each argument's .grad after the call (None where unset)


def _skipped(exc: Exception, seconds: float) -> str:
    """Why a cell was skipped, for the student."""
    if isinstance(exc, WorkerTimeout):
        return f"did not finish within {seconds:g} s and was skipped"
    if isinstance(exc, Tampered):
        return f"{exc} and was skipped: remove that code"
    if isinstance(exc, ChannelCorrupted):
        return f"{exc} and was skipped"
    return f"ended the Python process (it {exc}) and was skipped"


def _why(name: str, exc: Exception, seconds: float) -> str:
    """Why a call of ``name`` failed on a fresh process too, for the student."""
    if isinstance(exc, WorkerTimeout):
        return f"{name} did not return within {seconds:g} s: look for an infinite loop or a far too slow computation"
    if isinstance(exc, Tampered):
        return (f"calling {name} {exc}. A graded function must leave the grader's harness and PyTorch's mode "
                "machinery alone: remove that code")
    if isinstance(exc, ChannelCorrupted):
        return (f"the grader could not read the reply to {name}'s call: your notebook's Python process {exc}. "
                f"{name} must return plain values (tensors, numbers, lists), never write to the grader's files")
    return f"calling {name} ended your notebook's Python process: it {exc}"


@runtime_checkable
class Submission(Protocol):
    """What the checks (the ``student`` fixture) and the grader use of a submission: a ``Student``, or an
    ``Unreadable`` stand-in for a file that cannot be run."""

    limits: Limits
    output: str          # what its code printed, capped
    peak_mb: float       # the peak memory of its processes
    flags: list[str]     # integrity flags, for the instructor

    @property
    def blamed(self) -> dict[str, str]: ...

    def probe(self, probe: str, name: str, seconds: float | None = None, **args: Any) -> Any: ...

    def call(self, name: str, *args: Any, forbid: tuple[str, ...] = (), grad: tuple[int, ...] = (),
             grad_out: torch.Tensor | None = None, seconds: float | None = None, **kwargs: Any) -> Call: ...

    def problems(self) -> list[CellRun]: ...

    def close(self) -> None: ...


class Student:
    """Run a submission's cells in a sandbox, then call its names for the checks."""

    def __init__(self, cells: list[Cell], sandbox: Sandbox, assignment: str = ""):
        """``sandbox`` (the run's) starts its workers, under its limits; ``assignment`` names whose own probes
        (harness/assignments/<id>.py) its checks may run."""
        self._sandbox, self.limits, self.assignment = sandbox, sandbox.limits, assignment
        self.cells = runnable(cells)
        findings = integrity.scan(cells)
        self.flags = [f.flag for f in findings]  # for the instructor: code that could tamper, and tampering seen
        self._mode_machinery: dict[str | None, set[str]] = {}  # by cell's grade_id: what fails from-scratch checks
        for finding in findings:
            if finding.fails:
                self._mode_machinery.setdefault(finding.grade_id, set()).add(finding.token)
        self.context = Context(self.limits.memory_mb, only_in_tests(cells))
        self.runs: dict[int, CellRun] = {}
        self._worker: Worker | None = None
        self._restarts = 0
        self._spent = 0.0
        self._broken: dict[str, str] = {}  # names that hung or crashed: not called again
        self._last: str | None = None  # the name of the last call that returned
        self._left_running: str | None = None  # the last name whose call left a thread running in this worker
        self.output = ""
        self.peak_mb = 0.0

    # -- the notebook -------------------------------------------------------
    def _start(self) -> Worker:
        if self._worker is not None:
            if self._worker.alive:
                return self._worker
            self._worker.kill()  # it ended by itself: clean up after it
            self._retire(self._worker)
        if self._restarts >= MAX_RESTARTS:
            raise CheckFailed("your notebook's Python process crashed or hung too often to go on grading")
        self._restarts += 1
        worker = self._worker = Worker(self._sandbox)
        self._left_running = None
        for cell in self.cells:
            if self.runs.get(cell.index, CellRun("", "ok")).status in ("timeout", "crashed", "skipped"):
                continue
            left = self.limits.notebook_seconds - self._spent
            if left <= 0:
                self.runs[cell.index] = CellRun(cell.label, "skipped",
                                                "was skipped: the notebook's time limit was used up")
                continue
            seconds = min(self.limits.cell_seconds, left)
            started = time.monotonic()
            try:
                request: ExecRequest = {"op": "exec", "index": cell.number, "source": python_source(cell)}
                reply = worker.request(request, seconds)
            except (WorkerTimeout, WorkerDied) as exc:
                self.runs[cell.index] = CellRun(cell.label, "timeout" if isinstance(exc, WorkerTimeout) else "crashed",
                                                _skipped(exc, seconds))
                self._note(cell.grade_id or cell.label, exc)
                self._retire(worker)
                return self._start()
            finally:
                self._spent += time.monotonic() - started
            if cell.index not in self.runs:
                error = reply.get("error")
                self.runs[cell.index] = CellRun(cell.label, "error" if error else "ok",
                                                raised(error, self.context) if error else "")
        return worker

    def _retire(self, worker: Worker) -> None:
        """Keep what a finished worker leaves: its output and its peak memory."""
        self.peak_mb = max(self.peak_mb, worker.peak_mb)
        self.output += worker.output
        if worker.output_dropped:
            self.output += f"\n[{worker.output_dropped} more bytes of output were dropped]\n"
        if worker is self._worker:
            self._worker = None

    @property
    def blamed(self) -> dict[str, str]:
        """Names found to hang or to end the process, and why."""
        return dict(self._broken)

    def close(self) -> None:
        if self._worker is not None:
            if not self._worker.alive:  # it ended by itself after the last call
                self._ended_after(self._left_running or self._last)
            self._worker.kill()
            self._retire(self._worker)
            self._worker = None

    def problems(self) -> list[CellRun]:
        return [run for _, run in sorted(self.runs.items()) if run.status != "ok"]

    # -- calls --------------------------------------------------------------
    def probe(self, probe: str, name: str, seconds: float | None = None, **args: Any) -> Any:
        """Run harness probe ``probe`` about graded name ``name``; return its plain data."""
        if name in self._broken:
            raise CheckFailed(f"not run, because an earlier check found that {self._broken[name]}")
        seconds = seconds or self.limits.call_seconds
        request: ProbeRequest = {"op": "probe", "assignment": self.assignment, "probe": probe,
                                 "args": {"name": name, **args}}
        worker: Worker | None = None
        try:
            if self._worker is not None and not self._worker.alive:  # it ended by itself after the last call
                self._ended_after(self._left_running or self._last)
            worker = self._start()
            try:
                reply = worker.request(request, seconds, about=name)
            except WorkerDied as exc:  # blame the name only if it happens again on a fresh process
                # else something an earlier call left behind did it: a second reply to that call, a thread it left,
                # or (for a death) the last call
                self._note(name, exc)
                culprit = getattr(exc, "culprit", None) or self._left_running or \
                    (self._last if self._last != name and not isinstance(exc, Tampered) else None)
                self._retire(worker)
                worker = None
                worker = self._start()
                reply = worker.request(request, seconds, about=name)
                self._ended_after(culprit, exc)
        except (WorkerTimeout, WorkerDied) as exc:
            if worker is None:  # no fresh process would start: the grader's failure, reported as one
                raise
            self._note(name, exc)
            self._retire(worker)
            self._broken[name] = _why(name, exc, seconds)
            raise (TimedOut if isinstance(exc, WorkerTimeout) else CheckFailed)(self._broken[name]) from None
        self._last = name
        if reply.get("threads"):
            self._left_running = name
        if "missing" in reply:
            raise CheckFailed(self._missing_message(name, reply["missing"]))
        if "error" in reply:
            raise StudentRaised(raised_message(name, reply["error"], self.context), reply["error"].get("type", "?"))
        return revive(reply["ok"])

    def _ended_after(self, culprit: str | None, exc: WorkerDied | None = None) -> None:
        """The process ended by itself, or ``exc`` (a corrupted reply channel, tampering) came, after ``culprit``'s
        call returned: checks of it are not run again."""
        if culprit is None:
            return
        self._broken[culprit] = (
            f"after {culprit} returned, your notebook's Python process {exc}: {culprit}, or a thread it left "
            "running, wrote to the grader's reply channel; a graded function must only return its result"
            if isinstance(exc, ChannelCorrupted) else
            f"after {culprit} returned, a thread it left running {exc}: remove that code" if isinstance(exc, Tampered)
            else f"after {culprit} returned, your notebook's Python process ended by itself: "
            f"does {culprit} leave a thread or process running?")

    def _note(self, owner: str, exc: Exception) -> None:
        """Flag, for the instructor, tampering that ``exc`` reports of ``owner`` (a graded name or a cell)."""
        if isinstance(exc, Tampered):
            self.flags += [flag for flag in (f"{owner}: {what}" for what in exc.found) if flag not in self.flags]

    def call(self, name: str, *args: Any, forbid: tuple[str, ...] = (), grad: tuple[int, ...] = (),
             grad_out: torch.Tensor | None = None, seconds: float | None = None, **kwargs: Any) -> Call:
        """Call ``name(*args, **kwargs)`` in the sandbox.

        ``forbid`` names torch operations that raise while it runs; ``grad``
        lists argument positions to backpropagate into (``grad_out`` weights
        the output, ones by default).
        """
        # mode machinery in this name's cell, or in a cell no graded name owns, voids the from-scratch checks
        tampered = sorted({n for cell, names in self._mode_machinery.items() if cell in (None, name) for n in names})
        if forbid and tampered:
            raise CheckFailed(f"{name} cannot be checked for library shortcuts because your notebook uses "
                              f"PyTorch's internal mode machinery ({', '.join(tampered)}): remove it")
        data = self.probe("call", name, seconds, args=list(args), kwargs=kwargs, forbid=list(forbid),
                          grad=list(grad), grad_out=grad_out)
        if not well_formed(data):
            raise CheckFailed(f"{name}'s reply is not one the grader's harness writes: something in your notebook "
                              "wrote to the grader's reply channel or changed its harness; remove it")
        if data["forbidden"]:
            raise CheckFailed(f"{name} uses a library shortcut ({', '.join(map(str, data['forbidden']))}), even if "
                              "it catches the error: this exercise asks you to write it from scratch")
        return Call(data["value"], data["args_after"], data["requires_grad_after"], data["forbidden"],
                    data.get("grads"), data["value_requires_grad"], data["grads_after"])

    def _missing_message(self, name: str, missing: str) -> str:
        """``missing`` is the function not found: ``name`` itself, or one that ``name``'s check needs."""
        needs = f"{name} needs {missing}, which" if missing != name else name
        message = f"{needs} is not defined in your notebook: did you rename it or delete its cell?"
        broken = [str(run) for run in self.problems()]
        if broken:
            message += " These cells did not run: " + "; ".join(broken[:3])
        return message


class Unreadable:
    """Stands in for a submission that cannot be run: every check fails with the reason."""

    def __init__(self, reason: str, limits: Limits = Limits()):
        self.reason, self.limits = reason, limits
        self.output = ""
        self.peak_mb = 0.0
        self.flags: list[str] = []

    @property
    def blamed(self) -> dict[str, str]:
        return {}

    def probe(self, probe: str, name: str, seconds: float | None = None, **args: Any) -> Any:
        raise CheckFailed(f"not graded: {self.reason}")

    def call(self, name: str, *args: Any, forbid: tuple[str, ...] = (), grad: tuple[int, ...] = (),
             grad_out: torch.Tensor | None = None, seconds: float | None = None, **kwargs: Any) -> Call:
        raise CheckFailed(f"not graded: {self.reason}")

    def close(self) -> None:
        pass

    def problems(self) -> list[CellRun]:
        return []
