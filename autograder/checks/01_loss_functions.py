"""Hidden checks for 01_loss_functions."""
import pytest
import torch
import torch.nn.functional as F

from autograder.check import (StudentRaised, classes, expect_close, expect_tensor, expect_unchanged, fail, graded,
                              randn)

WARM_UP = ()  # slow imports the grader and sandbox make before forking (assignment.py): none here

SCALAR_HINT = "a 'mean' or 'sum' reduction returns a 0-dim tensor; did you reduce over every element?"
REGRESSION = [
    pytest.param("mse_loss", F.mse_loss, ("mse_loss",), marks=graded("mse_loss"), id="mse_loss"),
    pytest.param("mae_loss", F.l1_loss, ("l1_loss", "smooth_l1_loss", "huber_loss"), marks=graded("mae_loss"),
                 id="mae_loss"),
]
NO_NUMPY = ("numpy", "array")  # Tensor.numpy and np.asarray(tensor) (Tensor.__array__)


def regression_mistakes(name, pred, target, reduction):
    """What common mistakes return, by diagnosis."""
    diff = pred - target
    elementwise = {"mse_loss": diff ** 2, "mae_loss": diff.abs()}[name]
    other = {"mse_loss": diff.abs(), "mae_loss": diff ** 2}[name]
    reduce = {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}[reduction]
    mistakes = {
        "it looks like the other loss (squared vs absolute error)": reduce(other),
        "it looks like the difference was not made positive (square or abs)": reduce(diff),
    }
    if reduction == "mean":
        mistakes["it looks like you summed instead of averaging"] = elementwise.sum()
        mistakes["it looks like a square root was taken (that is RMSE)"] = elementwise.mean().sqrt()
    if reduction == "sum":
        mistakes["it looks like you averaged instead of summing"] = elementwise.mean()
    return mistakes


@pytest.mark.parametrize("name,reference,shortcuts", REGRESSION)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_reduction(student, name, reference, shortcuts, reduction):
    """matches the PyTorch loss with reduction={reduction!r}"""
    pred, target = randn(5, 3, seed=1), randn(5, 3, seed=2)
    value = student.call(name, pred, target, reduction=reduction).value
    expect_close(value, reference(pred, target, reduction=reduction), rtol=1e-5, atol=1e-6,
                 what=f"{name}(pred, target, reduction={reduction!r})",
                 hint=SCALAR_HINT if reduction != "none" else "'none' keeps one loss per element",
                 mistakes=regression_mistakes(name, pred, target, reduction))


# any shape the inputs may have, sizes of one and 0-dim tensors included, and values far from 0
SHAPES = [(7,), (2, 3, 4), (4, 1), (1, 3), (1,), ()]
FAR_FROM_ZERO = [("values near 1e4 that differ by about 1", randn(4, 3, seed=40) + 1e4, randn(4, 3, seed=41) + 1e4),
                 ("differences as large as 1e20", randn(4, 3, seed=42, scale=1e20), randn(4, 3, seed=43, scale=1e19))]
SHAPE_HINTS = {"none": "'none' keeps one loss per element, shaped exactly like pred: do not squeeze, flatten or "
                       "reshape the inputs", "mean": SCALAR_HINT, "sum": SCALAR_HINT}


def expanded_square(pred, target, reduction):
    """What pred**2 - 2*pred*target + target**2 gives in float32, reduced."""
    err = pred * pred - 2 * pred * target + target * target
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]


def expect_far_from_zero(student, name, reference, what, pred, target, reduction):
    value, expected = student.call(name, pred, target, reduction=reduction).value, reference(
        pred, target, reduction=reduction)
    call = f"{name}(pred, target, reduction={reduction!r}) for {what}"
    if (name == "mae_loss" and isinstance(value, torch.Tensor) and value.shape == expected.shape
            and not torch.isfinite(value).all()):
        fail(f"{call} is infinite or NaN, although the loss is finite: squaring the difference overflows float32 "
             "above about 1.8e19, so take the absolute value with abs(), not sqrt(x ** 2)")
    expect_close(value, expected, rtol=1e-5, atol=1e-6, what=call, hint=SHAPE_HINTS[reduction], mistakes={
        "it looks like the square was expanded (pred**2 - 2*pred*target + target**2), which loses the digits of the "
        "difference when pred and target are large: square pred - target itself":
            expanded_square(pred, target, reduction)} if name == "mse_loss" else None)


