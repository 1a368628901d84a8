"""The hidden checks of adam_step: 12 steps compared with torch.optim.Adam, from an empty state and resumed from
the state the student's own steps left, with ordinary and with small gradients (where eps matters)."""
from autograder.check import graded

from ._common import SHAPES, check_run, expect_from_scratch, expect_inputs_kept

NAME = "adam_step"


@graded(NAME)
def test_adam_matches_torch(student):
    """over 12 steps from an empty state, agrees with torch.optim.Adam with the default settings"""
    check_run(student, NAME, {}, seed=700, what="default lr, betas and eps, 12 steps from state={}")


@graded(NAME)
def test_adam_resumes(student):
    """resumed from the state dict its own first 4 steps filled, the next 8 steps still agree with
    torch.optim.Adam (bias correction goes on counting)"""
    check_run(student, NAME, {"lr": 0.01}, seed=710, what="lr=0.01", resumed=True)


@graded(NAME)
def test_adam_hyperparameters(student):
    """uses the lr, betas and eps it is given"""
    check_run(student, NAME, {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-3}, seed=720, shape=SHAPES[1],
              what="lr=0.05, betas=(0.8, 0.9), eps=1e-3, 12 steps from state={}")


@graded(NAME)
def test_adam_small_gradients(student):
    """agrees with torch.optim.Adam for gradients of about 1e-5, where eps matters"""
    check_run(student, NAME, {"lr": 0.01}, seed=730, scale=1e-5, what="gradients of about 1e-5, lr=0.01")


@graded(NAME)
def test_adam_inputs(student):
    """leaves param and grad unchanged and returns a new tensor"""
    expect_inputs_kept(student, NAME, {}, seed=740)


@graded(NAME)
def test_adam_from_scratch(student):
    """is written from scratch (no torch.optim)"""
    expect_from_scratch(student, NAME, {}, seed=745)
