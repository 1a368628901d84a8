"""The reply envelope: what the worker's ``handle`` answers (harness/__main__.py), and how the grader reads it
(sandbox._envelope, Student.probe and Student.call), with a fake worker in place of a sandboxed process."""
import os
from types import SimpleNamespace

import pytest
import torch

import autograder.student as student_module
from autograder.check import CheckFailed, StudentRaised, TimedOut
from autograder.harness import wire
from autograder.harness.__main__ import handle
from autograder.harness.protocol import well_formed
from autograder.harness.shell import Shell
from autograder.harness.values import Opaque
from autograder.limits import Limits
from autograder.sandbox import ChannelCorrupted, Tampered, WorkerDied, WorkerTimeout, _envelope
from autograder.student import Call, CellRun, Student


class FakeWorker:
    """Answers each request with the next step of a script shared by all workers: a reply, or an exception
    (after which this worker is dead)."""

    def __init__(self, script: list):
        self.script = script
        self.requests = []
        self.alive = True
        self.killed = False
        self.output = ""
        self.output_dropped = 0
        self.peak_mb = 0.0

    def request(self, msg, seconds, about=None):
        self.requests.append((msg, seconds, about))
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            self.alive = False
            raise step
        return {"threads": 0, **step}

    def kill(self):
        self.alive, self.killed = False, True


class Started(list):
    """The fake workers started, in order; ``script`` holds the replies to come."""

    script: list


@pytest.fixture
def workers(monkeypatch):
    started = Started()
    started.script = []

    def start(sandbox):
        started.append(FakeWorker(started.script))
        return started[-1]

    monkeypatch.setattr(student_module, "Worker", start)
    return started


def student_answering(workers, *steps) -> Student:
    workers.script.extend(steps)
    return Student([], SimpleNamespace(limits=Limits(call_seconds=7)))  # the sandbox only starts (fake) workers


