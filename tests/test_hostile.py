"""Hostile and broken submissions (tests/hostile/cases.py), graded in one batch with an honest student after them,
once in each sandbox mode: bubblewrap, and the container mode (forced: the tests run as root), with Landlock
and as in a container whose seccomp profile refuses Landlock, where users and file modes alone must hold.

No attack earns marks, reads or reaches what the sandbox hides, writes outside
the grader's output folder, or outlives grading; every other name of a hostile
submission, the honest student graded after the hostile ones, and a later
batch are graded as if nothing happened. test_robustness.py covers the plain
crashes (a top-level hang, raise at import, os._exit, SystemExit,
KeyboardInterrupt, a sleeping function, not-JSON, a missing notebook).
"""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, failures, grade, read_results, scores, with_answers

ASSIGNMENT = "01_loss_functions"
SOURCE = ROOT / "source" / ASSIGNMENT / "loss_functions.ipynb"
NOTEBOOK = SOURCE.name
# --call-seconds 10, not 5: h-forbid-compiled's calls compile with torch._dynamo (seconds on a busy machine);
# --processes 64 makes the fork bomb reach the pids limit in a second or two
LIMITS = ["--call-seconds", "10", "--cell-seconds", "15", "--notebook-seconds", "60", "--memory-mb", "6144",
          "--processes", "64"]
OUTPUT_BYTES = 1 << 20   # the grader's default --output-bytes
BATCH_SECONDS = 600      # the hostile batch must finish well within this
GOOD = "zz-good"         # sorts after every hostile student, so it is graded after them
MARKER = "LEAK:"
HIDDEN_TEXTS = ("def regression_mistakes", "### BEGIN SOLUTION")  # from the hidden checks and the source notebook
# the batch's modes: (AUTOGRADER_SANDBOX, how the grader starts)
NO_LANDLOCK = (sys.executable, str(Path(__file__).parent / "hostile" / "no_landlock.py"))
MODES = {"bubblewrap": ("bubblewrap", ()), "container": ("container", ()),
         "container-no-landlock": ("container", NO_LANDLOCK)}


def _load_cases() -> list[dict]:
    spec = importlib.util.spec_from_file_location("hostile_cases", Path(__file__).parent / "hostile" / "cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


CASES = _load_cases()
BY_NAME = {case["name"]: case for case in CASES}
assert len(BY_NAME) == len(CASES) and GOOD not in BY_NAME and all(n < GOOD for n in BY_NAME)


# -- building the submissions ---------------------------------------------------------------------------------

def _fill(text: str, tokens: dict[str, str]) -> str:
    for key, value in tokens.items():
        text = text.replace(f"@@{key}@@", value)
    return text


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


# every student writes their own answer: the source's, between nbgrader's markers, would show those markers in
# the student's results (their answer is kept there for marking by hand) and hide a real leak of the source
WRITTEN = {"why_cross_entropy": "Cross-entropy is the negative log-likelihood of the true class."}


def build(case: dict, dest: Path, tokens: dict[str, str]) -> None:
    """Write ``case``'s notebook to ``dest``."""
    answers = {**WRITTEN, **{k: _fill(v, tokens) for k, v in case.get("answers", {}).items()}}
    extra = [(pos, _fill(code, tokens)) for pos, code in case.get("extra", [])]
    with_answers(SOURCE, answers, dest, extra)
    kind = case.get("notebook")
    if kind is None:
        return
    nb = nbformat.read(dest, as_version=4)
    if kind == "v3":
        nbformat.write(nbformat.convert(nb, 3), dest, version=3)
        assert json.loads(dest.read_text())["nbformat"] == 3
    elif kind == "delete":
        nb.cells = [c for c in nb.cells if _grade_id(c) != "mse_loss"]
        nbformat.write(nb, dest)
    elif kind == "duplicate":  # the (wrong) answer cell, then a second mse_loss cell holding the instructor's
        original = nbformat.read(SOURCE, as_version=4)
        right = next(c for c in original.cells if _grade_id(c) == "mse_loss")
        right["id"] = "mse-loss-again"
        at = next(i for i, c in enumerate(nb.cells) if _grade_id(c) == "mse_loss")
        nb.cells.insert(at + 1, right)
        nbformat.write(nb, dest)
    elif kind == "strip-metadata":
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)
        nbformat.write(nb, dest)
    elif kind == "huge":  # 300 MB: a stream output written in chunks, never held in memory
        cell = next(c for c in nb.cells if c.cell_type == "code")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="@@HUGE@@")]
        head, tail = nbformat.writes(nb).split("@@HUGE@@")
        with open(dest, "w") as f:
            f.write(head)
            chunk = "0123456789abcdef" * 65536  # 1 MiB
            for _ in range(300):
                f.write(chunk)
            f.write(tail)
    elif kind == "nested-json":
        dest.write_text('{"cells": ' + "[" * 100000 + "]" * 100000 + ', "metadata": {}, "nbformat": 4, '
                        '"nbformat_minor": 5}')
    elif kind == "malformed-cell":
        raw = json.loads(dest.read_text())
        raw["cells"].insert(2, {"cell_type": "code", "metadata": {}, "source": None, "outputs": [],
                                "execution_count": None})
        dest.write_text(json.dumps(raw))
    elif kind == "folder":
        dest.unlink()
        dest.mkdir()
    elif kind == "symlink":
        dest.unlink()
        dest.symlink_to(SOURCE)
    else:
        raise ValueError(kind)


