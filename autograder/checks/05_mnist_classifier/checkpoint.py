"""The hidden checks of checkpoint (save_checkpoint and load_checkpoint), on the grader's small model, never
the student's."""
import pytest
import torch

from autograder.check import a_class, fail, graded, randn
from autograder.harness.probes import build

from ._common import random_state

CHECKPOINT_SPEC = [["conv2d", 1, 4, 5], ["batchnorm2d", 4], ["relu"], ["maxpool2d", 4], ["flatten"], ["dropout", 0.5],
                   ["linear", 144, 10]]
CHECKPOINT_STATE = random_state(CHECKPOINT_SPEC, seed=570)
CHECKPOINT_INPUTS = randn(5, 1, 28, 28, seed=571)


@pytest.fixture(scope="module")
def checkpointed(student) -> dict:
    """save_checkpoint then load_checkpoint of a small CNN with batch norm, build_model building that CNN."""
    return student.probe("checkpoint_run", "checkpoint", spec=CHECKPOINT_SPEC, state=CHECKPOINT_STATE,
                         inputs=CHECKPOINT_INPUTS)


def expect_stage(data: dict, stage: str) -> None:
    """Fail if save_checkpoint (or, for stage "load_checkpoint", either) raised."""
    if data["error"] is not None and (stage == "load_checkpoint" or data["stage"] == "save_checkpoint"):
        call = "save_checkpoint(model, path)" if data["stage"] == "save_checkpoint" else "load_checkpoint(path)"
        fail(f"{call} raised {data['error']}")


@graded("checkpoint")
def test_checkpoint_file(checkpointed):
    """save_checkpoint writes the model's state dict, readable by torch.load(path, weights_only=True)"""
    expect_stage(checkpointed, "save_checkpoint")
    file = checkpointed["file"]
    if not file["exists"]:
        fail("save_checkpoint(model, path) wrote no file at path: save to the path it is given")
    if not file["readable"]:
        fail(f"torch.load(path, weights_only=True) cannot read the file (it raised {file['error']}): save "
             "model.state_dict(), "
             "not the model object (torch.save(model) pickles code, which weights_only refuses)")
    if "entries" not in file:
        fail(f"the file holds {a_class(file['class'])}, expected the model's state dict: "
             "torch.save(model.state_dict(), path)")
    expected = build(CHECKPOINT_SPEC, CHECKPOINT_STATE).state_dict()
    missing = [k for k in expected if k not in file["entries"]]
    if missing:
        fail(f"the saved dict lacks {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}: save "
             "model.state_dict() itself (it holds the parameters and the buffers, such as BatchNorm's running "
             "statistics)")
    extra = [k for k in file["entries"] if k not in expected]
    if extra:
        fail(f"the saved dict has entries that are not in model.state_dict() ({', '.join(extra[:4])}): save "
             "model.state_dict() itself")
    for key, value in expected.items():
        got = file["entries"][key]
        if not (isinstance(got, torch.Tensor) and got.shape == value.shape and torch.equal(got, value)):
            fail(f"the saved {key} differs from the model's: save model.state_dict()")


@graded("checkpoint")
def test_checkpoint_rebuilds(checkpointed):
    """load_checkpoint returns a new nn.Module built by build_model()"""
    expect_stage(checkpointed, "load_checkpoint")
    if not checkpointed["module"]:
        fail(f"load_checkpoint(path) returned {a_class(checkpointed['loaded'])}, expected the model (an nn.Module)")
    if not checkpointed["from_build_model"]:
        fail("load_checkpoint(path) did not return a model made by build_model(): rebuild the model with "
             "build_model(), then copy the saved tensors in with model.load_state_dict(...)")


@graded("checkpoint")
def test_checkpoint_round_trip(checkpointed):
    """the loaded model gives exactly the saved model's outputs"""
    expect_stage(checkpointed, "load_checkpoint")
    if "outputs" not in checkpointed:
        fail(f"load_checkpoint(path) returned {a_class(checkpointed['loaded'])}, expected the model (an nn.Module)")
    saved, loaded = checkpointed["outputs"]["saved"], checkpointed["outputs"]["loaded"]
    if not (isinstance(loaded, torch.Tensor) and loaded.shape == saved.shape and torch.equal(loaded, saved)):
        fail("the loaded model's outputs differ from the saved model's (both in eval mode): load the saved state dict "
             "into the new model with model.load_state_dict(torch.load(path, weights_only=True))")
