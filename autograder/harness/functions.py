"""Scalar test functions a check can pass to a student's function (``f`` in ``autograd_gradient(f, x)``).

A check sends ``function("quartic")``; the worker substitutes the callable.
The grader imports the same table to compute its reference.
"""
from __future__ import annotations

from typing import Callable

import torch

_KEY = "__function__"

FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sum_of_squares": lambda x: (x * x).sum(),
    "quartic": lambda x: (x ** 4 - 3 * x ** 2 + x).sum(),
    "softplus_mix": lambda x: torch.log1p(torch.exp(x)).sum() + (x.sum() ** 2) / 10,
    "sin_product": lambda x: torch.sin(x).prod() + (x * x).sum(),
    "shifted_bowl": lambda x: ((x - 1.5) ** 2).sum(),
    "rosenbrock": lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(),
}


def function(key: str) -> dict:
    """A placeholder for ``FUNCTIONS[key]`` that crosses the wire as data."""
    if key not in FUNCTIONS:
        raise KeyError(key)
    return {_KEY: key}


def resolve(value: object) -> object:
    """The callable for a placeholder; anything else unchanged."""
    if isinstance(value, dict) and set(value) == {_KEY}:
        return FUNCTIONS[value[_KEY]]
    return value
