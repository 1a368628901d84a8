"""Code that the hidden checks of 04_activations share: the activations, their references, and how a
student's own activation is compared."""
from typing import Any, Callable

import torch

from autograder.check import CheckFailed, close, randn

Fn = Callable[[torch.Tensor], torch.Tensor]


def derivative(f: Fn) -> Fn:
    """Autograd's elementwise derivative of ``f`` (0 at the kink of relu, as PyTorch defines it)."""
    def grad(x: torch.Tensor) -> torch.Tensor:
        leaf = x.clone().requires_grad_(True)
        f(leaf).sum().backward()
        return leaf.grad
    return grad


ACTIVATIONS = ("relu", "sigmoid", "tanh")
REFERENCE: dict[str, Fn] = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
                            "relu_grad": derivative(torch.relu), "sigmoid_grad": derivative(torch.sigmoid),
                            "tanh_grad": derivative(torch.tanh)}
ATOL = 1e-6  # relu and relu_grad are exact anyway
LABELS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}  # in plots, in messages


def random_x(*shape: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Entries of standard deviation 3, drawn in float64 and then cast, so that a seed gives float32 and float64
    inputs of the same values."""
    return randn(*shape, seed=seed, dtype=torch.float64, scale=3.0).to(dtype)


def agrees(value: Any, expected: torch.Tensor) -> bool:
    """``value`` is a tensor of ``expected``'s shape and dtype, within ``ATOL`` of it (NaN where it is NaN)."""
    return close(value, expected, rtol=0, atol=ATOL, equal_nan=True)


def modifies(student, name: str, x: torch.Tensor) -> bool:
    """The student's ``name`` changes its input in place."""
    try:
        after = student.call(name, x).args_after[0]
    except CheckFailed:
        return False
    return not (isinstance(after, torch.Tensor) and after.shape == x.shape and torch.equal(after, x))
