"""The hidden checks of run_experiments, in the sandbox (harness/assignments/06_hyperparameters.py,
``experiments``): a train_and_evaluate that fails on some configs, and a log file in the sandbox's temporary
folder, read back here line by line."""
import json

import pytest

from autograder.check import StudentRaised, a_kind, fail, graded, reraise_with_hint

NAME = "run_experiments"
CONFIGS = [{"lr": 0.1, "batch_size": 32}, {"lr": 10.0, "batch_size": 32}, {"lr": 0.01, "batch_size": 64},
           {"lr": 5.0, "batch_size": 16}, {"lr": 0.001, "batch_size": 128}]
OUTCOMES = [{"metrics": {"val_accuracy": 0.91, "val_loss": 0.3}}, {"error": "loss became nan at epoch 2"},
            {"metrics": {"val_accuracy": 0.94, "val_loss": 0.2}}, {"error": "gradients overflowed"},
            {"metrics": {"val_accuracy": 0.89, "val_loss": 0.35}}]
EXISTING = ['{"config": {"lr": 1.0}, "metrics": {"val_accuracy": 0.5}}']  # a line from an earlier search


def expected() -> list[dict]:
    return [{"config": c, **o} for c, o in zip(CONFIGS, OUTCOMES)]


@pytest.fixture(scope="module")
def ran(student) -> dict | StudentRaised:
    try:
        return student.probe("experiments", NAME, configs=CONFIGS, outcomes=OUTCOMES, existing=EXISTING)
    except StudentRaised as exc:
        return exc


def result(ran: dict | StudentRaised) -> dict:
    if isinstance(ran, StudentRaised):
        if ran.exc_type == "Failed":
            reraise_with_hint(ran, "train_and_evaluate raises for some configs; catch the exception "
                              "(try/except Exception as exc), record it and go on with the next config")
        raise ran
    if ran["calls"] != CONFIGS[:len(ran["calls"])] or len(ran["calls"]) != len(CONFIGS):
        fail(f"{NAME} called train_and_evaluate {len(ran['calls'])} times for {len(CONFIGS)} configs, or not with "
             "each config in turn: call it once per config, in order, with the config itself, and go on after a "
             "run that raised")
    return ran


def same_record(got, want: dict) -> bool:
    if not isinstance(got, dict) or set(got) != set(want) or got.get("config") != want["config"]:
        return False
    if "error" in want:
        return isinstance(got["error"], str) and want["error"] in got["error"]
    return got["metrics"] == want["metrics"]


def expect_records(records, what: str) -> None:
    want = expected()
    if not isinstance(records, list):
        fail(f"{what} is {a_kind(records)}, expected a list of one dict per run")
    if len(records) != len(want):
        fail(f"{what} has {len(records)} records for {len(CONFIGS)} configs, two of whose runs raise: one record "
             "per config, the failed runs included")
    for i, (got, wish) in enumerate(zip(records, want)):
        if same_record(got, wish):
            continue
        if not isinstance(got, dict):
            fail(f"{what}: record {i + 1} is {a_kind(got)}, expected a dict")
        if "error" in wish:
            if "error" not in got:
                fail(f"{what}: record {i + 1}, whose run raised, has no 'error' key: "
                     "{'config': config, 'error': str(exc)}")
            if not isinstance(got["error"], str) or wish["error"] not in got["error"]:
                fail(f"{what}: the 'error' of record {i + 1} does not hold the exception's message: use str(exc)")
            fail(f"{what}: record {i + 1}, whose run raised, should have exactly the keys 'config' and 'error'")
        if got.get("config") != wish["config"]:
            fail(f"{what}: record {i + 1}'s 'config' is not the config of that run")
        if got.get("metrics") != wish["metrics"]:
            fail(f"{what}: record {i + 1}'s 'metrics' is not the dict that train_and_evaluate returned")
        fail(f"{what}: record {i + 1} should have exactly the keys 'config' and 'metrics' (no 'error' key for a "
             "run that succeeded)")


@graded(NAME)
def test_experiments_records(student, ran):
    """calls train_and_evaluate for each config in order and goes on after failures"""
    result(ran)


@graded(NAME)
def test_experiments_returns(student, ran):
    """returns one record per run: {"config", "metrics"}, or {"config", "error"} for a run that raised"""
    expect_records(result(ran)["value"], f"what {NAME} returned")


@graded(NAME)
def test_experiments_log(student, ran):
    """appends one JSON line per run to log_path, the records it returns"""
    text = result(ran)["text"]
    lines = text.splitlines()
    ran = result(ran)
    if not lines or lines[0] != EXISTING[0]:
        fail(f"{NAME} overwrote the lines already in log_path: open it for appending ('a'), not 'w'")
    new = lines[1:]
    if not text.endswith("\n"):
        fail("the log does not end with a newline: write each record as json.dumps(record) + '\\n'")
    if len(new) != len(CONFIGS):
        fail(f"{NAME} wrote {len(new)} lines for {len(CONFIGS)} runs: one JSON object per line, one line per run "
             "(a failed one included)")
    parsed = []
    for i, line in enumerate(new):
        try:
            parsed.append(json.loads(line))
        except ValueError:
            fail(f"line {i + 1} that {NAME} wrote is not JSON: write json.dumps(record), not str(record)")
    expect_records(parsed, "the log")
    if parsed != ran["value"]:
        fail(f"the log's lines are not the records {NAME} returned: write each record as it returns it")


@graded(NAME)
def test_experiments_configs_unchanged(student, ran):
    """leaves the configs it is given unchanged"""
    ran = result(ran)
    if ran["configs"] != CONFIGS:
        fail(f"{NAME} changed the configs it was given: put the metrics in a new record, not into the config")
