"""Unit tests for the helpers hidden checks are written with (autograder/check.py).

Each helper passes a right value and fails a wrong one with a message a student can act on, and no message
gives away the expected values.
"""
import math
from types import SimpleNamespace

import pytest
import torch

from autograder.check import (CheckFailed, expect_close, expect_float, expect_number, expect_relative, expect_tensor,
                              expect_unchanged, fail, graded, kind_of, relative_error, shape_text)
from autograder.harness.values import Opaque

# values a message must never show: digits that appear nowhere else in the messages
SECRET = torch.tensor([[4242.5, -3131.25], [8686.75, 5757.125]])
SECRET_TEXTS = ["4242", "3131", "8686", "5757"]


def message(call, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as info:
        call(*args, **kwargs)
    return str(info.value)


def assert_secret_kept(text: str) -> None:
    assert not any(secret in text for secret in SECRET_TEXTS), text


# -- graded, fail, shape_text, kind_of ------------------------------------------

@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # "graded" is registered by the plugin
def test_graded_is_a_mark_with_name_and_points():
    mark = graded("mse_loss", points=2.5).mark
    assert mark.name == "graded" and mark.kwargs == {"name": "mse_loss", "points": 2.5}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
def test_graded_is_worth_one_point_by_default():
    assert graded("mse_loss").mark.kwargs["points"] == 1.0


def test_fail_raises_check_failed_with_the_message():
    assert message(fail, "mse_loss returned None") == "mse_loss returned None"


@pytest.mark.parametrize("shape,text", [((), "a scalar (shape ())"), (torch.Size([]), "a scalar (shape ())"),
                                        ((3,), "shape (3,)"), (torch.Size([2, 3]), "shape (2, 3)"),
                                        ([4, 1], "shape (4, 1)")])
def test_shape_text(shape, text):
    assert shape_text(shape) == text


@pytest.mark.parametrize("value,kind", [(torch.zeros(1), "Tensor"), (1.5, "float"), (None, "NoneType"),
                                        ([1], "list"), (Opaque("numpy.float64", "np.float64(1.0)"), "numpy.float64")])
def test_kind_of(value, kind):
    assert kind_of(value) == kind


# -- expect_tensor ------------------------------------------------------------------

def test_expect_tensor_returns_a_right_tensor():
    value = torch.zeros(2, 3)
    assert expect_tensor(value, (2, 3)) is value


def test_expect_tensor_accepts_another_dtype_when_asked():
    expect_tensor(torch.zeros(2, dtype=torch.int64), (2,), torch.int64)


def test_expect_tensor_names_what_came_instead_of_a_tensor():
    text = message(expect_tensor, Opaque("numpy.ndarray", "array([1.])"), (1,), what="mse_loss(pred, target)")
    assert text == "mse_loss(pred, target) is a numpy.ndarray, expected a torch.Tensor"


def test_expect_tensor_says_both_shapes_and_the_hint():
    text = message(expect_tensor, torch.zeros(5), (), hint="did you reduce?")
    assert text == "the result has shape (5,), expected a scalar (shape ()): did you reduce?"


def test_expect_tensor_shape_message_without_a_hint_ends_at_the_shape():
    assert message(expect_tensor, torch.zeros(2, 3), (3, 2)) == "the result has shape (2, 3), expected shape (3, 2)"


def test_expect_tensor_says_both_dtypes():
    text = message(expect_tensor, torch.zeros(2, dtype=torch.float64), (2,))
    assert text == "the result has dtype torch.float64, expected torch.float32"


def test_expect_tensor_checks_shape_before_dtype():
    assert "shape" in message(expect_tensor, torch.zeros(3, dtype=torch.int64), (2,))


# -- expect_float -----------------------------------------------------------------

def test_expect_float_returns_a_python_float():
    assert expect_float(0.5) == 0.5


@pytest.mark.parametrize("value,kind", [(1, "int"), (torch.tensor(0.5), "Tensor"), (True, "bool"),
                                        (Opaque("numpy.float64", "np.float64(0.5)"), "numpy.float64")])
def test_expect_float_names_what_came_instead(value, kind):
    text = message(expect_float, value, what="accuracy(...)", hint="use .item()")
    assert text == f"accuracy(...) is a {kind}, expected a Python float: use .item()"


# -- expect_number ----------------------------------------------------------------

@pytest.mark.parametrize("value", [2.0, 2, 2.0000001, torch.tensor(2.0), torch.tensor([2.0]), torch.tensor(2)])
def test_expect_number_accepts_numbers_and_one_element_tensors(value):
    assert expect_number(value, 2.0, rtol=1e-5, atol=1e-6) == pytest.approx(2.0)


def test_expect_number_returns_a_float():
    assert type(expect_number(3, 3.0, rtol=0, atol=0)) is float


def test_expect_number_tolerance_is_atol_plus_rtol_times_expected():
    expect_number(111.15, 110.0, rtol=0.01, atol=0.1)  # allowed: 0.1 + 0.01 * 110 = 1.2
    with pytest.raises(CheckFailed):
        expect_number(111.25, 110.0, rtol=0.01, atol=0.1)


@pytest.mark.parametrize("value,kind", [("2.0", "str"), (torch.zeros(2), "Tensor"), (None, "NoneType"),
                                        (True, "bool"), (Opaque("numpy.float64", "np.float64(2.0)"), "numpy.float64")])
def test_expect_number_names_what_came_instead(value, kind):
    assert message(expect_number, value, 2.0, rtol=0, atol=0) == f"the result is a {kind}, expected a number"


def test_expect_number_off_value_says_by_how_much_and_the_hint():
    text = message(expect_number, 4240.0, 4242.5, rtol=1e-6, atol=1e-6, what="loss", hint="check the mean")
    assert text == "loss is wrong: off by 2.5e+00; check the mean"
    assert_secret_kept(text)


def test_expect_number_names_a_matching_mistake():
    text = message(expect_number, 2 * 4242.5, 4242.5, rtol=1e-6, atol=0,
                   mistakes={"you summed instead of averaging": 2 * 4242.5, "you forgot the sign": -4242.5})
    assert text == "the result is wrong: you summed instead of averaging"


def test_expect_number_unmatched_mistakes_fall_back_to_the_error():
    text = message(expect_number, 1.0, 4242.5, rtol=1e-6, atol=0, mistakes={"you forgot the sign": -4242.5})
    assert text.startswith("the result is wrong: off by")
    assert_secret_kept(text)


def test_expect_number_fails_nan():
    text = message(expect_number, math.nan, 4242.5, rtol=1e-3, atol=1e-3)
    assert text.startswith("the result is wrong")
    assert_secret_kept(text)


# -- expect_close -----------------------------------------------------------------

def test_expect_close_returns_a_close_tensor():
    value = SECRET + 1e-4
    assert expect_close(value, SECRET, rtol=1e-5, atol=1e-3) is value


def test_expect_close_accepts_nan_where_expected_has_nan():
    expected = torch.tensor([1.0, math.nan])
    expect_close(expected.clone(), expected, rtol=0, atol=0)


def test_expect_close_checks_shape_first_with_the_hint():
    text = message(expect_close, SECRET.sum(), SECRET, rtol=0, atol=0, hint="'none' keeps one loss per element")
    assert text == "the result has a scalar (shape ()), expected shape (2, 2): 'none' keeps one loss per element"


def test_expect_close_checks_dtype():
    text = message(expect_close, SECRET.double(), SECRET, rtol=0, atol=0)
    assert text == "the result has dtype torch.float64, expected torch.float32"


def test_expect_close_counts_nan_and_infinite_values():
    value = SECRET.clone()
    value[0, 0], value[1, 1] = math.nan, math.inf
    text = message(expect_close, value, SECRET, rtol=1e-5, atol=1e-6, what="log_softmax(x)")
    assert text == "log_softmax(x) contains 2 NaN or infinite value(s): look for overflow in exp or a log of 0"


def test_expect_close_off_values_give_the_largest_error_and_the_tolerance():
    value = SECRET.clone()
    value[1, 0] += 0.5
    text = message(expect_close, value, SECRET, rtol=1e-5, atol=1e-6)
    assert text == "the result has the wrong values: largest error 5.00e-01 (allowed 1e-06 + 1e-05 x |expected|)"
    assert_secret_kept(text)


def test_expect_close_names_a_matching_mistake():
    text = message(expect_close, SECRET * 2, SECRET, rtol=1e-5, atol=1e-6,
                   mistakes={"you forgot the sign": -SECRET, "you summed instead of averaging": SECRET * 2})
    assert text == "the result has the wrong values: you summed instead of averaging"


def test_expect_close_ignores_a_mistake_of_another_shape():
    text = message(expect_close, SECRET * 2, SECRET, rtol=1e-5, atol=1e-6,
                   mistakes={"you summed": (SECRET * 2).sum()})
    assert "largest error" in text


def test_expect_close_with_no_mistake_matching_gives_the_error():
    text = message(expect_close, SECRET * 3, SECRET, rtol=1e-5, atol=1e-6, mistakes={"you doubled": SECRET * 2})
    assert "largest error" in text and "doubled" not in text


# -- relative_error and expect_relative -------------------------------------------

def test_relative_error_is_the_largest_error_over_the_largest_entry():
    expected = torch.tensor([0.0, 10.0, -20.0])
    assert relative_error(torch.tensor([1.0, 10.0, -20.0]), expected) == pytest.approx(0.05)


def test_relative_error_of_zeros_against_zeros_is_zero():
    assert relative_error(torch.zeros(3), torch.zeros(3)) == 0.0


def test_relative_error_is_computed_in_double():
    expected = torch.tensor([1e30, 1.0])
    assert relative_error(expected.clone(), expected) == 0.0


def test_expect_relative_accepts_within_tolerance():
    value = SECRET * (1 + 1e-4)
    assert expect_relative(value, SECRET, tol=1e-3) is value


def test_expect_relative_checks_shape_with_the_hint():
    text = message(expect_relative, SECRET[0], SECRET, tol=1e-3, what="the gradient", hint="one per input")
    assert text == "the gradient has shape (2,), expected shape (2, 2): one per input"


def test_expect_relative_fails_nan():
    value = SECRET.clone()
    value[0, 1] = math.nan
    assert message(expect_relative, value, SECRET, tol=1e-3) == "the result contains NaN or infinite values"


def test_expect_relative_gives_the_relative_error_and_the_tolerance():
    value = SECRET.clone()
    value[0, 0] += 86.8675  # 1% of the largest entry
    text = message(expect_relative, value, SECRET, tol=1e-3)
    assert text == "the result has the wrong values: relative error 1.0e-02 (allowed 1e-03)"
    assert_secret_kept(text)


def test_expect_relative_names_a_matching_mistake():
    text = message(expect_relative, -SECRET, SECRET, tol=1e-3, mistakes={"the sign is flipped": -SECRET})
    assert text == "the result has the wrong values: the sign is flipped"


# -- expect_unchanged ---------------------------------------------------------------

def call_after(args_after, requires_grad_after):
    """What Student.call returns, as far as expect_unchanged reads it."""
    return SimpleNamespace(args_after=args_after, requires_grad_after=requires_grad_after)


def test_expect_unchanged_passes_untouched_arguments():
    x, y = torch.ones(2, 3), torch.arange(3)
    expect_unchanged(call_after([x.clone(), y.clone(), "mean"], [False, False, False]), [x, y, "mean"], "f")


def test_expect_unchanged_names_the_argument_changed_in_place():
    x, y = torch.ones(2), torch.ones(2)
    changed = y.clone()
    changed[0] = 5
    text = message(expect_unchanged, call_after([x.clone(), changed], [False, False]), [x, y], "mse_loss")
    assert text.startswith("mse_loss modified its argument 2 in place: work on new tensors")


@pytest.mark.parametrize("after", [torch.ones(3), Opaque("numpy.ndarray", "array([1., 1.])"), None])
def test_expect_unchanged_fails_an_argument_that_came_back_otherwise(after):
    assert "modified its argument 1" in message(expect_unchanged, call_after([after], [False]), [torch.ones(2)], "f")


def test_expect_unchanged_names_a_changed_requires_grad():
    x = torch.ones(2)
    text = message(expect_unchanged, call_after([x.clone()], [True]), [x], "relu")
    assert text == "relu changed requires_grad of its argument 1: leave the inputs as they were"


def test_expect_unchanged_ignores_arguments_that_are_not_tensors():
    expect_unchanged(call_after([2, "sum"], [False, False]), [1, "mean"], "f")


def test_expect_unchanged_passes_an_untouched_argument_holding_nan():
    x = torch.tensor([1.0, math.nan])
    expect_unchanged(call_after([x.clone()], [False]), [x], "f")
