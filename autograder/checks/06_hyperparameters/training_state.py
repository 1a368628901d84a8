"""The hidden checks of training_state (save_training_state and load_training_state), in the sandbox
(harness/assignments/06_hyperparameters.py, ``resume``): a small model trained with Adam and with SGD with
momentum, straight through and resumed from a checkpoint into a fresh model and optimizer; the final parameters
must agree bit for bit."""
import pytest
import torch

from autograder.check import a_class, a_kind, classes, fail, graded, randn
from autograder.harness.probes import build

NAME = "training_state"
SPEC = [["linear", 6, 8], ["tanh"], ["linear", 8, 3]]
EPOCHS, SAVED_AT = 4, 2
CONFIG = {"lr": 0.01, "optimizer": "adam", "hidden": [8], "batch_size": 5, "weight_decay": 0.0}
KINDS = {"adam": ("Adam", 0.01), "sgd_momentum": ("SGD with momentum", 0.1)}


def state(seed: int) -> dict:
    return {k: randn(*v.shape, seed=seed + i, scale=0.5) for i, (k, v) in enumerate(build(SPEC).state_dict().items())}


BATCHES = [[randn(5, 6, seed=800 + i), classes(5, 3, seed=810 + i)] for i in range(3)]


@pytest.fixture(scope="module")
def resumed(student) -> dict:
    return {kind: student.probe("resume", NAME, spec=SPEC, state=state(820), other=state(830), batches=BATCHES,
                                kind=kind, lr=lr, epochs=EPOCHS, saved_at=SAVED_AT, config=CONFIG)
            for kind, (_, lr) in KINDS.items()}


def expect_stage(report: dict, load: bool = True) -> None:
    if report["save_error"] is not None:
        fail(f"save_training_state(path, model, optimizer, epoch, config) raised {report['save_error']}")
    if load and report.get("load_error") is not None:
        hint = ""
        if not report["file"].get("readable", True):
            hint = ": the file could not be read with torch.load(path, weights_only=True)"
        fail(f"load_training_state(path, model, optimizer) raised {report['load_error']}{hint}")


@graded(NAME)
def test_training_state_file(resumed):
    """save_training_state writes a dict readable by torch.load(path, weights_only=True)"""
    report = resumed["adam"]
    expect_stage(report, load=False)
    file = report["file"]
    if not file["exists"]:
        fail("save_training_state wrote no file at path: save to the path it is given")
    if not file["readable"]:
        fail(f"torch.load(path, weights_only=True) cannot read the file (it raised {file['error']}): save plain "
             "data only (a dict of model.state_dict(), optimizer.state_dict(), the epoch and the config), not the "
             "model or optimizer objects")
    if file["class"] != "dict":
        fail(f"the file holds {a_class(file['class'])}, expected one dict holding the model's and the optimizer's "
             "state dicts, the epoch and the config")


@graded(NAME)
def test_training_state_returns(resumed):
    """load_training_state returns (epoch, config), as saved"""
    report = resumed["adam"]
    expect_stage(report)
    value = report["returned"]
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        fail(f"load_training_state returned {a_kind(value)}, expected the tuple (epoch, config)")
    epoch, config = value
    if config == SAVED_AT and epoch == CONFIG:
        fail("load_training_state returned (config, epoch): return (epoch, config), in that order")
    if epoch != SAVED_AT or type(epoch) is not int:
        fail("load_training_state returned an epoch other than the one saved: return the saved epoch, as an int")
    if config != CONFIG:
        fail("load_training_state returned a config other than the one saved: save the config dict and return it")


@graded(NAME)
def test_training_state_fills_model(resumed):
    """load_training_state loads the saved weights into the model it is given (in place)"""
    report = resumed["adam"]
    expect_stage(report)
    if not report["model_loaded"]:
        fail("after load_training_state(path, model, optimizer), model does not hold the saved weights: load them "
             "into the model you are given with model.load_state_dict(...), do not build a new one")


def expect_resumed(report: dict, kind: str) -> None:
    expect_stage(report)
    what = KINDS[kind][0]
    straight, again = report["straight"], report["resumed"]
    if all(torch.equal(straight[k], again[k]) for k in straight):
        return
    if not report["model_loaded"]:
        fail(f"training with {what} resumed from the checkpoint ends elsewhere than training straight through: "
             "the model you are given did not get the saved weights; load them with model.load_state_dict(...)")
    if not report["optimizer_loaded"]:
        fail(f"training with {what} resumed from the checkpoint ends elsewhere than training straight through: "
             "the optimizer you are given was not restored (its running averages, momentum buffers and step "
             "counts start again from nothing); save optimizer.state_dict() and load it with "
             "optimizer.load_state_dict(...)")
    fail(f"training with {what} resumed from the checkpoint does not end with exactly the parameters of training "
         "straight through: save the model's and the optimizer's state dicts as they are at the save, and load "
         "both in full")


@graded(NAME)
def test_training_state_resume_adam(resumed):
    """training with Adam resumed after a save and a load ends exactly where training straight through does"""
    expect_resumed(resumed["adam"], "adam")


@graded(NAME)
def test_training_state_resume_sgd(resumed):
    """training with SGD with momentum resumed after a save and a load ends exactly where training straight
    through does"""
    expect_resumed(resumed["sgd_momentum"], "sgd_momentum")
