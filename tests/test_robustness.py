"""Broken and hostile submissions get a row and messages; the rest of the batch is graded normally."""
import os

import pytest

from conftest import AFTER_IMPORTS, ROOT, failures, grade, read_results, scores, with_answers

ASSIGNMENT = "01_loss_functions"
SOURCE = ROOT / "source" / ASSIGNMENT / "loss_functions.ipynb"
EXIT_IN_MSE = '''
import os

def mse_loss(pred, target, reduction="mean"):
    os._exit(3)
'''
SLEEP_IN_MAE = '''
import time

def mae_loss(pred, target, reduction="mean"):
    time.sleep(3600)
'''
CASES = {
    # student: (answers, extra cells, names expected to lose marks)
    "good": ({}, [], set()),
    "hangs-at-top-level": ({}, [(AFTER_IMPORTS, "while True:\n    pass")], set()),
    "raises-at-import": ({}, [(0, "import a_module_that_does_not_exist")], set()),
    "exits-at-top-level": ({}, [(AFTER_IMPORTS, "import os\nos._exit(1)")], set()),
    "system-exit-and-interrupt": ({}, [(AFTER_IMPORTS, "raise SystemExit(0)"), (AFTER_IMPORTS + 1, "raise KeyboardInterrupt")], set()),
    "exits-in-a-function": ({"mse_loss": EXIT_IN_MSE}, [], {"mse_loss"}),
    "sleeps-in-a-function": ({"mae_loss": SLEEP_IN_MAE}, [], {"mae_loss"}),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("robustness")
    for student, (answers, extra, _) in CASES.items():
        with_answers(SOURCE, answers, root / "submitted" / student / ASSIGNMENT / SOURCE.name, extra)
    (root / "submitted" / "not-json" / ASSIGNMENT).mkdir(parents=True)
    (root / "submitted" / "not-json" / ASSIGNMENT / SOURCE.name).write_text("this is not a notebook")
    (root / "submitted" / "no-notebook" / ASSIGNMENT).mkdir(parents=True)
    (root / "submitted" / "a-pipe" / ASSIGNMENT).mkdir(parents=True)
    os.mkfifo(root / "submitted" / "a-pipe" / ASSIGNMENT / SOURCE.name)  # opening it would wait for a writer
    done = grade(root / "submitted", root / "out")
    assert done.returncode == 0, done.stderr[-3000:]
    return read_results(root / "out"), (root / "out" / "grades.csv").read_text()


@pytest.mark.parametrize("student", sorted(CASES))
def test_only_the_broken_names_lose_marks(batch, student):
    results, _ = batch
    res = results[(student, ASSIGNMENT)]
    lost = {n for n, (got, top) in scores(res).items() if got < top}
    assert lost == CASES[student][2], failures(res)


def test_a_hanging_cell_is_reported(batch):
    output = batch[0][("hangs-at-top-level", ASSIGNMENT)]["output"]
    assert 'Code cell 2 ("while True:") did not finish within' in output


def test_an_exiting_cell_is_reported(batch):
    output = batch[0][("exits-at-top-level", ASSIGNMENT)]["output"]
    assert 'Code cell 2 ("import os") ended the Python process' in output


def test_a_crash_and_a_hang_in_a_function_say_so(batch):
    results = batch[0]
    crash = [t["output"] for t in results[("exits-in-a-function", ASSIGNMENT)]["tests"] if t.get("score") == 0]
    assert "ended your notebook's Python process" in crash[0]
    hang = [t["output"] for t in results[("sleeps-in-a-function", ASSIGNMENT)]["tests"] if t.get("score") == 0]
    assert "did not return within" in hang[0]


@pytest.mark.parametrize("student,reason", [("not-json", "not a notebook file"),
                                            ("no-notebook", "No notebook was found"),
                                            ("a-pipe", "not a regular file")])
def test_unreadable_submissions_get_a_row_naming_every_check(batch, student, reason):
    results, grades = batch
    res = results[(student, ASSIGNMENT)]
    assert res["extra_data"]["status"] == "ungradable"
    assert reason in res["output"]
    names = [{t["name"].split(":", 1)[0] for t in r["tests"]} for r in (res, results[("good", ASSIGNMENT)])]
    assert names[0] == names[1]  # every check and written answer, as for a graded one
    assert f"{student},{ASSIGNMENT},ungradable," in grades


def test_a_sandbox_that_cannot_start_is_caught_before_grading(session_sandbox, monkeypatch):
    """Rather than a zero for every student, grade refuses to run."""
    from autograder import sandbox
    from autograder.limits import Limits

    assert session_sandbox.selftest() is None
    monkeypatch.setattr(sandbox, "command", lambda *args: ["/bin/sh", "-c", "echo no python here; exit 7"])
    with sandbox.Sandbox(Limits()) as fresh:  # a server of its own, started with that command
        problem = fresh.selftest()
    assert "exited with status 7" in problem and "no python here" in problem


SNOOP = '''
import os
me, seen, marks = os.readlink("/proc/self"), [], set()
for pid in [p for p in os.listdir("/proc") if p.isdigit() and p != me]:
    for path in (f"/proc/{pid}/root/tmp/mine", f"/proc/{pid}/environ", f"/proc/{pid}/mem", f"/proc/{pid}/cwd"):
        try:
            data = os.listdir(path) if path.endswith("cwd") else open(path, "rb").read(64)
            seen.append(path)
            marks |= {data.decode()} if path.endswith("mine") else set()
        except OSError:
            pass
assert open(f"/proc/{me}/root/tmp/mine").read() == "{mine}", "cannot read its own files through /proc"
assert marks <= {"{mine}"}, ("another worker's file", marks)
if {alone}:  # one server: nothing but itself; a server each: its own server is in its sandbox too
    assert not seen and os.listdir("/tmp") == ["mine"], (seen, os.listdir("/tmp"))
'''


@pytest.fixture
def a_server_each(monkeypatch) -> None:
    """The mode of kernels without nested namespaces, forced: each worker in a bubblewrap of its own."""
    from autograder import modes

    if modes.mode().name != modes.BUBBLEWRAP:
        pytest.skip("process limits alone do not separate workers")
    monkeypatch.setattr(modes, "nested", lambda: False)


@pytest.fixture(params=["one-server", "a-server-each"])
def server_mode(request) -> str:
    """Workers forked by one shared server (nested namespaces), or each with a server of its own."""
    from autograder import modes

    if request.param == "a-server-each":
        request.getfixturevalue("a_server_each")
    elif not modes.nested():
        pytest.skip("nested namespaces (or bubblewrap) are unavailable here")
    return request.param


def test_students_graded_at_once_cannot_see_each_other(server_mode, session_sandbox):
    """Two workers at once: neither sees the other's /tmp, memory or environment."""
    from autograder.sandbox import Worker

    workers = [Worker(session_sandbox), Worker(session_sandbox)]
    servers = {id(w._server) for w in workers}
    assert len(servers) == (1 if server_mode == "one-server" else 2)
    try:
        for i, worker in enumerate(workers):
            assert worker.request({"op": "exec", "index": 0, "source": f"open('/tmp/mine', 'w').write('{i}')"},
                                  60) == {"ok": {}, "threads": 0}
        for i, worker in enumerate(workers):
            snoop = SNOOP.replace("{mine}", str(i)).replace("{alone}", str(server_mode == "one-server"))
            reply = worker.request({"op": "exec", "index": 1, "source": snoop}, 60)
            assert reply == {"ok": {}, "threads": 0}, reply
    finally:
        for worker in workers:
            worker.kill()


def test_a_server_each_grades_a_notebook_in_full_and_ends_with_its_worker(a_server_each, session_sandbox,
                                                                           monkeypatch):
    from autograder import sandbox
    from autograder.assignment import Assignment
    from autograder.grade import grade_notebook

    servers, real = [], sandbox.Server

    def recorded(*args):
        servers.append(real(*args))
        return servers[-1]

    monkeypatch.setattr(sandbox, "Server", recorded)
    graded = grade_notebook(SOURCE, Assignment(ASSIGNMENT), session_sandbox)
    assert graded.result.status == "graded" and graded.result.score == graded.result.max_score, graded.result
    assert servers and all(s.proc.poll() is not None for s in servers), "a worker's own server outlived it"


EXIT_SOON_AFTER = '''
import os, threading, time

def mse_loss(pred, target, reduction="mean"):
    threading.Thread(target=lambda: (time.sleep(0.3), os._exit(0)), daemon=True).start()
    return ((pred - target) ** 2).mean()
'''


def test_a_process_that_ends_between_calls_is_blamed_on_the_name_that_left_a_thread(session_sandbox, tmp_path):
    """Found dead before the next call (not during it), the process is still charged to the thread's name."""
    import time

    import torch

    from autograder import notebook
    from autograder.student import CheckFailed, Student

    path = tmp_path / SOURCE.name
    with_answers(SOURCE, {"mse_loss": EXIT_SOON_AFTER}, path)
    student, x = Student(notebook.read(path), session_sandbox), torch.ones(3)
    try:
        student.call("mse_loss", x, x)
        time.sleep(2)  # the thread ends the process meanwhile
        assert student.call("mae_loss", x, x).value == 0  # on a fresh process
        with pytest.raises(CheckFailed, match="after mse_loss returned, your notebook's Python process ended by"):
            student.call("mse_loss", x, x)
    finally:
        student.close()
    assert student.output.count("exp(big)") == 2, "the notebook ran once per process"


def test_a_name_blamed_after_its_checks_passed_still_loses_its_last_check():
    """Whether a process that a thread ends is noticed before or after the name's last check is a race."""
    from autograder.plugin import GradingPlugin
    from autograder.result import CheckResult

    plugin = GradingPlugin(student=None)
    plugin.results = [CheckResult("mse_loss", "a", 2, 2), CheckResult("mse_loss", "b", 1, 1),
                      CheckResult("mae_loss", "c", 1, 1), CheckResult("log_softmax", "d", 0, 1)]
    plugin.charge({"mse_loss": "after mse_loss returned, ...", "log_softmax": "it hung"})
    assert [r.score for r in plugin.results] == [2, 0, 1, 0]
    assert plugin.results[1].output == "after mse_loss returned, ..." and plugin.results[3].output == ""
