"""What hidden checks are written with: the ``graded`` marker, failures, and expectations.

A check is a pytest test taking the ``student`` fixture. It fails by raising
``CheckFailed`` with a message a student can act on; messages describe what is
wrong, never the expected values or the check's code.
"""
from __future__ import annotations

from typing import Any

import pytest
import torch

from .harness.values import Opaque


class CheckFailed(Exception):
    """A check's verdict; the message is shown to the student."""


class StudentRaised(CheckFailed):
    """The student's code raised; ``exc_type`` names the exception."""

    def __init__(self, message: str, exc_type: str):
        super().__init__(message)
        self.exc_type = exc_type


class TimedOut(CheckFailed):
    """The student's code did not return within its time limit."""


def graded(name: str, points: float = 1.0) -> pytest.MarkDecorator:
    """Attribute a check to one graded name, worth ``points``."""
    return pytest.mark.graded(name=name, points=points)


def fail(message: str) -> None:
    raise CheckFailed(message)


def shape_text(shape: tuple) -> str:
    return "a scalar (shape ())" if tuple(shape) == () else f"shape {tuple(shape)}"


def kind_of(value: Any) -> str:
    """The type of a value that crossed from the sandbox, for a message: "Tensor", "numpy.float64"."""
    return value.type if isinstance(value, Opaque) else type(value).__name__


def expect_tensor(value: Any, shape: tuple, dtype: torch.dtype = torch.float32, what: str = "the result",
                  hint: str = "") -> torch.Tensor:
    """``value`` is a tensor of exactly ``shape`` and ``dtype``; ``hint`` follows a shape mismatch."""
    if not isinstance(value, torch.Tensor):
        fail(f"{what} is a {kind_of(value)}, expected a torch.Tensor")
    if tuple(value.shape) != tuple(shape):
        fail(f"{what} has {shape_text(value.shape)}, expected {shape_text(shape)}" + (f": {hint}" if hint else ""))
    if value.dtype != dtype:
        fail(f"{what} has dtype {value.dtype}, expected {dtype}")
    return value


def expect_float(value: Any, what: str = "the result", hint: str = "") -> float:
    """``value`` is a Python float (not a tensor, a numpy number or an int); ``hint`` follows a mismatch."""
    if type(value) is not float:
        fail(f"{what} is a {kind_of(value)}, expected a Python float" + (f": {hint}" if hint else ""))
    return value


def expect_number(value: Any, expected: float, rtol: float, atol: float, what: str = "the result", hint: str = "",
                  mistakes: dict[str, float] | None = None) -> float:
    """A number (or one-element tensor) within ``atol + rtol * |expected|``; ``mistakes`` as in ``expect_close``."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if type(value) not in (int, float):
        fail(f"{what} is a {kind_of(value)}, expected a number")

    def near(target: float) -> bool:
        return abs(value - target) <= atol + rtol * abs(target)

    if near(expected):
        return float(value)
    for diagnosis, wrong in (mistakes or {}).items():
        if near(wrong):
            fail(f"{what} is wrong: {diagnosis}")
    fail(f"{what} is wrong: off by {abs(value - expected):.1e}" + (f"; {hint}" if hint else ""))
    return float(value)


def expect_close(value: Any, expected: torch.Tensor, rtol: float, atol: float, what: str = "the result",
                 hint: str = "", mistakes: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """Shape, dtype, finiteness, then values within ``atol + rtol * |expected|``.

    ``mistakes`` maps a diagnosis ("you summed instead of averaging") to what
    that mistake would return; a match is named in the failure message.
    """
    value = expect_tensor(value, tuple(expected.shape), expected.dtype, what, hint)
    if not torch.isfinite(value).all() and torch.isfinite(expected).all():
        bad = (~torch.isfinite(value)).sum().item()
        fail(f"{what} contains {bad} NaN or infinite value(s): look for overflow in exp or a log of 0")
    if torch.allclose(value, expected, rtol=rtol, atol=atol, equal_nan=True):
        return value
    for diagnosis, wrong in (mistakes or {}).items():
        if wrong.shape == value.shape and torch.allclose(value, wrong, rtol=rtol, atol=atol):
            fail(f"{what} has the wrong values: {diagnosis}")
    err = (value.double() - expected.double()).abs()
    fail(f"{what} has the wrong values: largest error {err.max().item():.2e} "
         f"(allowed {atol:.0e} + {rtol:.0e} x |expected|)")
    return value


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal values, a NaN where there was one counting as unchanged."""
    return torch.equal(a, b) or (a.dtype == b.dtype and a.is_floating_point()
                                 and torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num()))


def expect_unchanged(call: Any, originals: list[Any], name: str) -> None:
    """The call left its tensor arguments' values and ``requires_grad`` as they were."""
    for i, (before, after) in enumerate(zip(originals, call.args_after)):
        if isinstance(before, torch.Tensor) and not (
                isinstance(after, torch.Tensor) and after.shape == before.shape and _same(after, before)):
            fail(f"{name} modified its argument {i + 1} in place: work on new tensors "
                 "(avoid +=, [...] = and methods ending in _ on the inputs)")
    for i, (before, flag) in enumerate(zip(originals, call.requires_grad_after)):
        if isinstance(before, torch.Tensor) and flag != before.requires_grad:
            fail(f"{name} changed requires_grad of its argument {i + 1}: leave the inputs as they were")


def relative_error(value: torch.Tensor, expected: torch.Tensor) -> float:
    """``max |value - expected| / max |expected|``: one number, whatever the scale of the entries."""
    scale = expected.double().abs().max().clamp_min(1e-30)
    return ((value.double() - expected.double()).abs().max() / scale).item()


def expect_relative(value: Any, expected: torch.Tensor, tol: float, what: str = "the result", hint: str = "",
                    mistakes: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """Like ``expect_close``, with one tolerance relative to the largest entry: ``relative_error <= tol``.

    Suits gradients, whose entries range from exactly 0 to large; ``hint`` follows a shape mismatch and
    ``mistakes`` names a matching mistake, as in ``expect_close``.
    """
    value = expect_tensor(value, tuple(expected.shape), expected.dtype, what, hint)
    if not torch.isfinite(value).all():
        fail(f"{what} contains NaN or infinite values")
    err = relative_error(value, expected)
    if err <= tol:
        return value
    for diagnosis, wrong in (mistakes or {}).items():
        if wrong.shape == value.shape and relative_error(value, wrong) <= tol:
            fail(f"{what} has the wrong values: {diagnosis}")
    fail(f"{what} has the wrong values: relative error {err:.1e} (allowed {tol:.0e})")
    return value