def failure(call, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as info:
        call(*args, **kwargs)
    return str(info.value)


ERROR = {"type": "ValueError", "message": "shapes differ", "where": "code cell 2, line 3: return a - b",
         "function": "mse_loss", "forbidden": False}


# -- Student.probe: ok, missing, error ------------------------------------------------

def test_an_ok_reply_gives_its_data_revived(workers):
    student = student_answering(workers, {"ok": {"value": {"__opaque__": "numpy.ndarray", "repr": "array([1.])"},
                                                 "n": 3}})
    assert student.probe("call", "mse_loss") == {"value": Opaque("numpy.ndarray", "array([1.])"), "n": 3}


def test_a_probe_request_names_the_probe_the_name_and_its_arguments(workers):
    student = student_answering(workers, {"ok": {}})
    student.probe("figure", "plot_loss", args=[1], kwargs={})
    [(msg, seconds, about)] = workers[0].requests
    assert (msg["op"], msg["probe"]) == ("probe", "figure")
    assert msg["args"] == {"name": "plot_loss", "args": [1], "kwargs": {}}
    assert seconds == 7 and about == "plot_loss"


def test_a_probe_waits_the_seconds_asked_for(workers):
    student = student_answering(workers, {"ok": {}})
    student.probe("call", "f", seconds=2.5)
    assert workers[0].requests[0][1] == 2.5


def test_a_missing_name_says_it_is_not_defined(workers):
    student = student_answering(workers, {"missing": "mse_loss"})
    assert failure(student.probe, "call", "mse_loss") == (
        "mse_loss is not defined in your notebook: did you rename it or delete its cell?")


def test_a_missing_helper_says_which_name_needs_it(workers):
    student = student_answering(workers, {"missing": "predict"})
    assert failure(student.probe, "train_and_predict", "build_model").startswith(
        "build_model needs predict, which is not defined in your notebook")


def test_a_missing_name_lists_the_cells_that_did_not_run(workers):
    student = student_answering(workers, {"missing": "f"})
    student.runs[3] = CellRun('code cell 4 ("def f(x):")', "error", "raised SyntaxError: invalid syntax")
    assert failure(student.probe, "call", "f").endswith(
        ' These cells did not run: code cell 4 ("def f(x):") raised SyntaxError: invalid syntax')


def test_an_error_reply_raises_student_raised_with_its_type(workers):
    student = student_answering(workers, {"error": ERROR})
    with pytest.raises(StudentRaised) as info:
        student.probe("call", "mse_loss")
    assert info.value.exc_type == "ValueError"
    assert str(info.value) == "mse_loss raised ValueError: shapes differ (code cell 2, line 3: return a - b)"


def test_an_error_without_a_type_is_reported_as_unknown(workers):
    student = student_answering(workers, {"error": {"message": "odd"}})
    with pytest.raises(StudentRaised) as info:
        student.probe("call", "f")
    assert info.value.exc_type == "?"


def test_not_implemented_says_so(workers):
    student = student_answering(workers, {"error": {**ERROR, "type": "NotImplementedError", "raised": True}})
    assert failure(student.probe, "call", "mse_loss") == (
        "mse_loss is not implemented yet: it still raises NotImplementedError")


def test_a_forbidden_call_says_to_write_it_from_scratch(workers):
    error = {**ERROR, "type": "ForbiddenCall", "message": "'mse_loss' is not allowed here", "forbidden": True}
    student = student_answering(workers, {"error": error})
    assert failure(student.probe, "call", "mse_loss").startswith(
        "mse_loss uses a library shortcut: 'mse_loss' is not allowed here.")


# -- Student.probe: threads and processes that end -----------------------------------

def test_a_process_that_ends_after_a_call_blames_the_last_name(workers):
    student = student_answering(workers, {"ok": {}}, {"ok": {}})
    student.probe("call", "f")
    workers[0].alive = False
    student.probe("call", "g")  # on a fresh worker
    assert len(workers) == 2 and "f" in student.blamed and "g" not in student.blamed
    assert failure(student.probe, "call", "f").startswith(
        "not run, because an earlier check found that after f returned, your notebook's Python process ended")


def test_a_call_that_left_a_thread_is_blamed_over_a_later_call(workers):
    student = student_answering(workers, {"ok": {}, "threads": 1}, {"ok": {}}, {"ok": {}})
    student.probe("call", "f")
    student.probe("call", "g")
    workers[0].alive = False
    student.probe("call", "h")
    assert list(student.blamed) == ["f"]
    assert "does f leave a thread or process running?" in student.blamed["f"]


def test_a_process_that_ends_after_the_last_call_is_blamed_on_close(workers):
    student = student_answering(workers, {"ok": {}, "threads": 2})
    student.probe("call", "f")
    workers[0].alive = False
    student.close()
    assert list(student.blamed) == ["f"] and workers[0].killed


def test_a_death_on_a_call_is_retried_on_a_fresh_process(workers):
    student = student_answering(workers, {"ok": {}}, WorkerDied("was killed by signal 9"), {"ok": {"v": 1}})
    student.probe("call", "f")
    assert student.probe("call", "g") == {"v": 1}
    assert len(workers) == 2 and list(student.blamed) == ["f"]  # the earlier call did it


def test_a_death_on_the_retry_too_blames_the_name(workers):
    student = student_answering(workers, WorkerDied("was killed by signal 9"), WorkerDied("was killed by signal 9"))
    assert failure(student.probe, "call", "g") == (
        "calling g ended your notebook's Python process: it was killed by signal 9")
    assert failure(student.probe, "call", "g").startswith("not run, because an earlier check found that calling g")
    assert len(workers) == 2


def test_a_timeout_fails_the_name_and_is_not_run_again(workers):
    student = student_answering(workers, WorkerTimeout("no answer within 7 s"))
    with pytest.raises(TimedOut, match="^f did not return within 7 s: look for an infinite loop"):
        student.probe("call", "f")
    assert failure(student.probe, "call", "f").startswith("not run, because an earlier check found that f did not")
    assert len(workers) == 1


def test_a_second_reply_blames_the_call_it_answers(workers):
    corrupted = ChannelCorrupted("sent a second reply to an earlier call", culprit="f")
    student = student_answering(workers, {"ok": {}}, {"ok": {}}, corrupted, {"ok": {}})
    student.probe("call", "f")
    student.probe("call", "g")
    student.probe("call", "h")
    assert list(student.blamed) == ["f"] and "wrote to the grader's reply channel" in student.blamed["f"]


def test_tampering_is_flagged_for_the_instructor(workers):
    tampered = Tampered(["popped the watch off torch's mode stack"])
    student = student_answering(workers, tampered, tampered)
    assert "calling f tampered with the grader's harness" in failure(student.probe, "call", "f")
    assert student.flags == ["f: popped the watch off torch's mode stack"]


# -- Student.call --------------------------------------------------------------

def call_reply(**changes) -> dict:
    data = {"value": torch.ones(2), "value_requires_grad": False, "forbidden": [], "args_after": [torch.zeros(2)],
            "requires_grad_after": [False], "grads_after": [None]}
    return {**data, **changes}


def test_a_call_sends_its_arguments(workers):
    student = student_answering(workers, {"ok": call_reply()})
    x = torch.zeros(2)
    student.call("relu", x, forbid=("relu",), grad=(0,), inplace=False)
    msg = workers[0].requests[0][0]
    assert msg["probe"] == "call" and msg["args"]["args"] == [x] and msg["args"]["kwargs"] == {"inplace": False}
    assert msg["args"]["forbid"] == ["relu"] and msg["args"]["grad"] == [0] and msg["args"]["grad_out"] is None


def test_a_well_formed_call_reply_becomes_a_call(workers):
    student = student_answering(workers, {"ok": call_reply(grads=[torch.ones(2)])})
    call = student.call("relu", torch.zeros(2))
    assert isinstance(call, Call) and torch.equal(call.value, torch.ones(2))
    assert torch.equal(call.grads[0], torch.ones(2))
    assert call.requires_grad_after == [False] and call.grads_after == [None] and call.value_requires_grad is False


@pytest.mark.parametrize("data", [
    [1, 2], call_reply(forbidden="relu"), call_reply(forbidden=[1]), call_reply(value_requires_grad=1),
    call_reply(args_after=(1,)), call_reply(requires_grad_after=None), call_reply(grads_after={}),
    {k: v for k, v in call_reply().items() if k != "value"},
    {k: v for k, v in call_reply().items() if k != "grads_after"},
], ids=["not a dict", "forbidden str", "forbidden int", "requires_grad int", "args tuple", "requires_grad None",
        "grads dict", "no value", "no grads_after"])
def test_a_malformed_call_reply_is_refused(workers, data):
    assert not well_formed(data)
    student = student_answering(workers, {"ok": data})
    assert failure(student.call, "relu", torch.zeros(2)) == (
        "relu's reply is not one the grader's harness writes: something in your notebook wrote to the grader's "
        "reply channel or changed its harness; remove it")


def test_a_call_that_used_a_shortcut_fails(workers):
    student = student_answering(workers, {"ok": call_reply(forbidden=["relu", "clamp"])})
    assert failure(student.call, "relu", torch.zeros(2)).startswith(
        "relu uses a library shortcut (relu, clamp), even if it catches the error")


# -- sandbox._envelope -------------------------------------------------------------

def test_the_envelope_adds_threads_and_tampered_defaults():
    assert _envelope({"ok": {"a": 1}}) == {"ok": {"a": 1}, "threads": 0, "tampered": []}


def test_the_envelope_cleans_an_error():
    reply = _envelope({"error": {"type": "ValueError", "message": "m" * 5000, "where": 3, "extra": 1}, "threads": 1})
    error = reply["error"]
    assert error["type"] == "ValueError" and error["where"] == "?" and "extra" not in error
    assert len(error["message"]) < 5000 and error["forbidden"] is False and reply["threads"] == 1


@pytest.mark.parametrize("reply", [[1], {}, {"ok": {}, "missing": "f"}, {"ok": 1}, {"missing": 3}, {"error": "x"},
                                   {"other": 1}, {"ok": {}, "threads": "1"}, {"ok": {}, "tampered": "x"},
                                   {"ok": {}, "tampered": [1]}])
def test_the_envelope_refuses_a_malformed_reply(reply):
    with pytest.raises(wire.WireError, match="a malformed reply"):
        _envelope(reply)


# -- handle(), in process --------------------------------------------------------------

@pytest.fixture
def shell():
    ns = {"__name__": "__main__"}
    return Shell(ns)


def run_cell(shell, source, index=1):
    return handle(shell, {"op": "exec", "index": index, "source": source})


def test_exec_runs_a_cell_in_the_notebooks_namespace(shell):
    assert run_cell(shell, "x = 40 + 2", index=3) == {"ok": {}}
    assert shell.user_ns["x"] == 42 and shell.cell == 3


def test_exec_describes_an_exception_with_its_place_in_the_cell(shell):
    reply = run_cell(shell, "a = 1\nb = a / 0", index=4)
    assert reply["error"]["type"] == "ZeroDivisionError"
    assert reply["error"]["where"] == "code cell 4, line 2: b = a / 0"


def test_exec_describes_a_syntax_error(shell):
    reply = run_cell(shell, "def f(:\n    pass", index=2)
    assert reply["error"]["type"] == "SyntaxError" and reply["error"]["where"].startswith("code cell 2, line 1")


def test_exec_catches_system_exit(shell):
    assert run_cell(shell, "raise SystemExit(3)")["error"]["type"] == "SystemExit"


def probe_call(shell, name, *args, **kwargs):
    return handle(shell, {"op": "probe", "assignment": "01_loss_functions", "probe": "call",
                          "args": {"name": name, "args": list(args), "kwargs": kwargs, "forbid": [], "grad": []}})


def test_a_call_probe_answers_a_well_formed_call_reply(shell):
    run_cell(shell, "def double(x):\n    return x * 2")
    reply = probe_call(shell, "double", torch.ones(2))
    assert torch.equal(reply["ok"]["value"], torch.full((2,), 2.0)) and well_formed(reply["ok"])


def test_a_call_of_an_undefined_name_answers_missing(shell):
    assert probe_call(shell, "double", torch.ones(2)) == {"missing": "double"}


def test_a_call_that_raises_answers_the_error_and_the_function(shell):
    run_cell(shell, "def half(x):\n    return x / y", index=5)
    error = probe_call(shell, "half", torch.ones(2))["error"]
    assert error["type"] == "NameError" and error["function"] == "half"
    assert error["where"] == "code cell 5, line 2: return x / y"


def test_an_unknown_op_is_a_protocol_error(shell):
    assert handle(shell, {"op": "dance"}) == {"error": {"type": "Protocol", "message": "unknown op 'dance'",
                                                        "where": ""}}


def test_an_unknown_probe_is_a_protocol_error(shell):
    reply = handle(shell, {"op": "probe", "assignment": "01_loss_functions", "probe": "nope", "args": {}})
    assert reply["error"]["type"] == "Protocol" and "'nope'" in reply["error"]["message"]


def test_a_handled_reply_crosses_the_wire_and_passes_the_envelope(shell):
    run_cell(shell, "import numpy as np\ndef f(x):\n    return np.zeros(2)")
    reply = {**probe_call(shell, "f", torch.ones(2)), "threads": 0}
    r, w = os.pipe()
    try:
        wire.send(w, reply, 9)
        token, got = wire.recv(r, accept=(9,))
    finally:
        os.close(r)
        os.close(w)
    ok = _envelope(got)["ok"]
    assert well_formed(ok) and ok["value"] == {"__opaque__": "numpy.ndarray", "repr": "array([0., 0.])"}


def test_a_student_and_the_unreadable_stand_in_offer_the_checks_the_same_interface():
    """Unreadable once lacked ``limits``, which 05's checks read: an unreadable 05 ended as grader_error."""
    from autograder.student import Submission, Unreadable

    unreadable = Unreadable("not a notebook")
    assert isinstance(Student([], SimpleNamespace(limits=Limits())), Submission) and isinstance(unreadable, Submission)
    with pytest.raises(CheckFailed, match="not graded: not a notebook"):
        unreadable.call("f", torch.ones(1), forbid=("sum",))


def test_torchs_own_not_implemented_error_is_not_called_a_stub():
    """A bool relu_grad made torch raise NotImplementedError; "not implemented yet" sent the student to a stub
    they had already filled."""
    from autograder.harness.errors import describe
    from autograder.messages import raised_message

    import linecache

    source = ("import torch\ndef relu_grad(x):\n    return torch.ones(2, dtype=torch.bool).neg()\n"
              "def stub(x):\n    raise NotImplementedError()\n")
    linecache.cache["<cell 4>"] = (len(source), None, source.splitlines(True), "<cell 4>")  # as the worker does
    ns: dict = {}
    exec(compile(source, "<cell 4>", "exec"), ns)
    for name, own in (("relu_grad", False), ("stub", True)):
        try:
            ns[name](None)
        except Exception as exc:
            error = describe(exc)
        assert error["raised"] is own
        assert ("is not implemented yet" in raised_message(name, error)) is own, raised_message(name, error)
