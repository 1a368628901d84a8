"""The hidden checks of confusion_matrix."""
from typing import Any

import torch

from autograder.check import classes, expect_tensor, expect_unchanged, fail, graded

from ._common import reference_matrix, skewed_classes

LIBRARIES = ["sklearn", "torchmetrics"]


def expect_matrix(value: object, y_true: torch.Tensor, y_pred: torch.Tensor, c: int, what: str) -> None:
    expected = reference_matrix(y_true, y_pred, c)
    if isinstance(value, torch.Tensor) and value.dim() == 2 and value.shape[0] == value.shape[1] != c:
        fail(f"{what} has shape {tuple(value.shape)}, expected ({c}, {c}): size the matrix by num_classes, not by "
             "the labels that happen to occur")
    expect_tensor(value, (c, c), torch.int64, what=what, hint="one row and one column per class")
    if torch.equal(value, expected):
        return
    mistakes = {
        "it looks transposed: rows are the true class, columns the predicted class": expected.T,
        "repeated (true, predicted) pairs were counted once: `cm[y_true, y_pred] += 1` does not add up repeated "
        "index pairs; use index_put_(..., accumulate=True), torch.bincount or a loop": (expected > 0).long(),
    }
    for diagnosis, wrong in mistakes.items():
        if torch.equal(value, wrong):
            fail(f"{what} has the wrong counts: {diagnosis}")
    fail(f"{what} has the wrong counts in {(value != expected).sum().item()} of {c * c} entries: entry [i, j] counts "
         "the examples of true class i predicted as class j")


def confusion(student, y_true: torch.Tensor, y_pred: torch.Tensor, **kwargs: Any) -> Any:
    return student.call("confusion_matrix", y_true, y_pred, **kwargs)


@graded("confusion_matrix")
def test_confusion_counts(student):
    """returns an int64 (C, C) tensor of counts, rows true class, columns predicted class"""
    y_true, y_pred = skewed_classes(300, 6, seed=540), classes(300, 6, seed=541)
    expect_matrix(confusion(student, y_true, y_pred, num_classes=6).value, y_true, y_pred, 6,
                  "confusion_matrix(y_true, y_pred, num_classes=6)")


@graded("confusion_matrix")
def test_confusion_num_classes(student):
    """honours num_classes (default 10), including classes absent from the data"""
    y_true, y_pred = classes(50, 5, seed=542), classes(50, 5, seed=543)
    expect_matrix(confusion(student, y_true, y_pred, num_classes=7).value, y_true, y_pred, 7,
                  "confusion_matrix(y_true, y_pred, num_classes=7) for labels 0..4")
    y_true, y_pred = classes(40, 4, seed=544), classes(40, 4, seed=545)
    expect_matrix(confusion(student, y_true, y_pred).value, y_true, y_pred, 10,
                  "confusion_matrix(y_true, y_pred) (num_classes defaults to 10) for labels 0..3")


@graded("confusion_matrix")
def test_confusion_large(student):
    """counts 10,000 pairs of 10 classes exactly"""
    y_true, y_pred = skewed_classes(10_000, 10, seed=546), classes(10_000, 10, seed=547)
    expect_matrix(confusion(student, y_true, y_pred, num_classes=10).value, y_true, y_pred, 10,
                  "confusion_matrix for 10,000 labels")


@graded("confusion_matrix")
def test_confusion_from_scratch(student):
    """is written from scratch, without sklearn or torchmetrics"""
    student.probe("call_without", "confusion_matrix", args=[classes(30, 3, seed=548), classes(30, 3, seed=549)],
                  kwargs={"num_classes": 3}, libraries=LIBRARIES)


@graded("confusion_matrix")
def test_confusion_inputs_unchanged(student):
    """leaves its inputs unchanged"""
    args = [classes(60, 4, seed=550), classes(60, 4, seed=551)]
    expect_unchanged(confusion(student, *args, num_classes=4), args, "confusion_matrix")
