"""The hidden checks of sgd_momentum_step: 12 steps compared with torch.optim.SGD(momentum=...), from an empty
state and resumed from the state the student's own steps left."""
from autograder.check import graded

from ._common import SHAPES, check_run, expect_from_scratch, expect_inputs_kept

NAME = "sgd_momentum_step"


@graded(NAME)
def test_sgd_momentum_matches_torch(student):
    """over 12 steps from an empty state, agrees with torch.optim.SGD(lr=0.1, momentum=0.9)"""
    check_run(student, NAME, {"lr": 0.1}, seed=600, what="lr=0.1, default momentum, 12 steps from state={}")


@graded(NAME)
def test_sgd_momentum_resumes(student):
    """resumed from the state dict its own first 4 steps filled, the next 8 steps still agree with torch.optim.SGD"""
    check_run(student, NAME, {"lr": 0.05, "momentum": 0.8}, seed=610, what="lr=0.05, momentum=0.8", resumed=True)


@graded(NAME)
def test_sgd_momentum_hyperparameters(student):
    """uses the lr and momentum it is given (momentum=0.5 and 0.99, another shape)"""
    check_run(student, NAME, {"lr": 0.3, "momentum": 0.5}, seed=620, shape=SHAPES[1],
              what="lr=0.3, momentum=0.5, 12 steps from state={}")
    check_run(student, NAME, {"lr": 0.01, "momentum": 0.99}, seed=625, what="lr=0.01, momentum=0.99, 12 steps from "
              "state={}")


@graded(NAME)
def test_sgd_momentum_inputs(student):
    """leaves param and grad unchanged and returns a new tensor"""
    expect_inputs_kept(student, NAME, {"lr": 0.1}, seed=630)


@graded(NAME)
def test_sgd_momentum_from_scratch(student):
    """is written from scratch (no torch.optim)"""
    expect_from_scratch(student, NAME, {"lr": 0.1}, seed=640)
