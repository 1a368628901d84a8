"""The hidden checks of EarlyStopping, in the sandbox (harness/assignments/06_hyperparameters.py,
``early_stopping``): what step returns and best and best_epoch before and after each call, for sequences of
losses with ties and with improvements smaller than min_delta. Losses and min_delta are sums of powers of 2, so
that ``loss < best - min_delta`` is exact however it is written."""
import math

from autograder.check import StudentRaised, a_kind, fail, graded

NAME = "EarlyStopping"
PLAIN = [1.0, 0.75, 0.875, 0.75, 0.8125, 0.5, 0.625, 0.5, 0.5625, 0.5, 0.4375]
SMALL_STEPS = [2.0, 1.75, 1.5, 1.5, 1.25, 1.0, 0.875, 0.75, 0.5, 0.4375, 0.375]  # min_delta 0.25


def reference(losses: list[float], patience: int = 3, min_delta: float = 0.0) -> list[dict]:
    best, best_epoch, bad, out = math.inf, None, 0, []
    for i, loss in enumerate(losses):
        if loss < best - min_delta:
            best, best_epoch, bad = loss, i, 0
        else:
            bad += 1
        out.append({"returned": bad >= patience, "best": best, "best_epoch": best_epoch})
    return out


def stopped(student, kwargs: dict, losses: list[float]) -> dict:
    try:
        return student.probe("early_stopping", NAME, kwargs=kwargs, losses=losses)
    except StudentRaised as exc:
        if exc.exc_type == "TypeError" and kwargs:
            fail(f"{exc}: EarlyStopping takes patience=3 and min_delta=0.0 as keyword arguments, and step(val_loss)")
        raise


def label(kwargs: dict, losses: list[float], i: int) -> str:
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return f"EarlyStopping({args}) after step() with the losses {losses[:i + 1]}"


def expect_returns(student, kwargs: dict, losses: list[float]) -> None:
    calls = stopped(student, kwargs, losses)["calls"]
    for i, (got, want) in enumerate(zip(calls, reference(losses, **kwargs))):
        value = got["returned"]
        if type(value) is not bool:
            fail(f"step() returned {a_kind(value)}, expected True or False")
        if value != want["returned"]:
            patience = kwargs.get("patience", 3)
            fail(f"{label(kwargs, losses, i)}: step returned {value}, which is wrong there: it returns True "
                 f"once {patience} consecutive call(s) have not improved (a call improves when its loss is below "
                 "best - min_delta; an equal loss does not improve), and goes on returning True while none does")


def expect_attributes(student, kwargs: dict, losses: list[float]) -> None:
    calls = stopped(student, kwargs, losses)["calls"]
    for i, (got, want) in enumerate(zip(calls, reference(losses, **kwargs))):
        if got["best"] == "missing" or got["best_epoch"] == "missing":
            fail(f"{label(kwargs, losses, i)}: it has no attribute best or best_epoch: set self.best and "
                 "self.best_epoch")
        if got["best"] != want["best"]:
            hint = (" (best moves only when a call improves by more than min_delta, as Keras and Lightning keep "
                    "it, not to every lower loss)" if kwargs.get("min_delta") else "")
            fail(f"{label(kwargs, losses, i)}: best is wrong: it is the loss of the last call that improved{hint}")
        if got["best_epoch"] != want["best_epoch"] or type(got["best_epoch"]) is not int:
            fail(f"{label(kwargs, losses, i)}: best_epoch is wrong: it is the 0-based index of the last call "
                 "that improved, counting every call of step (the first is 0), as an int")


@graded(NAME)
def test_early_stopping_initial(student):
    """before any call, best is inf and best_epoch is None"""
    before = stopped(student, {}, [])["before"]
    if before["best"] == "missing" or before["best_epoch"] == "missing":
        fail("EarlyStopping() has no attribute best or best_epoch before any call: set them in __init__")
    if not (type(before["best"]) is float and before["best"] == math.inf):
        fail(f"EarlyStopping().best is {before['best']!r} before any call, expected float('inf') (math.inf), so "
             "that the first loss improves on it")
    if before["best_epoch"] is not None:
        fail(f"EarlyStopping().best_epoch is {before['best_epoch']!r} before any call, expected None")


@graded(NAME)
def test_early_stopping_patience(student):
    """step returns True once patience (default 3) consecutive calls have not improved, an equal loss included"""
    expect_returns(student, {}, PLAIN)


@graded(NAME)
def test_early_stopping_other_patience(student):
    """works with other patience values, and goes on returning True while nothing improves"""
    expect_returns(student, {"patience": 1}, PLAIN)
    expect_returns(student, {"patience": 5}, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5])


@graded(NAME)
def test_early_stopping_best(student):
    """best and best_epoch follow the last call that improved"""
    expect_attributes(student, {}, PLAIN)
    expect_attributes(student, {"patience": 2}, [3.0, 2.0, 2.0, 1.0, 4.0, 0.5])


@graded(NAME)
def test_early_stopping_min_delta(student):
    """with min_delta, a call improves only when its loss is below best - min_delta, and only then moves best"""
    expect_returns(student, {"patience": 2, "min_delta": 0.25}, SMALL_STEPS)
    expect_attributes(student, {"patience": 2, "min_delta": 0.25}, SMALL_STEPS)
