"""What hidden checks are written with: the ``graded`` marker, failures, expectations, and the helpers that more
than one assignment's checks use (random inputs, verdicts, words for messages), each name with one meaning.

A check is a pytest test taking the ``student`` fixture. It fails by raising
``CheckFailed`` with a message a student can act on; messages describe what is
wrong, never the expected values or the check's code.
"""
from __future__ import annotations

from typing import Any, NoReturn

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


def reraise_with_hint(exc: StudentRaised, hint: str) -> NoReturn:
    """Fail with what the student's code raised, then ``hint``; re-raise it as it is where there is no hint or it
    is still NotImplementedError (which says "not implemented yet")."""
    if exc.exc_type == "NotImplementedError" or not hint:
        raise exc
    fail(f"{exc}: {hint}")


# -- inputs ---------------------------------------------------------------------------------------------------
# Each draws from a generator of its own, seeded by the caller, never from torch's global one: a check's inputs are
# the same on every run, whichever checks ran before it.
def randn(*shape: int, seed: int, dtype: torch.dtype = torch.float32, scale: float = 1.0) -> torch.Tensor:
    """Standard normal entries of ``shape`` (none: a 0-dim tensor), drawn in ``dtype``, times ``scale``."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) * scale


def classes(n: int, c: int, seed: int) -> torch.Tensor:
    """``n`` int64 class labels drawn uniformly from ``0 .. c - 1``."""
    return torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(seed))


# -- verdicts: whether, not why (the expect_* functions fail with a message instead) --------------------------
def close(value: Any, expected: torch.Tensor, rtol: float, atol: float, equal_nan: bool = False) -> bool:
    """``value`` is a tensor of ``expected``'s shape and dtype whose values lie within ``atol + rtol * |expected|``
    (a float64 answer to a float32 question is not close: torch.allclose would raise on it)."""
    return (isinstance(value, torch.Tensor) and value.shape == expected.shape and value.dtype == expected.dtype
            and torch.allclose(value, expected, rtol=rtol, atol=atol, equal_nan=equal_nan))


def flat(state: dict[str, torch.Tensor], dtype: torch.dtype | None = None) -> torch.Tensor:
    """Every entry of a state dict, in order, as one vector; each entry cast to ``dtype`` first, if given."""
    return torch.cat([v.flatten() if dtype is None else v.flatten().to(dtype) for v in state.values()])


# -- words for messages -----------------------------------------------------------------------------------------
def shape_text(shape: tuple) -> str:
    return "a scalar (shape ())" if tuple(shape) == () else f"shape {tuple(shape)}"


def kind_of(value: Any) -> str:
    """The type of a value that crossed from the sandbox, for a message: "Tensor", "numpy.float64"."""
    return value.type if isinstance(value, Opaque) else type(value).__name__


def a_class(name: str) -> str:
    """"a list", "an Adam", "None": a class's name with its article, for a message. "an" goes before a capital
    vowel only ("a int"), as in the messages the checks have always given."""
    return "None" if name in ("NoneType", "None") else f"{'an' if name[0] in 'AEIOU' else 'a'} {name}"


def a_kind(value: Any) -> str:
    """``a_class`` of the type of a value that crossed from the sandbox: "a Tensor", "a numpy.float64", "None"."""
    return a_class(kind_of(value))


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
    return torch.equal(a, b) or (a.is_floating_point() and close(a, b, rtol=0, atol=0, equal_nan=True))


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


# -- how the student's function ran a model: ``forwards``, the harness's record of each forward pass -----------
def expect_model_called(forwards: list[dict], name: str, how: str) -> None:
    """``name`` ran the model at least once; else fail, saying ``how`` to."""
    if not forwards:
        fail(f"{name} never called the model: {how}")


def expect_eval_mode(forwards: list[dict], name: str, fix: str, why: str = "") -> None:
    """Every forward pass ran in eval mode; else fail with ``why`` that matters, if given, and the ``fix``."""
    if any(f["training"] for f in forwards):
        fail(f"{name} ran the model in training mode{f' ({why})' if why else ''}: {fix}")


def expect_no_grad(forwards: list[dict], name: str) -> None:
    """No forward pass tracked gradients."""
    if any(f["grad_enabled"] for f in forwards):
        fail(f"gradients were tracked during {name}: run the forward passes inside `with torch.no_grad():`")