@pytest.mark.parametrize("name,reference,shortcuts", REGRESSION)
def test_regression_any_shape(student, name, reference, shortcuts):
    """works for inputs of any shape (sizes of one included) and far from 0, with every reduction"""
    for i, shape in enumerate(SHAPES):
        pred, target = randn(*shape, seed=3 + 2 * i), randn(*shape, seed=4 + 2 * i)
        for reduction in ("mean", "sum", "none"):
            expect_close(student.call(name, pred, target, reduction=reduction).value,
                         reference(pred, target, reduction=reduction), rtol=1e-5, atol=1e-6,
                         what=f"{name}(pred, target, reduction={reduction!r}) on inputs of shape {shape}",
                         hint=SHAPE_HINTS[reduction])
    for what, pred, target in FAR_FROM_ZERO:
        for reduction in ("none", "mean"):
            expect_far_from_zero(student, name, reference, what, pred, target, reduction)


@pytest.mark.parametrize("name,reference,shortcuts", REGRESSION)
def test_regression_bad_reduction(student, name, reference, shortcuts):
    """raises ValueError for an unknown reduction"""
    for reduction in ("average", "MEAN", None):
        try:
            student.call(name, randn(3, seed=0), randn(3, seed=1), reduction=reduction)
        except StudentRaised as exc:
            # None may also end in the TypeError of building the message ("..." + reduction): it is refused
            if exc.exc_type != "ValueError" and reduction is not None:
                fail(f"{name}(..., reduction={reduction!r}) should raise ValueError; instead it: {exc}")
        else:
            fail(f"{name}(..., reduction={reduction!r}) returned a value: raise ValueError for any reduction "
                 "other than exactly 'mean', 'sum' or 'none' (as F.mse_loss and F.l1_loss do, for 'MEAN' and None "
                 "too)")


