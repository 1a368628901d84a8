"""Control groups: a cap on processes and on memory for a worker's whole process tree.

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
    """The controllers this process can create groups in. Empty groups of graders that have ended (killed
    before they could remove them) are removed."""
    found = []
    for controller in _settings(1, 1):
        base = ROOT / controller / "autograder"
        try:
            base.mkdir(exist_ok=True)
            for stale in base.glob("w*-*"):
                if not Path(f"/proc/{stale.name[1:].split('-')[0]}").exists():
                    _rmdir(stale)
            probe = base / f"probe-{os.getpid()}"
            probe.mkdir(exist_ok=True)
            probe.rmdir()
            found.append(controller)
        except OSError:
            continue
    return found


class Group:
    """The groups of one slot (sandbox.Slot): the grader ``add``s the slot's fork server once, and every worker
    it forks is born inside, one at a time; ``kill`` clears the group between workers."""

    def __init__(self, processes: int, memory_mb: int, controllers: list[str]):
        self.paths: list[Path] = []
        self._memory: Path | None = None  # the memory group, whose knobs tell the peak
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
            if controller == "memory":
                self._memory = path

    def add(self, pid: int) -> None:
        """Put process ``pid`` (and so its future children) in the group."""
        for path in self.paths:
            try:
                (path / "cgroup.procs").write_text(str(pid))
            except OSError:  # it has already exited
                pass

    def _read_mb(self, knob: str) -> float:
        try:
            return int((self._memory / knob).read_text()) / 2**20 if self._memory else 0.0
        except OSError:
            return 0.0

    def reset_peak(self) -> float:
        """Start the peak afresh from now; return the memory in use now, in MiB (0 without a memory group)."""
        if self._memory:
            try:
                (self._memory / "memory.max_usage_in_bytes").write_text("0")  # the peak becomes the use now
            except OSError:
                pass
        return self._read_mb("memory.usage_in_bytes")

    def peak_mb(self) -> float:
        """The group's peak memory use since ``reset_peak``, in MiB (0 without a memory group)."""
        return self._read_mb("memory.max_usage_in_bytes")

    def members(self) -> set[int]:
        pids: set[int] = set()
        for path in self.paths:
            try:
                pids |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
            except OSError:
                continue
        return pids

    def kill(self, spare: int = 0, seconds: float = 5.0) -> None:
        """Kill every process in the group but ``spare`` (detached ones too), and wait until they are gone."""
        deadline = time.monotonic() + seconds
        while (pids := self.members() - {spare}) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.005)

    def remove(self) -> None:
        """Kill every process in the group, then delete it."""
        self.kill()
        for path in self.paths:
            _rmdir(path)


def _rmdir(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:  # not empty, or gone
        pass
