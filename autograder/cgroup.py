"""Per-worker control groups: a cap on processes and on memory for the whole process tree.

rlimits are per process (and RLIMIT_NPROC is ignored for root), so a fork
bomb or a swarm of children needs a cgroup. Used where /sys/fs/cgroup (v1)
is writable; elsewhere the worker runs with rlimits alone.
"""
from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
_ids = itertools.count()


def _settings(processes: int, memory_mb: int) -> dict[str, tuple[str, str]]:
    return {"pids": ("pids.max", str(processes)),
            "memory": ("memory.limit_in_bytes", str(memory_mb * 2**20))}


def available() -> list[str]:
    """The controllers this process can create groups in."""
    found = []
    for controller in _settings(1, 1):
        base = ROOT / controller / "autograder"
        try:
            base.mkdir(exist_ok=True)
            probe = base / f"probe-{os.getpid()}"
            probe.mkdir(exist_ok=True)
            probe.rmdir()
            found.append(controller)
        except OSError:
            continue
    return found


class Group:
    """One worker's groups: the grader ``add``s the worker, and ``remove``s the group after it ended."""

    def __init__(self, processes: int, memory_mb: int, controllers: list[str]):
        self.paths: list[Path] = []
        name = f"w{os.getpid()}-{next(_ids)}"
        for controller, (knob, value) in _settings(processes, memory_mb).items():
            if controller not in controllers:
                continue
            path = ROOT / controller / "autograder" / name
            try:
                path.mkdir(exist_ok=True)
                (path / knob).write_text(value)
                self.paths.append(path)
            except OSError:
                continue

    def add(self, pid: int) -> None:
        """Put process ``pid`` (and so its future children) in the group."""
        for path in self.paths:
            try:
                (path / "cgroup.procs").write_text(str(pid))
            except OSError:  # it has already exited
                pass

    def peak_mb(self) -> float:
        """The group's peak memory use so far, in MiB (0 without a memory group)."""
        for path in self.paths:
            try:
                return int((path / "memory.max_usage_in_bytes").read_text()) / 2**20
            except OSError:
                continue
        return 0.0

    def members(self) -> set[int]:
        pids: set[int] = set()
        for path in self.paths:
            try:
                pids |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
            except OSError:
                continue
        return pids

    def remove(self, seconds: float = 5.0) -> None:
        """Kill every process still in the group (detached ones too), then delete it."""
        deadline = time.monotonic() + seconds
        while (pids := self.members()) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        for path in self.paths:
            try:
                path.rmdir()
            except OSError:
                pass