def tied(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """pred and target, equal in rows 0 and 2 (both 0 in one place) and different elsewhere; the mask of equals."""
    pred, target = randn(4, 3, seed=seed), randn(4, 3, seed=seed + 1)
    pred[0, 0] = 0.0
    target[::2] = pred[::2]
    return pred, target, pred == target


def expect_gradient(student, name, reference, pred, target, reduction, tie=None):
    """The gradient in pred of ``name(pred, target, reduction)`` (weighted at random for 'none') is autograd's
    through ``reference``; where ``tie``, mae_loss may have any subgradient of |x| at 0."""
    weight = randn(*pred.shape, seed=46) if reduction == "none" else None
    call = student.call(name, pred, target, reduction=reduction, grad=(0,), grad_out=weight)
    if isinstance(call.grads, str):
        fail(f"{name}(..., reduction={reduction!r}) is not differentiable in pred: {call.grads} (avoid .detach(), "
             ".item() and building new tensors from Python numbers)")
    what = f"the gradient of {name}(pred, target, reduction={reduction!r}) with respect to pred"
    grad = expect_tensor(call.grads[0], tuple(pred.shape), what=what)
    leaf = pred.clone().requires_grad_(True)
    loss = reference(leaf, target, reduction=reduction)
    (loss if weight is None else loss * weight).sum().backward()
    expected = leaf.grad
    if tie is not None:
        if not torch.isfinite(grad[tie]).all():
            fail(f"{what} is NaN or infinite where pred equals target" + (
                ": the derivative of sqrt(x ** 2) is undefined at 0, so take the absolute value with abs()"
                if name == "mae_loss" else ""))
        what += " (pred equals target in some places)"
        if name == "mae_loss":  # |x| has no derivative at 0: any subgradient in [-1, 1] (times the weight) will do
            scale = weight.abs() if weight is not None else torch.full_like(
                pred, 1.0 / pred.numel() if reduction == "mean" else 1.0)
            expected = torch.where(tie & (grad.abs() <= scale * (1 + 1e-5)), grad, expected)
    expect_close(grad, expected, rtol=1e-4, atol=1e-6, what=what)


@pytest.mark.parametrize("name,reference,shortcuts", REGRESSION)
def test_regression_gradient(student, name, reference, shortcuts):
    """is differentiable in pred, with the right gradient for every reduction, also where pred equals target"""
    expect_gradient(student, name, reference, randn(4, 3, seed=5), randn(4, 3, seed=6), "mean")
    pred, target, tie = tied(seed=44)
    for reduction in ("mean", "sum", "none"):
        expect_gradient(student, name, reference, pred, target, reduction, tie)


@pytest.mark.parametrize("name,reference,shortcuts", REGRESSION)
def test_regression_from_scratch(student, name, reference, shortcuts):
    """is written from scratch, without PyTorch's version"""
    for reduction in ("mean", "sum", "none"):
        student.call(name, randn(4, 2, seed=7), randn(4, 2, seed=8), reduction=reduction,
                     forbid=shortcuts + NO_NUMPY)


@pytest.mark.parametrize("name,reference,shortcuts", REGRESSION)
def test_regression_inputs_unchanged(student, name, reference, shortcuts):
    """leaves its inputs unchanged"""
    args = [randn(4, 3, seed=9), randn(4, 3, seed=10)]
    for reduction in ("mean", "none"):
        expect_unchanged(student.call(name, *args, reduction=reduction), args, name)


# -- log_softmax -----------------------------------------------------------
LOG_SOFTMAX = ("log_softmax", "softmax") + NO_NUMPY


@graded("log_softmax")
def test_log_softmax_matches(student):
    """matches F.log_softmax on random logits"""
    logits = randn(4, 7, seed=11, scale=3)
    expect_close(student.call("log_softmax", logits).value, F.log_softmax(logits, dim=-1), rtol=1e-5, atol=1e-5,
                 what="log_softmax(logits)", mistakes={
                     "these are softmax probabilities: take their log": F.softmax(logits, -1),
                     "it looks like the log-sum-exp was not subtracted": logits,
                     "it looks like you normalised over the wrong dimension": F.log_softmax(logits, 0)})


@graded("log_softmax")
def test_log_softmax_any_dim(student):
    """works along any dim"""
    logits = randn(3, 4, 5, seed=12, scale=3)
    for dim in (0, 1, -1, -2):
        expect_close(student.call("log_softmax", logits, dim=dim).value, F.log_softmax(logits, dim=dim),
                     rtol=1e-5, atol=1e-5, what=f"log_softmax(logits, dim={dim})", mistakes={
                         "it looks like the dim argument was ignored (it normalised over the last dim)":
                             F.log_softmax(logits, -1)} if dim not in (-1, 2) else None)


@graded("log_softmax")
def test_log_softmax_stable(student):
    """stays finite and exact for logits up to +-1e4"""
    logits = randn(5, 6, seed=13).clamp(-1, 1) * 1e4
    logits[0] = torch.tensor([1e4, -1e4, 0.0, 1e4, 5e3, -5e3])
    expect_close(student.call("log_softmax", logits).value, F.log_softmax(logits.double(), -1).float(),
                 rtol=1e-5, atol=1e-3, what="log_softmax of logits up to +-1e4",
                 hint="subtract the maximum before exponentiating (the log-sum-exp trick)")


@graded("log_softmax")
def test_log_softmax_from_scratch(student):
    """is written from scratch, without torch's softmax or log_softmax"""
    student.call("log_softmax", randn(3, 4, seed=14), forbid=LOG_SOFTMAX)
    student.call("log_softmax", randn(3, 4, seed=14), dim=0, forbid=LOG_SOFTMAX)


@graded("log_softmax")
def test_log_softmax_inputs_unchanged(student):
    """leaves its input unchanged"""
    logits = randn(3, 4, seed=15, scale=5)
    expect_unchanged(student.call("log_softmax", logits), [logits], "log_softmax")


# -- cross_entropy_loss ----------------------------------------------------
CROSS_ENTROPY = ("cross_entropy", "cross_entropy_loss", "nll_loss", "nll_loss_nd", "nll_loss2d") + LOG_SOFTMAX


def cross_entropy_mistakes(logits, targets):
    picked = F.log_softmax(logits, -1)[torch.arange(len(targets)), targets]
    return {
        "it looks like you summed over the batch instead of averaging": -picked.sum(),
        "the sign is flipped: cross-entropy is minus the log-probability": picked.mean(),
        "it looks like you averaged probabilities, not log-probabilities":
            -F.softmax(logits, -1)[torch.arange(len(targets)), targets].mean(),
        "it looks like the raw logit was used instead of the log-softmax":
            -logits[torch.arange(len(targets)), targets].mean(),
    }


@graded("cross_entropy_loss")
def test_cross_entropy_matches(student):
    """matches F.cross_entropy on random logits"""
    logits, targets = randn(6, 5, seed=16, scale=2), classes(6, 5, seed=17)
    expect_close(student.call("cross_entropy_loss", logits, targets).value, F.cross_entropy(logits, targets),
                 rtol=1e-5, atol=1e-5, what="cross_entropy_loss(logits, targets)",
                 hint="the loss is the mean over the batch, a 0-dim tensor",
                 mistakes=cross_entropy_mistakes(logits, targets))


@graded("cross_entropy_loss")
def test_cross_entropy_shapes(student):
    """handles a batch of one and many classes"""
    for n, c in ((1, 3), (3, 1000)):
        logits, targets = randn(n, c, seed=18 + c, scale=2), classes(n, c, seed=19)
        expect_close(student.call("cross_entropy_loss", logits, targets).value, F.cross_entropy(logits, targets),
                     rtol=1e-5, atol=1e-5, what=f"cross_entropy_loss on {n} sample(s) of {c} classes",
                     hint="the loss is the mean over the batch, a 0-dim tensor")


@graded("cross_entropy_loss")
def test_cross_entropy_stable(student):
    """stays finite and exact for logits up to +-1e4"""
    logits, targets = randn(6, 4, seed=20).clamp(-1, 1) * 1e4, classes(6, 4, seed=21)
    expect_close(student.call("cross_entropy_loss", logits, targets).value,
                 F.cross_entropy(logits.double(), targets).float(), rtol=1e-5, atol=1e-3,
                 what="cross_entropy_loss for logits up to +-1e4",
                 hint="compute log-probabilities with the log-sum-exp trick, never log(softmax)")


@graded("cross_entropy_loss")
def test_cross_entropy_gradient(student):
    """is differentiable, with the right gradient"""
    logits, targets = randn(5, 4, seed=22, scale=2), classes(5, 4, seed=23)
    call = student.call("cross_entropy_loss", logits, targets, grad=(0,))
    if isinstance(call.grads, str):
        fail(f"cross_entropy_loss is not differentiable in logits: {call.grads}")
    leaf = logits.clone().requires_grad_(True)
    F.cross_entropy(leaf, targets).backward()
    expect_close(call.grads[0], leaf.grad, rtol=1e-4, atol=1e-6, what="the gradient of cross_entropy_loss")


@graded("cross_entropy_loss")
def test_cross_entropy_from_scratch(student):
    """is written from scratch, without torch's cross_entropy, nll_loss or softmax"""
    student.call("cross_entropy_loss", randn(4, 3, seed=24), classes(4, 3, seed=25), forbid=CROSS_ENTROPY)


@graded("cross_entropy_loss")
def test_cross_entropy_inputs_unchanged(student):
    """leaves its inputs unchanged"""
    args = [randn(4, 3, seed=26, scale=4), classes(4, 3, seed=27)]
    expect_unchanged(student.call("cross_entropy_loss", *args), args, "cross_entropy_loss")


# -- binary_cross_entropy --------------------------------------------------
BCE = ("binary_cross_entropy", "binary_cross_entropy_with_logits") + NO_NUMPY


def probabilities(*shape: int, seed: int) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) * 0.9 + 0.05


