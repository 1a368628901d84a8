"""The hidden checks of best_config, called directly on records like run_experiments's."""
from autograder.check import StudentRaised, a_kind, fail, graded, reraise_with_hint

NAME = "best_config"


def record(i: int, **metrics: float) -> dict:
    return {"config": {"lr": 10.0 ** -i, "run": i}, "metrics": metrics}


def failed(i: int) -> dict:
    return {"config": {"lr": 10.0 ** -i, "run": i}, "error": "RuntimeError: loss is nan"}


RECORDS = [record(1, val_accuracy=0.91, val_loss=0.30), record(2, val_accuracy=0.95, val_loss=0.21),
           record(3, val_accuracy=0.93, val_loss=0.18), record(4, val_accuracy=0.90, val_loss=0.40)]


def best(student, records: list, what: str, **kwargs) -> object:
    try:
        call = student.call(NAME, records, **kwargs)
    except StudentRaised as exc:
        hint = ("the records of failed runs have an 'error' and no 'metrics': leave them out"
                if exc.exc_type == "KeyError" and any("error" in r for r in records) else "")
        reraise_with_hint(exc, hint)
    if call.args_after[0] != records:
        fail(f"{NAME} changed the records it was given ({what}): leave the list as it is (sorted() makes a "
             "new list, .sort() changes the caller's)")
    return call.value


def expect_best(student, records: list, index: int, what: str, **kwargs) -> None:
    value = best(student, records, what, **kwargs)
    expected = records[index]["config"]
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    call = f"{NAME}(records{', ' + args if args else ''}) ({what})"
    if value == expected:
        return
    if value == records[index]:
        fail(f"{call} returned the whole record: return its config, record['config']")
    if isinstance(value, dict) and value in [r for r in records]:
        fail(f"{call} returned a whole record (not the best one): return the best record's config")
    if not isinstance(value, dict):
        fail(f"{call} returned {a_kind(value)}, expected the best record's config, a dict")
    chosen = next((i for i, r in enumerate(records) if r["config"] == value), None)
    if chosen is None:
        fail(f"{call} returned a dict that is none of the records' configs: return record['config'] of the best")
    if "error" in records[chosen]:
        fail(f"{call} returned the config of a run that failed: leave out records with an 'error'")
    metric, mode = kwargs.get("metric", "val_accuracy"), kwargs.get("mode", "max")
    score = records[chosen]["metrics"][metric]
    if score == records[index]["metrics"][metric]:
        fail(f"{call} returned the later of two records that tie: on ties keep the earliest (compare with a strict "
             "> or <, or use max/min, which keep the first)")
    fail(f"{call} did not return the config of the record with the {'highest' if mode == 'max' else 'lowest'} "
         f"metrics[{metric!r}]" + (" (mode='min' asks for the lowest)" if mode == "min" else ""))


def expect_value_error(student, records: list, what: str) -> None:
    try:
        value = student.call(NAME, records).value
    except StudentRaised as exc:
        if exc.exc_type == "KeyError" and records:
            fail(f"{NAME}(records) should raise ValueError when {what}; instead it: {exc}: the records of failed "
                 "runs have an 'error' and no 'metrics', so leave them out, then raise ValueError if none is left")
        if exc.exc_type != "ValueError":
            fail(f"{NAME}(records) should raise ValueError when {what}; instead it: {exc}")
        return
    fail(f"{NAME}(records) returned {a_kind(value)} when {what}: raise ValueError, since no config qualifies")


@graded(NAME)
def test_best_max(student):
    """returns the config of the record with the highest val_accuracy by default"""
    expect_best(student, RECORDS, 1, "four records, default metric and mode")
    expect_best(student, RECORDS[::-1], 2, "the same records in reverse order")


@graded(NAME)
def test_best_min(student):
    """with mode="min" and another metric, returns the config of the lowest"""
    expect_best(student, RECORDS, 2, "four records", metric="val_loss", mode="min")
    expect_best(student, RECORDS, 3, "four records", metric="val_loss", mode="max")
    expect_best(student, RECORDS, 3, "four records", metric="val_accuracy", mode="min")


@graded(NAME)
def test_best_ties(student):
    """keeps the earliest of records that tie, in either mode"""
    tied = [record(1, val_accuracy=0.9, val_loss=0.5), record(2, val_accuracy=0.97, val_loss=0.2),
            record(3, val_accuracy=0.97, val_loss=0.2), record(4, val_accuracy=0.97, val_loss=0.6)]
    expect_best(student, tied, 1, "three records tie on val_accuracy")
    expect_best(student, tied, 1, "two records tie on val_loss", metric="val_loss", mode="min")


@graded(NAME)
def test_best_skips_errors(student):
    """leaves out records of runs that failed"""
    records = [failed(1), record(2, val_accuracy=0.8, val_loss=0.9), failed(3),
               record(4, val_accuracy=0.85, val_loss=0.7), failed(5)]
    expect_best(student, records, 3, "records with errors among them")
    expect_best(student, records, 3, "records with errors among them", metric="val_loss", mode="min")
    expect_best(student, [failed(1), record(2, val_accuracy=0.5, val_loss=2.0)], 1, "the first run failed")


@graded(NAME)
def test_best_nothing_qualifies(student):
    """raises ValueError when no record qualifies (no records, or only failed runs)"""
    expect_value_error(student, [], "records is empty")
    expect_value_error(student, [failed(1), failed(2)], "every run failed")
