"""Hidden checks for 02_autograd."""
from typing import Callable

import torch
import torch.nn.functional as F

from autograder.check import StudentRaised, classes, expect_relative, expect_unchanged, fail, graded, randn
from autograder.harness.functions import FUNCTIONS, function

WARM_UP = ()  # slow imports the grader and sandbox make before forking (assignment.py): none here

# Tolerances on the relative error max |error| / max |expected|. Float64 central differences with
# eps = 1e-6 reach about 1e-10; a forward difference is off by about 1e-7 and float32 arithmetic by 1e-2.
FLOAT32 = 1e-5
FLOAT64 = 1e-8
# op_name() of Tensor.backward and torch.autograd.backward, and of torch.autograd.grad, which
# torch.func.grad / vjp and torch.autograd.functional.jacobian / vjp call as well
AUTOGRAD = ("backward", "grad")
SHAPE_HINT = "the gradient of a tensor has that tensor's shape"
NO_AUTOGRAD_HINT = ("compute it by hand with tensor arithmetic (no .backward(), torch.autograd or torch.func): "
                    "this exercise is about writing the chain rule yourself")


def autograd_reference(loss: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The gradient of the scalar ``loss`` at ``x`` by the grader's own autograd, in ``x``'s dtype."""
    leaf = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(leaf), leaf)
    return grad


def finite_difference(loss: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, eps: float = 1e-6,
                      dtype: torch.dtype = torch.float64, central: bool = True) -> torch.Tensor:
    """Central (or forward) differences of the scalar ``loss`` at ``x``, evaluated in ``dtype``; float64."""
    flat = x.detach().to(dtype).reshape(-1)
    grad = torch.empty(flat.numel(), dtype=torch.float64)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = eps
        low = float(loss((flat - step).view(x.shape))) if central else float(loss(flat.view(x.shape)))
        grad[i] = (float(loss((flat + step).view(x.shape))) - low) / (2 * eps if central else eps)
    return grad.view(x.shape)


def expect_left_alone(call, originals: list, index: int, name: str, arg: str) -> None:
    """The inputs kept their values and requires_grad, and argument ``index`` has no ``.grad``."""
    expect_unchanged(call, originals, name)
    if call.grads_after[index] is not None:
        fail(f"{name} left a gradient in {arg}.grad: differentiate a detached copy of {arg} "
             f"({arg}.detach().clone().requires_grad_()), or use torch.autograd.grad, which does not write .grad")


def expect_no_autograd(student, name: str, *args) -> None:
    """Calling ``name`` with autograd made unavailable works and uses none of it."""
    try:
        call = student.call(name, *args, forbid=AUTOGRAD)
    except StudentRaised as exc:
        if exc.exc_type != "ForbiddenCall":
            raise
        call = None
    if call is None or call.forbidden:
        fail(f"{name} uses autograd: {NO_AUTOGRAD_HINT}")


# -- autograd_gradient -----------------------------------------------------
def autograd_gradient_mistakes(key: str, x: torch.Tensor) -> dict[str, torch.Tensor]:
    grad = autograd_reference(FUNCTIONS[key], x)
    return {"it looks like two backward passes were accumulated: read the gradient of one": 2 * grad,
            "the sign is flipped": -grad}


@graded("autograd_gradient")
def test_autograd_gradient_matches(student):
    """matches autograd for several functions"""
    x = randn(5, 3, seed=1)
    for key in ("sum_of_squares", "quartic", "softplus_mix", "sin_product", "rosenbrock"):
        expect_relative(student.call("autograd_gradient", function(key), x).value,
                        autograd_reference(FUNCTIONS[key], x), FLOAT32,
                        what=f"autograd_gradient(f, x) for the test function '{key}'", hint=SHAPE_HINT,
                        mistakes=autograd_gradient_mistakes(key, x))


@graded("autograd_gradient")
def test_autograd_gradient_float64(student):
    """keeps float64, matching float64 central differences"""
    x = randn(4, 2, seed=2, dtype=torch.float64)
    for key in ("quartic", "sin_product"):
        expect_relative(student.call("autograd_gradient", function(key), x).value,
                        finite_difference(FUNCTIONS[key], x), FLOAT64,
                        what=f"autograd_gradient(f, x) for a float64 x and the test function '{key}'",
                        hint=SHAPE_HINT, mistakes=autograd_gradient_mistakes(key, x))


@graded("autograd_gradient")
def test_autograd_gradient_leaves_x_alone(student):
    """leaves x unchanged, with no x.grad"""
    args = [function("quartic"), randn(3, 4, seed=3)]
    expect_left_alone(student.call("autograd_gradient", *args), args, 1, "autograd_gradient", "x")


@graded("autograd_gradient")
def test_autograd_gradient_x_requires_grad(student):
    """works when x already requires grad, leaving x as it was"""
    x = randn(6, seed=4)
    call = student.call("autograd_gradient", function("sin_product"), x, grad=(1,))  # x arrives requiring grad
    expect_relative(call.value, autograd_reference(FUNCTIONS["sin_product"], x), FLOAT32,
                    what="autograd_gradient(f, x) for an x that requires grad", hint=SHAPE_HINT,
                    mistakes=autograd_gradient_mistakes("sin_product", x))
    expect_left_alone(call, [None, x.requires_grad_(True)], 1, "autograd_gradient", "x")


# -- numerical_gradient ----------------------------------------------------
NUMERICAL_HINT = "return a float64 tensor of x's shape"


def numerical_mistakes(f: Callable, x: torch.Tensor, eps: float = 1e-6) -> dict[str, torch.Tensor]:
    central = finite_difference(f, x, eps)
    return {
        "it looks like a forward difference (f(x + eps e_i) - f(x)) / eps: use the central difference":
            finite_difference(f, x, eps, central=False),
        "it looks like f was evaluated in float32: make a float64 copy of x before perturbing it":
            finite_difference(f, x, eps, dtype=torch.float32),
        "it looks like the difference was divided by eps instead of 2 eps": 2 * central,
    }


@graded("numerical_gradient")
def test_numerical_gradient_matches(student):
    """matches the exact gradient to float64 accuracy (relative error below 1e-8)"""
    x = randn(2, 3, seed=5)
    for key in ("quartic", "softplus_mix", "sin_product"):
        f = FUNCTIONS[key]
        expect_relative(student.call("numerical_gradient", function(key), x).value,
                        autograd_reference(f, x.double()), FLOAT64,
                        what=f"numerical_gradient(f, x) for the test function '{key}'", hint=NUMERICAL_HINT,
                        mistakes=numerical_mistakes(f, x))


@graded("numerical_gradient")
def test_numerical_gradient_eps(student):
    """uses the eps it is given"""
    x = randn(5, seed=6)
    for key in ("quartic", "rosenbrock"):
        f = FUNCTIONS[key]
        expect_relative(student.call("numerical_gradient", function(key), x, eps=1e-2).value,
                        finite_difference(f, x, 1e-2), FLOAT64,
                        what=f"numerical_gradient(f, x, eps=1e-2) for the test function '{key}'",
                        hint=NUMERICAL_HINT, mistakes={
                            "it looks like eps was ignored (the result is that of a much smaller step)":
                                autograd_reference(f, x.double()),
                            **numerical_mistakes(f, x, 1e-2)})


@graded("numerical_gradient")
def test_numerical_gradient_any_shape(student):
    """works for x of any shape"""
    for shape in ((7,), (2, 1, 3), (3, 2, 2)):
        x = randn(*shape, seed=7)
        expect_relative(student.call("numerical_gradient", function("sin_product"), x).value,
                        autograd_reference(FUNCTIONS["sin_product"], x.double()), FLOAT64,
                        what=f"numerical_gradient(f, x) for x of shape {shape}", hint=NUMERICAL_HINT,
                        mistakes=numerical_mistakes(FUNCTIONS["sin_product"], x))


@graded("numerical_gradient")
def test_numerical_gradient_inputs_unchanged(student):
    """leaves x unchanged, in float32 and in float64"""
    for dtype in (torch.float32, torch.float64):
        args = [function("quartic"), randn(3, 4, seed=8, dtype=dtype)]
        expect_unchanged(student.call("numerical_gradient", *args), args, "numerical_gradient")


# -- linear_backward -------------------------------------------------------
GRAD_NAMES = ("grad_x", "grad_W", "grad_b")


def linear_inputs(n: int, din: int, dout: int, seed: int, dtype: torch.dtype = torch.float32) -> list:
    return [randn(n, din, seed=seed, dtype=dtype), randn(dout, din, seed=seed + 1, dtype=dtype),
            randn(dout, seed=seed + 2, dtype=dtype), randn(n, dout, seed=seed + 3, dtype=dtype)]


def linear_losses(x, W, b, grad_out) -> list[Callable]:
    """L = sum(y * grad_out) as a function of x, of W and of b: its gradients are linear_backward's."""
    return [lambda t: ((t @ W.T + b) * grad_out).sum(), lambda t: ((x @ t.T + b) * grad_out).sum(),
            lambda t: ((x @ W.T + t) * grad_out).sum()]


def expect_linear_grads(value, references: list[torch.Tensor], tol: float, what: str,
                        mistakes: tuple[dict, dict, dict] = (None, None, None)) -> None:
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        fail(f"{what} should return a tuple (grad_x, grad_W, grad_b); it returned {type(value).__name__}"
             + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    for got, want, grad_name, wrong in zip(value, references, GRAD_NAMES, mistakes):
        expect_relative(got, want, tol, what=f"{grad_name} from {what}", hint=SHAPE_HINT, mistakes=wrong)


@graded("linear_backward")
def test_linear_backward_matches(student):
    """matches autograd on non-square shapes"""
    x, W, b, grad_out = args = linear_inputs(5, 3, 4, seed=10)
    references = [autograd_reference(loss, t) for loss, t in zip(linear_losses(*args), (x, W, b))]
    expect_linear_grads(student.call("linear_backward", *args).value, references, FLOAT32,
                        "linear_backward(x, W, b, grad_out)", mistakes=[{}, {
                            "it looks like it was divided by the batch size: the gradient sums over samples":
                                references[1] / len(x)}, {
                            "it looks like grad_out was averaged over the batch instead of summed":
                                grad_out.mean(0)}])


@graded("linear_backward")
def test_linear_backward_float64(student):
    """keeps float64, matching float64 central differences"""
    x, W, b, grad_out = args = linear_inputs(3, 2, 4, seed=11, dtype=torch.float64)
    references = [finite_difference(loss, t) for loss, t in zip(linear_losses(*args), (x, W, b))]
    expect_linear_grads(student.call("linear_backward", *args).value, references, FLOAT64,
                        "linear_backward on float64 inputs")


@graded("linear_backward")
def test_linear_backward_no_autograd(student):
    """does not use autograd"""
    expect_no_autograd(student, "linear_backward", *linear_inputs(4, 3, 2, seed=12))


@graded("linear_backward")
def test_linear_backward_inputs_unchanged(student):
    """leaves its inputs unchanged"""
    args = linear_inputs(5, 3, 4, seed=13)
    expect_unchanged(student.call("linear_backward", *args), args, "linear_backward")


# -- relu_backward ---------------------------------------------------------
def relu_reference(x: torch.Tensor, grad_out: torch.Tensor) -> torch.Tensor:
    return autograd_reference(lambda t: (torch.relu(t) * grad_out).sum(), x).to(grad_out.dtype)


def relu_mistakes(x: torch.Tensor, grad_out: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "it looks like the gradient passes where x == 0 too: block it wherever x <= 0":
            torch.where(x >= 0, grad_out, torch.zeros_like(grad_out)),
        "it looks like only the mask was returned: multiply it by grad_out": (x > 0).to(grad_out.dtype),
        "it looks like the ReLU was applied to grad_out: the mask depends on x":
            grad_out.clamp(min=0),
    }


def relu_inputs(*shape: int, seed: int, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    x = randn(*shape, seed=seed, dtype=dtype)
    x.view(-1)[::3] = 0.0  # ReLU's kink: the gradient there must be 0
    return [x, randn(*shape, seed=seed + 1, dtype=dtype)]


@graded("relu_backward")
def test_relu_backward_matches(student):
    """passes grad_out where x > 0 and blocks it where x < 0"""
    x, grad_out = args = [randn(5, 3, seed=20), randn(5, 3, seed=21)]
    expect_relative(student.call("relu_backward", *args).value, relu_reference(x, grad_out), FLOAT32,
                    what="relu_backward(x, grad_out)", hint="return a tensor of grad_out's shape",
                    mistakes=relu_mistakes(x, grad_out))


@graded("relu_backward")
def test_relu_backward_zero_at_kink(student):
    """gives 0 where x == 0"""
    x, grad_out = args = relu_inputs(4, 6, seed=22)
    expect_relative(student.call("relu_backward", *args).value, relu_reference(x, grad_out), FLOAT32,
                    what="relu_backward(x, grad_out) where some x are exactly 0",
                    hint="return a tensor of grad_out's shape", mistakes=relu_mistakes(x, grad_out))


@graded("relu_backward")
def test_relu_backward_shape_dtype(student):
    """keeps grad_out's shape and dtype (float64, 3-D)"""
    x, grad_out = args = relu_inputs(2, 3, 4, seed=23, dtype=torch.float64)
    expect_relative(student.call("relu_backward", *args).value, relu_reference(x, grad_out), FLOAT64,
                    what="relu_backward on float64 inputs of shape (2, 3, 4)",
                    hint="return a tensor of grad_out's shape", mistakes=relu_mistakes(x, grad_out))


@graded("relu_backward")
def test_relu_backward_no_autograd(student):
    """does not use autograd"""
    expect_no_autograd(student, "relu_backward", *relu_inputs(3, 4, seed=24))


@graded("relu_backward")
def test_relu_backward_inputs_unchanged(student):
    """leaves its inputs unchanged"""
    args = relu_inputs(5, 3, seed=25)
    expect_unchanged(student.call("relu_backward", *args), args, "relu_backward")


# -- cross_entropy_backward ------------------------------------------------
def cross_entropy_backward_mistakes(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
    n, c = logits.shape
    probs, onehot = torch.softmax(logits, 1), F.one_hot(targets, c).to(logits.dtype)
    return {
        "it looks like it was not divided by N: the loss is the mean over the batch": probs - onehot,
        "the sign is flipped: the gradient is softmax minus one-hot": (onehot - probs) / n,
        "it looks like the one-hot of the targets was not subtracted": probs / n,
        "it looks like the softmax was taken over the batch (dim 0) instead of over the classes":
            (torch.softmax(logits, 0) - onehot) / n,
        "it looks like it was divided by the number of classes instead of by N": (probs - onehot) / c,
    }


@graded("cross_entropy_backward")
def test_cross_entropy_backward_matches(student):
    """matches autograd through F.cross_entropy"""
    logits, targets = randn(5, 4, seed=30, scale=2), classes(5, 4, seed=31)
    expect_relative(student.call("cross_entropy_backward", logits, targets).value,
                    autograd_reference(lambda z: F.cross_entropy(z, targets), logits), FLOAT32,
                    what="cross_entropy_backward(logits, targets)", hint="return a tensor of the logits' shape",
                    mistakes=cross_entropy_backward_mistakes(logits, targets))


@graded("cross_entropy_backward")
def test_cross_entropy_backward_float64(student):
    """keeps float64, matching float64 central differences"""
    logits, targets = randn(3, 5, seed=32, dtype=torch.float64, scale=2), classes(3, 5, seed=33)
    expect_relative(student.call("cross_entropy_backward", logits, targets).value,
                    finite_difference(lambda z: F.cross_entropy(z, targets), logits), FLOAT64,
                    what="cross_entropy_backward on float64 logits", hint="return a tensor of the logits' shape",
                    mistakes=cross_entropy_backward_mistakes(logits, targets))


@graded("cross_entropy_backward")
def test_cross_entropy_backward_no_autograd(student):
    """does not use autograd (torch.softmax is allowed)"""
    expect_no_autograd(student, "cross_entropy_backward", randn(4, 3, seed=34), classes(4, 3, seed=35))


@graded("cross_entropy_backward")
def test_cross_entropy_backward_inputs_unchanged(student):
    """leaves its inputs unchanged"""
    args = [randn(4, 3, seed=36, scale=3), classes(4, 3, seed=37)]
    expect_unchanged(student.call("cross_entropy_backward", *args), args, "cross_entropy_backward")


# -- gradient_descent ------------------------------------------------------
def descend(key: str, x0: torch.Tensor, lr: float, steps: int, accumulate: bool = False) -> torch.Tensor:
    """The grader's own gradient descent (``accumulate``: a mistake, gradients never zeroed)."""
    x, total = x0.clone(), torch.zeros_like(x0)
    for _ in range(steps):
        grad = autograd_reference(FUNCTIONS[key], x)
        total = total + grad if accumulate else grad
        x = x - lr * total
    return x


def descent_mistakes(key: str, x0: torch.Tensor, lr: float, steps: int) -> dict[str, torch.Tensor]:
    return {
        "it looks like one step too many was taken": descend(key, x0, lr, steps + 1),
        "it looks like one step too few was taken": descend(key, x0, lr, steps - 1),
        "it looks like it stepped uphill: subtract lr * gradient": descend(key, x0, -lr, steps),
        "it looks like gradients accumulated over the steps: zero x.grad after each step":
            descend(key, x0, lr, steps, accumulate=True),
    }


RUNS = [  # (function, lr, steps, x0): not yet converged, so each step counts
    ("shifted_bowl", 0.1, 10, randn(2, 3, seed=40)),
    ("quartic", 0.01, 20, randn(2, 3, seed=41)),
    ("rosenbrock", 5e-4, 30, randn(4, seed=42, scale=0.5)),
]


@graded("gradient_descent")
def test_gradient_descent_matches(student):
    """matches a reference run of gradient descent on several functions"""
    for key, lr, steps, x0 in RUNS:
        expect_relative(student.call("gradient_descent", function(key), x0, lr, steps).value,
                        descend(key, x0, lr, steps), FLOAT32,
                        what=f"gradient_descent(f, x0, lr={lr}, steps={steps}) for the test function '{key}'",
                        hint="return the final x, shaped like x0", mistakes=descent_mistakes(key, x0, lr, steps))


@graded("gradient_descent")
def test_gradient_descent_leaves_x0_alone(student):
    """leaves x0 unchanged, with no x0.grad"""
    args = [function("quartic"), randn(2, 3, seed=43), 0.01, 5]
    expect_left_alone(student.call("gradient_descent", *args), args, 1, "gradient_descent", "x0")


@graded("gradient_descent")
def test_gradient_descent_x0_requires_grad(student):
    """works when x0 requires grad, leaving x0 as it was"""
    x0 = randn(5, seed=44)
    call = student.call("gradient_descent", function("shifted_bowl"), x0, 0.1, 5, grad=(1,))  # x0 requires grad
    expect_relative(call.value, descend("shifted_bowl", x0, 0.1, 5), FLOAT32,
                    what="gradient_descent(f, x0, lr, steps) for an x0 that requires grad",
                    hint="return the final x, shaped like x0", mistakes=descent_mistakes("shifted_bowl", x0, 0.1, 5))
    expect_left_alone(call, [None, x0.requires_grad_(True)], 1, "gradient_descent", "x0")


@graded("gradient_descent")
def test_gradient_descent_detached(student):
    """returns x detached from autograd"""
    call = student.call("gradient_descent", function("quartic"), randn(2, 3, seed=45), 0.01, 5)
    if call.value_requires_grad:
        fail("gradient_descent returned a tensor that still requires grad: return x.detach()")


@graded("gradient_descent")
def test_gradient_descent_zero_steps(student):
    """returns x0's values for steps=0"""
    x0 = randn(2, 3, seed=46)
    call = student.call("gradient_descent", function("quartic"), x0, 0.01, 0)
    one_step = descend("quartic", x0, 0.01, 1)
    expect_relative(call.value, x0, FLOAT32, what="gradient_descent(f, x0, lr, steps=0)",
                    hint="return the final x, shaped like x0",
                    mistakes={"it looks like one step was taken: steps=0 means no update": one_step})