def bce_mistakes(p, y):
    pos, neg = y * p.log(), (1 - y) * (1 - p).log()
    return {
        "it looks like you summed instead of averaging": -(pos + neg).sum(),
        "the (1 - target) * log(1 - prob) term is missing": -pos.mean(),
        "the sign is flipped: the loss is minus the log-likelihood": (pos + neg).mean(),
        "targets and probabilities look swapped": F.binary_cross_entropy(y.clamp(1e-6, 1 - 1e-6), p),
    }


@graded("binary_cross_entropy")
def test_bce_matches(student):
    """matches F.binary_cross_entropy"""
    p, y = probabilities(4, 3, seed=28), torch.randint(0, 2, (4, 3), generator=torch.Generator().manual_seed(29)).float()
    expect_close(student.call("binary_cross_entropy", p, y).value, F.binary_cross_entropy(p, y), rtol=1e-5,
                 atol=1e-6, what="binary_cross_entropy(probs, targets)",
                 hint="the loss is the mean over every element, a 0-dim tensor", mistakes=bce_mistakes(p, y))


@graded("binary_cross_entropy")
def test_bce_extremes(student):
    """is exact for probabilities as close as 1e-6 to 0 and 1"""
    p = torch.tensor([1e-6, 1 - 1e-6, 1e-6, 1 - 1e-6, 1e-4, 0.5])
    y = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    expect_close(student.call("binary_cross_entropy", p, y).value, F.binary_cross_entropy(p, y), rtol=1e-4,
                 atol=1e-5, what="binary_cross_entropy for probabilities near 0 and 1",
                 hint="the loss is the mean over every element, a 0-dim tensor", mistakes={
                     "it looks like probabilities are clamped too far from 0 and 1 (use at most 1e-7)":
                         F.binary_cross_entropy(p.clamp(1e-5, 1 - 1e-5), y)})


