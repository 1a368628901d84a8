"""How a run starts its fork server: the slow modules its assignments declare and no more, and how its OpenMP
threads wait."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

from autograder import assignment, modes, sandbox
from autograder.assignment import ALL_WARM_UP, Assignment, all_assignments, warm_up
from autograder.limits import Limits


def test_warm_up_is_read_from_the_checks_module(tmp_path, monkeypatch):
    (tmp_path / "01_light.py").write_text('import torch\n\nWARM_UP = ()  # nothing slow\n')
    (tmp_path / "02_optim.py").write_text('WARM_UP = ("torch._dynamo",)\n')
    (tmp_path / "03_undeclared.py").write_text('import torch\n')
    monkeypatch.setattr(assignment, "CHECKS", tmp_path)
    light, optim, undeclared = (Assignment(i) for i in ("01_light", "02_optim", "03_undeclared"))
    assert light.warm_up == ()
    assert optim.warm_up == ("torch._dynamo",)
    assert undeclared.warm_up == ALL_WARM_UP  # the safe default: everything
    assert warm_up([optim, light, undeclared]) == ("torch._dynamo", "torchvision.datasets", "torchvision.transforms")


def test_every_assignment_declares_its_slow_imports():
    """Undeclared, an assignment's fork server would import all of ALL_WARM_UP (torch._dynamo alone takes 1.3 s)."""
    for a in all_assignments().values():
        assert "WARM_UP" in a.declarations, f"{a.id} declares no WARM_UP"
        assert set(a.warm_up) <= set(ALL_WARM_UP), a.id


def test_the_from_scratch_watch_does_not_import_dynamo():
    """Else every worker that checks a name "from scratch" would pay torch._dynamo's import (1.3 s)."""
    code = ("import sys, torch\n"
            "from autograder.harness.forbid import forbidding\n"
            "with forbidding({'mse_loss'}):\n"
            "    (torch.ones(3, requires_grad=True) * 2).sum().backward()\n"
            "print('torch._dynamo' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def test_openmp_threads_spin_only_where_every_worker_could_train_on_cpus_of_its_own(monkeypatch):
    """Spinning made one training 10% faster, and two trainings sharing 2 CPUs 8 times slower."""
    monkeypatch.setattr(sandbox.os, "sched_getaffinity", lambda pid: {0, 1})
    waits = {}
    for workers, train_threads in ((0, 2), (1, 2), (2, 2), (2, 1), (3, 1)):
        env = sandbox.Sandbox(Limits(train_threads=train_threads), (), workers).environment()  # nothing started
        waits[workers, train_threads] = env.get("OMP_WAIT_POLICY", f"spin {env.get('GOMP_SPINCOUNT')}")
    assert waits == {(0, 2): "PASSIVE", (1, 2): "spin 300000", (2, 2): "PASSIVE", (2, 1): "spin 300000",
                     (3, 1): "PASSIVE"}


def test_the_fork_server_reads_the_graders_font_list_instead_of_building_one(tmp_path, monkeypatch):
    """Building one took 0.3 s of every sandbox start."""
    if modes.mode().name != modes.BUBBLEWRAP:
        pytest.skip("without bubblewrap the server shares the grader's /tmp, where matplotlib keeps its list")
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=True,
                   env={**os.environ, "MPLCONFIGDIR": str(tmp_path)})
    [path] = tmp_path.glob("fontlist-v*.json")
    fonts = json.loads(path.read_text())
    fonts["ttflist"].append({**fonts["ttflist"][0], "name": "Grader Marker"})  # a font that no build would list
    path.write_text(json.dumps(fonts))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path))
    monkeypatch.setattr(modes, "nested", lambda: False)  # a server of its own, started now, for this worker
    with sandbox.Sandbox(Limits()) as box:
        worker = sandbox.Worker(box)
        try:
            reply = worker.request({"op": "exec", "index": 0, "source": (
                "import matplotlib.font_manager as fm\n"
                "assert any(f.name == 'Grader Marker' for f in fm.fontManager.ttflist), 'built a list of its own'")},
                60)
        finally:
            worker.kill()
    assert "error" not in reply, reply


def test_a_broken_font_list_costs_the_build_it_saves_and_nothing_more(tmp_path, monkeypatch):
    if modes.mode().name != modes.BUBBLEWRAP:
        pytest.skip("without bubblewrap the server shares the grader's /tmp, where matplotlib keeps its list")
    (tmp_path / "fontlist-v0.json").write_text("{not json")
    (tmp_path / "fontlist-v1.json").mkdir()
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path))
    monkeypatch.setattr(modes, "nested", lambda: False)
    with sandbox.Sandbox(Limits()) as box:
        worker = sandbox.Worker(box)
        try:
            reply = worker.request({"op": "exec", "index": 0,
                                    "source": "import matplotlib.pyplot as plt\nplt.plot([1])"}, 60)
        finally:
            worker.kill()
    assert "error" not in reply, reply
