"""Choosing the sandbox mode where courses grade: a bubblewrap that starts ``true`` but no real worker is not
chosen, the container mode takes over where the grader is root, and without any sandbox ``grade`` refuses,
naming the cause and the fix, unless the instructor asks for the unsafe fallback by name.

The hostile corpus runs in every mode in test_hostile.py; here are the container mode's own guarantees.
"""
from __future__ import annotations

import csv
import functools
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import container, modes, sandbox
from autograder.limits import Limits
from conftest import ROOT, TEST_LIMITS, read_results, scores

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the container mode needs the grader to run as root")


def fake_bwrap(folder: Path, refuse: str, message: str) -> Path:
    """A ``bwrap`` first on PATH that fails as ``message`` when its arguments hold ``refuse`` (every time when
    empty), and otherwise runs the real one."""
    real = shutil.which("bwrap") or "/bin/false"
    folder.mkdir()
    script = folder / "bwrap"
    script.write_text(f'#!/bin/sh\ncase " $* " in *" {refuse}"*) echo "bwrap: {message}" >&2; exit 1;; esac\n'
                      f'exec {real} "$@"\n')
    script.chmod(0o755)
    return folder


def grade_as(submitted: Path, out: Path, path: Path, *extra: str, launcher: tuple[str, ...] = ()):
    env = {**os.environ, "PATH": f"{path}:{os.environ['PATH']}"}
    env.pop("AUTOGRADER_SANDBOX", None)
    return subprocess.run([*launcher, sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
                           "-q", *TEST_LIMITS, *extra], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture
def two_students(samples, tmp_path) -> Path:
    submitted = tmp_path / "submitted"
    for student in ("ada", "ben"):
        shutil.copytree(samples / student / "01_loss_functions", submitted / student / "01_loss_functions")
    return submitted


@as_root
def test_a_bubblewrap_that_cannot_mount_proc_is_not_chosen(tmp_path, two_students):
    """Inside a container bwrap starts ``true`` but cannot mount /proc: every student got grader_error."""
    path = fake_bwrap(tmp_path / "bin", "--proc", "Can't mount proc on /newroot/proc: Operation not permitted")
    done = grade_as(two_students, tmp_path / "out", path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.startswith("sandbox: container ("), done.stderr[:500]
    results = read_results(tmp_path / "out")
    assert {r["extra_data"]["status"] for r in results.values()} == {"graded"}
    assert {r["extra_data"]["sandbox"] for r in results.values()} == {"container"}
    ada = scores(results[("ada", "01_loss_functions")])
    assert all(got == top for got, top in ada.values()), ada
    assert all(got == 0 for got, _ in scores(results[("ben", "01_loss_functions")]).values())


@as_root
def test_without_a_sandbox_grade_refuses_with_each_cause_and_its_fix(tmp_path, two_students):
    """Namespaces refused (a container's seccomp profile) and no CAP_SETUID (``--cap-drop``): nothing is graded
    unless the instructor passes --unsafe-no-sandbox, and then every result says so."""
    path = fake_bwrap(tmp_path / "bin", "", "No permissions to create new namespace: Operation not permitted")
    no_setuid = ("setpriv", "--bounding-set=-setuid,-setgid", "--inh-caps=-all")
    out = tmp_path / "out"
    refused = grade_as(two_students, out, path, launcher=no_setuid)
    assert refused.returncode == 3, refused.stderr[-2000:]
    assert refused.stderr.startswith("error: no sandbox works here"), refused.stderr
    assert "bubblewrap cannot create namespaces" in refused.stderr
    assert "cannot make a worker an unprivileged user" in refused.stderr and "--cap-drop ALL" in refused.stderr
    assert refused.stderr.count("Fix:") == 2 and "--unsafe-no-sandbox" in refused.stderr
    assert not out.exists() or not any(out.rglob("results.json"))

    done = grade_as(two_students, out, path, "--unsafe-no-sandbox", launcher=no_setuid)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.startswith("WARNING: NO SANDBOX"), done.stderr[:500]
    results = read_results(out)
    assert {r["extra_data"]["sandbox"] for r in results.values()} == {"none"}
    assert {row["sandbox"] for row in csv.DictReader((out / "grades.csv").open())} == {"none"}
    ada = scores(results[("ada", "01_loss_functions")])
    assert all(got == top for got, top in ada.values()), ada


def test_each_cause_comes_with_its_fix(monkeypatch):
    monkeypatch.setattr(modes.shutil, "which", lambda name: None)
    monkeypatch.setattr(modes.os, "geteuid", lambda: 1000)
    found = modes.choose()
    assert found.name == modes.NONE
    assert [p.split(" Fix: ")[1][:12] for p in found.problems] == ["install it (", "run the grad"]
    assert "apt-get install bubblewrap" in found.problems[0] and "as root" in found.problems[1]
    assert modes.choose("sideways").problems[0].startswith("AUTOGRADER_SANDBOX=sideways is not one of")


@as_root
def test_a_students_processes_are_killed_and_files_removed_before_the_grade_is_known(monkeypatch):
    """A detached child and a file in /tmp (where Landlock lets it write one): gone once the submission's worker
    is killed, which grading does before it writes any result; the hidden checks were unreadable for the
    student's user all along."""
    monkeypatch.setattr(modes, "mode", functools.cache(lambda: modes.choose(modes.CONTAINER)))
    monkeypatch.setattr(modes, "nested", lambda: False)
    monkeypatch.setattr(sandbox, "controllers", lambda: [])  # as in Docker: no cgroup would kill them
    leave = ('import os, subprocess, sys\n'
             'p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)\n'
             'try:\n'
             '    open("/tmp/left-behind-by-a-student", "w").close()  # refused where Landlock is\n'
             'except OSError:\n'
             '    pass\n'
             'print("uid", os.getuid(), "home", os.getcwd(), flush=True)\n'
             'try:\n'
             f'    open({str(ROOT / "autograder" / "checks" / "01_loss_functions.py")!r}).read()\n'
             '    print("READ THE CHECKS")\n'
             'except OSError as exc:\n'
             '    print("checks:", exc.strerror, "end", flush=True)\n')
    with sandbox.Sandbox(Limits(), (), 1) as box:  # a server of this mode, closed with its slots at the end
        box.start()
        worker = sandbox.Worker(box)
        try:
            assert "error" not in worker.request({"op": "exec", "index": 1, "source": leave}, 60)
            deadline = time.monotonic() + 10
            while "end" not in worker.output and time.monotonic() < deadline:  # read by a thread of the grader
                time.sleep(0.05)
            words = worker.output.split()
            uid, home = int(words[words.index("uid") + 1]), words[words.index("home") + 1]
            assert uid in container.UIDS and len(container._processes(uid)) == 2  # the worker and its child
            assert "checks: Permission denied" in worker.output, worker.output
            worker.kill()
            assert container._processes(uid) == [], "a process of the student's user outlived its worker"
            assert not Path(home).exists() and not Path("/tmp/left-behind-by-a-student").exists()
        finally:
            worker.kill()


def test_hide_leaves_the_way_to_what_workers_read_and_closes_the_rest(tmp_path):
    (tmp_path / "venv" / "lib").mkdir(parents=True)
    (tmp_path / "autograder" / "harness").mkdir(parents=True)
    (tmp_path / "autograder" / "checks").mkdir()
    (tmp_path / "source.ipynb").write_text("{}")
    container.hide(tmp_path, [tmp_path / "venv", tmp_path / "autograder" / "harness"])

    def other(path):
        return stat.S_IMODE(path.stat().st_mode) & 0o007

    assert other(tmp_path) == other(tmp_path / "autograder") == stat.S_IXOTH  # pass through, not list
    assert other(tmp_path / "venv") & stat.S_IROTH and other(tmp_path / "autograder" / "harness") & stat.S_IROTH
    assert other(tmp_path / "autograder" / "checks") == other(tmp_path / "source.ipynb") == 0
