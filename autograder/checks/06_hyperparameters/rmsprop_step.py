"""The hidden checks of rmsprop_step: 12 steps compared with torch.optim.RMSprop, from an empty state and resumed
from the state the student's own steps left, with ordinary and with small gradients (where eps matters)."""
from autograder.check import graded

from ._common import SHAPES, check_run, expect_from_scratch, expect_inputs_kept

NAME = "rmsprop_step"


@graded(NAME)
def test_rmsprop_matches_torch(student):
    """over 12 steps from an empty state, agrees with torch.optim.RMSprop with the default settings"""
    check_run(student, NAME, {}, seed=650, what="default lr, alpha and eps, 12 steps from state={}")


@graded(NAME)
def test_rmsprop_resumes(student):
    """resumed from the state dict its own first 4 steps filled, the next 8 steps still agree with
    torch.optim.RMSprop"""
    check_run(student, NAME, {"lr": 0.02}, seed=660, what="lr=0.02", resumed=True)


@graded(NAME)
def test_rmsprop_hyperparameters(student):
    """uses the lr, alpha and eps it is given"""
    check_run(student, NAME, {"lr": 0.05, "alpha": 0.9, "eps": 1e-3}, seed=670, shape=SHAPES[1],
              what="lr=0.05, alpha=0.9, eps=1e-3, 12 steps from state={}")


@graded(NAME)
def test_rmsprop_small_gradients(student):
    """agrees with torch.optim.RMSprop for gradients of about 1e-5, where eps matters"""
    check_run(student, NAME, {"lr": 0.01}, seed=680, scale=1e-5, what="gradients of about 1e-5, lr=0.01")


@graded(NAME)
def test_rmsprop_inputs(student):
    """leaves param and grad unchanged and returns a new tensor"""
    expect_inputs_kept(student, NAME, {}, seed=690)


@graded(NAME)
def test_rmsprop_from_scratch(student):
    """is written from scratch (no torch.optim)"""
    expect_from_scratch(student, NAME, {}, seed=695)