# -- what the sandbox must not reach -------------------------------------------------------------------------

class Listener:
    """A TCP server on 127.0.0.1 and an abstract unix socket; they record whoever connects."""

    def __init__(self, mark: str):
        self.hits: list[str] = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.sock = f"hostile-{mark}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.sock)
        self.unix.listen()
        for server in (self.tcp, self.unix):
            threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, addr = server.accept()
            except OSError:
                return
            self.hits.append(f"{server.family.name} {addr!r}")
            conn.close()

    def close(self) -> None:
        self.tcp.close()
        self.unix.close()


def processes_with(text: str) -> dict[int, str]:
    """Host processes whose command line holds ``text``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


def startup_dirs() -> set[Path]:
    """Where a dropped .pth, sitecustomize.py or conftest.py would run in a later process on the host."""
    python = subprocess.run([sys.executable, "-c", "import site, sys; print('\\n'.join(sys.path + "
                             "site.getsitepackages() + [site.getusersitepackages()]))"],
                            capture_output=True, text=True, check=True).stdout.split()
    return {Path(p) for p in python if p} | {ROOT, ROOT / "tests", ROOT / "autograder", ROOT / "autograder" / "checks",
                                             ROOT / "autograder" / "harness", Path("/tmp"), Path.home()}


def dropped_files(mark: str) -> list[Path]:
    found = []
    for folder in startup_dirs():
        for name in (f"hostile_{mark}.pth", "sitecustomize.py", "usercustomize.py", "conftest.py"):
            path = folder / name
            try:
                if path.is_file() and mark in path.read_text(errors="replace"):
                    found.append(path)
            except OSError:
                continue
    return found


def forged_files(mark: str, out: Path) -> list[Path]:
    candidates = [ROOT / "results.json", ROOT / "grades.csv", Path("/tmp/results.json"), Path("/tmp/grades.csv"),
                  Path("/autograder/results/results.json"), out / "grades.csv", out / "results.json",
                  *out.glob("*/*/results.json")]
    return [p for p in candidates if p.is_file() and mark in p.read_text(errors="replace")]


def git_status() -> set[str]:
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return set(done.stdout.splitlines())


def attack_artifacts(lines: set[str]) -> set[str]:
    """New untracked files an attack could have dropped (other people edit tracked files of this repo meanwhile;
    a dropped file that overwrote a tracked one carries the run's mark and is caught by dropped_files)."""
    names = ("results.json", "grades.csv", "conftest.py", "sitecustomize.py", "usercustomize.py", ".pth",
             "hostile", "output.txt")
    return {line for line in lines if line.startswith("??") and any(n in line.rsplit("/", 1)[-1] for n in names)
            and "tests/hostile/" not in line and "tests/test_hostile.py" not in line}


def _kill_grader(out: Path) -> None:
    """A batch over its time: end the grader we started (found by its unique --out folder)."""
    for pid in processes_with(str(out)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_batch(submitted: Path, out: Path, seconds: float,
              mode: str) -> tuple[subprocess.CompletedProcess | None, float]:
    box: list = []
    started = time.monotonic()
    sandbox, launcher = MODES[mode]
    worker = threading.Thread(target=lambda: box.append(grade(submitted, out, *LIMITS, sandbox=sandbox,
                                                              launcher=launcher)), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        _kill_grader(out)
        worker.join(30)
    return (box[0] if box else None), time.monotonic() - started


def _read_rows(path: Path) -> dict[tuple[str, str], dict]:
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module", params=list(MODES))
def batch(request, tmp_path_factory):
    mode = request.param
    if MODES[mode][0] == "container" and os.geteuid() != 0:
        pytest.skip("the container mode needs the grader to run as root")
    root = tmp_path_factory.mktemp(f"hostile-{mode}")
    submitted, out = root / "submitted", root / "out"
    mark = uuid.uuid4().hex[:16]
    listener = Listener(mark)
    tokens = {"ROOT": str(ROOT), "OUT": str(out), "SUBMITTED": str(submitted), "HOME": str(Path.home()),
              "PORT": str(listener.port), "SOCK": listener.sock, "MARK": mark,
              "TMPMARK": f"/tmp/hostile-marker-{mark}"}
    for case in CASES:
        build(case, submitted / case["name"] / ASSIGNMENT / NOTEBOOK, tokens)
    with_answers(SOURCE, WRITTEN, submitted / GOOD / ASSIGNMENT / NOTEBOOK)
    secret = f"secret-{mark}"
    status_before = git_status()
    old_secret = os.environ.get("GRADER_SECRET")
    os.environ["GRADER_SECRET"] = secret
    try:
        done, seconds = run_batch(submitted, out, BATCH_SECONDS, mode)
        # a later batch, with the same grader and machine: one honest student
        later_submitted, later_out = root / "later" / "submitted", root / "later" / "out"
        with_answers(SOURCE, {}, later_submitted / "good-later" / ASSIGNMENT / NOTEBOOK)
        later, _ = run_batch(later_submitted, later_out, 300, mode)
    finally:
        if old_secret is None:
            os.environ.pop("GRADER_SECRET", None)
        else:
            os.environ["GRADER_SECRET"] = old_secret
        listener.close()
        huge = submitted / "h-huge-notebook" / ASSIGNMENT / NOTEBOOK
        huge.unlink(missing_ok=True)
    data = {
        "mode": mode, "mark": mark, "secret": secret, "out": out, "done": done, "seconds": seconds,
        "results": read_results(out), "rows": _read_rows(out / "grades.csv"),
        "outputs": {p.parent.parent.name: p.read_text(errors="replace") for p in out.glob(f"*/{ASSIGNMENT}/output.txt")},
        "output_sizes": {p.parent.parent.name: p.stat().st_size for p in out.glob(f"*/{ASSIGNMENT}/output.txt")},
        "results_sizes": {p.parent.parent.name: p.stat().st_size for p in out.glob(f"*/{ASSIGNMENT}/results.json")},
        "later": later, "later_results": read_results(later_out),
        "connections": list(listener.hits),
        "processes": processes_with(mark),
        "markers": sorted(Path("/tmp").glob(f"hostile-marker-{mark}*")),
        "dropped": dropped_files(mark),
        "forged": forged_files(mark, out),
        "new_status": attack_artifacts(git_status() - status_before),
    }
    yield data
    # clean up what a successful attack left behind (all of it carries this run's unique mark)
    for pid in processes_with(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for path in [*data["markers"], *data["dropped"], *Path("/tmp").glob(f"hostile-marker-{mark}*")]:
        Path(path).unlink(missing_ok=True)


# -- helpers -------------------------------------------------------------------------------------------------

def _result(batch, student: str) -> dict:
    res = batch["results"].get((student, ASSIGNMENT))
    assert res is not None, f"no results.json for {student}"
    return res


def _params(kind: str) -> list:
    """One param per case; a case whose attack currently succeeds is a strict xfail, with the diagnosis."""
    return [pytest.param(case, id=case["name"], marks=[pytest.mark.xfail(strict=True, reason=case["xfail"][kind])]
                         if kind in case.get("xfail", {}) else []) for case in CASES]


# -- the batch as a whole -----------------------------------------------------------------------------------

def test_the_batch_finishes_with_a_row_for_everyone(batch):
    done = batch["done"]
    assert done is not None, f"the batch did not finish within {BATCH_SECONDS} s"
    assert done.returncode == 0, done.stderr[-3000:]
    sandbox = MODES[batch["mode"]][0]
    assert done.stderr.startswith(f"sandbox: {sandbox} ("), done.stderr[:300]
    assert ("no Landlock" in done.stderr.splitlines()[0]) == batch["mode"].endswith("no-landlock")
    assert {r["sandbox"] for r in batch["rows"].values()} == {sandbox}
    assert batch["seconds"] < BATCH_SECONDS
    expected = {case["name"] for case in CASES} | {GOOD}
    assert {s for s, a in batch["results"]} == expected
    assert {s for s, a in batch["rows"]} == expected


def test_the_honest_student_after_the_hostile_ones_gets_full_marks(batch):
    res = _result(batch, GOOD)
    assert res["extra_data"]["status"] == "graded"
    assert all(got == top for got, top in scores(res).values()), failures(res)
    assert res["score"] > 0 and batch["rows"][(GOOD, ASSIGNMENT)]["total"] == batch["rows"][(GOOD, ASSIGNMENT)]["max_total"]


def test_a_later_batch_is_unaffected(batch):
    assert batch["later"] is not None and batch["later"].returncode == 0, batch["later"] and batch["later"].stderr[-3000:]
    res = batch["later_results"][("good-later", ASSIGNMENT)]
    assert res["extra_data"]["status"] == "graded"
    assert all(got == top for got, top in scores(res).values()), failures(res)


def test_nothing_is_left_running(batch):
    assert batch["processes"] == {}


def test_no_pickle_ran_on_the_host(batch):
    assert batch["markers"] == []


def test_no_startup_file_reached_the_host(batch):
    assert batch["dropped"] == []


def test_no_forged_results_reached_the_host(batch):
    assert batch["forged"] == []


def test_the_sandbox_reached_no_socket_of_the_host(batch):
    assert batch["connections"] == []


def test_the_working_tree_is_unchanged(batch):
    assert batch["new_status"] == set()


def test_no_secret_or_hidden_text_in_any_output(batch):
    for (student, _), res in batch["results"].items():
        text = json.dumps(res) + batch["outputs"].get(student, "")
        assert batch["secret"] not in text, student
        for hidden in HIDDEN_TEXTS:
            assert hidden not in text, (student, hidden)


# -- each hostile submission -----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", _params("graded"))
def test_graded_normally_apart_from_the_attacked_names(batch, case):
    """The right status and a grades.csv row; every name the case does not attack gets full marks."""
    student = case["name"]
    res = _result(batch, student)
    expected = case.get("status", "graded")
    status = res["extra_data"]["status"]
    assert status == expected, (status, res["output"], failures(res)[:3])
    row = batch["rows"].get((student, ASSIGNMENT))
    assert row is not None and row["status"] == status
    if status == "ungradable":
        assert "could not be graded" in res["output"] and case.get("message", "") in res["output"], res["output"]
        assert res["tests"] and all(t["score"] == 0 and t["output"] for t in res["tests"])
        return
    for name, (got, top) in scores(res).items():
        if name not in case.get("lose", set()) | case.get("may_lose", set()):
            assert got == top, (name, failures(res, {name}))
    assert all(failures(res)), "every failed check says why"


@pytest.mark.parametrize("case", _params("attack"))
def test_the_attack_earns_nothing_and_leaks_nothing(batch, case):
    student = case["name"]
    res = _result(batch, student)
    got = scores(res)
    for name in case.get("lose", set()):
        assert got[name][0] < got[name][1], f"{name} got full marks: {got[name]}"
    if "baseline" in case:
        base = scores(_result(batch, case["baseline"]))
        for name in case.get("lose", set()):
            assert got[name][0] <= base[name][0], f"{name} scores {got[name][0]}, the same wrong answer " \
                                                  f"without the attack {base[name][0]}"
    if "message" in case and case.get("status", "graded") == "graded":  # an ungradable one's is checked above
        lost = case.get("lose", set())
        texts = failures(res, lost) if lost else [res["output"]]
        assert any(case["message"] in t for t in texts), texts[:3]
    if "flagged" in case:
        assert any(case["flagged"] in flag for flag in res["extra_data"]["integrity"]), res["extra_data"]["integrity"]
    output = batch["outputs"].get(student, "")
    assert case.get("ran", "") in output, f"the probe did not run: {output[-2000:]}"
    leaks = [line for line in (output + json.dumps(res)).splitlines() if MARKER in line]
    assert not leaks, leaks[:5]
    for check in case.get("checks", []):
        CHECKS[check](batch, student, res)


def _output_capped(batch, student, res):
    size = batch["output_sizes"].get(student, 0)
    assert size <= OUTPUT_BYTES + 4096, size
    assert "bytes of output were dropped" in batch["outputs"][student]


def _small_results(batch, student, res):
    assert batch["results_sizes"][student] < 256 * 1024, batch["results_sizes"][student]


def _no_secret(batch, student, res):
    assert batch["secret"] not in batch["outputs"].get(student, "") + json.dumps(res)
    assert "env GRADER_SECRET" not in batch["outputs"].get(student, "")
    assert "env NBGRADER_EXECUTION=autograde" in batch["outputs"].get(student, ""), "the probe did not run"


def _no_connection(batch, student, res):
    assert batch["connections"] == []


def _no_hidden_text(batch, student, res):
    text = json.dumps(res)
    assert "EXFIL" in text, "the probe did not run"
    for hidden in HIDDEN_TEXTS:
        assert hidden not in text


def _no_forged_results(batch, student, res):
    assert batch["forged"] == []
    assert res["extra_data"]["status"] == "graded" and "forged" not in json.dumps(res)


def _no_dropped_files(batch, student, res):
    assert batch["dropped"] == []


CHECKS = {"output_capped": _output_capped, "small_results": _small_results, "no_secret": _no_secret,
          "no_connection": _no_connection, "no_hidden_text": _no_hidden_text,
          "no_forged_results": _no_forged_results, "no_dropped_files": _no_dropped_files}