def soft_targets(*shape: int, seed: int) -> torch.Tensor:
    """Targets anywhere in [0, 1], as label smoothing or averaged labels give: 0, 1 and 0.5 included."""
    t = torch.rand(*shape, generator=torch.Generator().manual_seed(seed))
    t.view(-1)[:5] = torch.tensor([0.0, 1.0, 0.5, 0.1, 0.9])
    return t


@graded("binary_cross_entropy")
def test_bce_soft_targets(student):
    """matches F.binary_cross_entropy for targets anywhere in [0, 1], not only 0 and 1"""
    p, y = probabilities(5, 4, seed=32), soft_targets(5, 4, seed=33)
    p[0, :2] = torch.tensor([1e-6, 1 - 1e-6])  # the extremes the contract admits, with soft targets
    y[0, :2] = torch.tensor([0.3, 0.7])
    expect_close(student.call("binary_cross_entropy", p, y).value, F.binary_cross_entropy(p, y), rtol=1e-4,
                 atol=1e-5, what="binary_cross_entropy(probs, targets) for targets between 0 and 1 (as in label "
                 "smoothing)", hint="the loss is the mean over every element, a 0-dim tensor", mistakes={
                     f"it looks like each target was treated as {how}: use the targets as they are, in "
                     "-(t * log(p) + (1 - t) * log(1 - p))": F.binary_cross_entropy(p, hard)
                     for how, hard in (("1 where it equals 1 and 0 elsewhere", (y == 1).float()),
                                       ("1 wherever it is not 0", (y != 0).float()),
                                       ("0 or 1, rounded", y.round()))})


@graded("binary_cross_entropy")
def test_bce_from_scratch(student):
    """is written from scratch, without torch's binary_cross_entropy"""
    student.call("binary_cross_entropy", probabilities(5, seed=30), torch.tensor([0.0, 1, 1, 0, 1]), forbid=BCE)


@graded("binary_cross_entropy")
def test_bce_inputs_unchanged(student):
    """leaves its inputs unchanged"""
    args = [probabilities(6, seed=31), torch.tensor([0.0, 1, 1, 0, 1, 0])]
    expect_unchanged(student.call("binary_cross_entropy", *args), args, "binary_cross_entropy")
