"""Workers are born in their slot's cgroups: one move into a group per slot, not one per worker (a move waits
for an RCU grace period and stalls every fork on the machine), with a peak of its own for each worker."""
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import LIMITS, ROOT

from autograder import cgroup, sandbox
from autograder.assignment import Assignment, Job
from autograder.grade import grade_batch

ASSIGNMENT = "01_loss_functions"
SOURCE = ROOT / "source" / ASSIGNMENT / "loss_functions.ipynb"


@pytest.fixture
def slots() -> Iterator[sandbox.Sandbox]:
    """A sandbox with no slots yet."""
    with sandbox.Sandbox(LIMITS) as box:
        if not sandbox.controllers() or not box.shared:
            pytest.skip("no cgroups here, or a server of its own per worker")
        yield box


def _run(box: sandbox.Sandbox, source: str) -> tuple[sandbox.Worker, sandbox.Slot]:
    worker = sandbox.Worker(box)
    slot = worker._slot
    try:
        assert worker.request({"op": "exec", "index": 0, "source": source}, 60) == {"ok": {}, "threads": 0}
        groups = Path(f"/proc/{worker.pid}/cgroup").read_text()
        assert all(f"/autograder/{path.name}\n" in groups for path in slot.group.paths), groups
    finally:
        worker.kill()
    return worker, slot


def test_the_workers_of_a_process_are_born_in_one_slot_moved_into_its_group_once(slots, monkeypatch):
    moved, add = [], cgroup.Group.add
    monkeypatch.setattr(cgroup.Group, "add", lambda self, pid: (moved.append(pid), add(self, pid)))
    used = {id(_run(slots, "pass")[1]) for _ in range(3)}
    assert len(used) == 1 and len(moved) == 1, (used, moved)


def test_each_worker_of_a_slot_has_a_peak_of_its_own(slots):
    if "memory" not in sandbox.controllers():
        pytest.skip("no memory cgroup here")
    big, slot = _run(slots, "import torch\nx = torch.ones(75_000_000)")  # 300 MB
    small, again = _run(slots, "pass")
    assert again is slot
    assert big.peak_mb > 250 and small.peak_mb < 100, (big.peak_mb, small.peak_mb)


def test_a_batch_makes_one_slot_per_lane_for_all_its_graders(slots, tmp_path, monkeypatch):
    """The graders are forked children: each uses its lane's slot, made once by the batch."""
    log = tmp_path / "slots.log"
    init = sandbox.Slot.__init__

    def logged(self, *args, **kwargs):
        init(self, *args, **kwargs)
        with log.open("a") as f:
            f.write(f"{self.owner}\n")

    monkeypatch.setattr(sandbox.Slot, "__init__", logged)
    jobs = [Job(f"s{i}", Assignment(ASSIGNMENT), SOURCE) for i in range(4)]
    results = grade_batch(jobs, tmp_path / "out", slots, workers=2, progress=False, pending=jobs)
    assert [r.score for r in results] == [results[0].max_score] * 4
    assert log.read_text().split() == [str(os.getpid())] * 2


def test_closing_the_sandbox_ends_its_slots_their_groups_and_its_server(slots):
    """What a run does on its way out: python -m autograder ends with os._exit, which would leave them behind."""
    _run(slots, "pass")
    slots.lane(0)
    slots.lane(1)
    groups, server = [p for s in slots._made for p in s.group.paths], slots._server
    slots.close()
    assert len(groups) >= 2 and not any(p.exists() for p in groups), groups
    assert server.proc.poll() is not None, "the fork server outlived its sandbox"
