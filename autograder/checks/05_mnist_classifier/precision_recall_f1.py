"""The hidden checks of precision_recall_f1."""
import torch

from autograder.check import a_kind, classes, expect_close, expect_tensor, expect_unchanged, fail, graded

from ._common import reference_matrix, skewed_classes

FULL = reference_matrix(skewed_classes(400, 5, seed=560), classes(400, 5, seed=561), 5)
# class 1 never predicted; class 3 neither present nor predicted; class 5 present and predicted but never right;
# class 6 predicted but never present
SPARSE = torch.tensor([[5, 0, 2, 0, 1, 1, 0],
                       [1, 0, 3, 0, 0, 0, 1],
                       [0, 0, 4, 0, 2, 1, 0],
                       [0, 0, 0, 0, 0, 0, 0],
                       [2, 0, 1, 0, 6, 0, 1],
                       [1, 0, 0, 0, 2, 0, 0],
                       [0, 0, 0, 0, 0, 0, 0]])
METRICS = ("precision", "recall", "f1")


def divide_or_zero(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    return torch.where(den > 0, num / den.clamp(min=1e-300), torch.zeros_like(num))


def reference_metrics(cm: torch.Tensor) -> dict[str, torch.Tensor]:
    cm = cm.double()
    tp = cm.diag()
    precision, recall = divide_or_zero(tp, cm.sum(0)), divide_or_zero(tp, cm.sum(1))
    f1 = divide_or_zero(2 * precision * recall, precision + recall)
    return {"precision": precision.float(), "recall": recall.float(), "f1": f1.float()}


def metrics(student, cm: torch.Tensor) -> dict[str, torch.Tensor]:
    """precision_recall_f1(cm) as {"precision", "recall", "f1"}, each checked to be float32 (C,)."""
    value = student.call("precision_recall_f1", cm).value
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        extra = f" of {len(value)} items" if isinstance(value, (tuple, list)) else ""
        fail(f"precision_recall_f1 returned {a_kind(value)}{extra}, expected a tuple (precision, recall, f1)")
    c = cm.shape[0]
    for name, v in zip(METRICS, value):
        expect_tensor(v, (c,), what=f"the {name} of a {c}-class matrix", hint="one value per class")
    return dict(zip(METRICS, value))


def expect_metric(got: dict, expected: dict, name: str, what: str, mistakes: dict[str, torch.Tensor]) -> None:
    value = got[name]
    if torch.isnan(value).any():
        fail(f"{what}: the {name} contains NaN: where a value is 0 / 0, return 0 (e.g. torch.where with a safe "
             "denominator)")
    expect_close(value, expected[name], rtol=1e-4, atol=1e-6, what=f"{what}: the {name}", mistakes=mistakes)


@graded("precision_recall_f1")
def test_metrics_types(student):
    """returns a tuple (precision, recall, f1) of float32 tensors of shape (C,)"""
    metrics(student, FULL)
    metrics(student, SPARSE)


@graded("precision_recall_f1")
def test_metrics_precision(student):
    """precision is the diagonal over the column sums (the predictions of each class)"""
    expected = reference_metrics(FULL)
    expect_metric(metrics(student, FULL), expected, "precision", "for a 5-class matrix", mistakes={
        "it looks like the recall: precision divides by the column sums (how often each class was predicted)":
            expected["recall"]})


@graded("precision_recall_f1")
def test_metrics_recall(student):
    """recall is the diagonal over the row sums (the examples of each class)"""
    expected = reference_metrics(FULL)
    expect_metric(metrics(student, FULL), expected, "recall", "for a 5-class matrix", mistakes={
        "it looks like the precision: recall divides by the row sums (how many examples each class has)":
            expected["precision"]})


@graded("precision_recall_f1")
def test_metrics_f1(student):
    """F1 is the harmonic mean of precision and recall"""
    got, expected = metrics(student, FULL), reference_metrics(FULL)
    p, r = expected["precision"], expected["recall"]
    expect_metric(got, expected, "f1", "for a 5-class matrix", mistakes={
        "it looks like the arithmetic mean: F1 = 2 * precision * recall / (precision + recall)": (p + r) / 2,
        "the factor 2 is missing: F1 = 2 * precision * recall / (precision + recall)": p * r / (p + r)})


@graded("precision_recall_f1")
def test_metrics_undefined(student):
    """is 0, never NaN, for classes never predicted or never present"""
    got, expected = metrics(student, SPARSE), reference_metrics(SPARSE)
    for name in METRICS:
        expect_metric(got, expected, name, "for a matrix with empty rows and columns", mistakes={})


@graded("precision_recall_f1")
def test_metrics_input_unchanged(student):
    """leaves the matrix unchanged"""
    cm = SPARSE.clone()
    expect_unchanged(student.call("precision_recall_f1", cm), [cm], "precision_recall_f1")
