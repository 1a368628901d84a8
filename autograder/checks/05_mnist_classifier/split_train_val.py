"""The hidden checks of split_train_val."""
import pytest
import torch

from autograder.check import a_class, fail, graded

FRACTIONS = (0.1, 0.25, 0.5)
SPLIT_CALLS = {
    37: [{"val_fraction": f, "seed": 0} for f in FRACTIONS],
    1000: [{"val_fraction": 0.1, "seed": 0}, {"val_fraction": 0.1, "seed": 0}, {"val_fraction": 0.1, "seed": 1},
           {}, {"val_fraction": 0.25, "seed": 3}, {"val_fraction": 0.5, "seed": 4}],
}


# datasets so small, or fractions so low, that val holds 0, 1 or 2 items (round(0.5) and round(2.5) included)
SMALL_CALLS = {10: [{"val_fraction": f, "seed": 0} for f in (0.15, 0.25, 0.0, 0.04, 0.05)], 1: [{}]}


def run_splits(student, calls_by_size: dict[int, list[dict]]) -> dict[int, list[dict]]:
    """For each dataset size n, split_train_val(TensorDataset(arange(n)), **kwargs) for each of its kwargs."""
    out = {n: student.probe("split_run", "split_train_val", n=n, calls=calls)["splits"]
           for n, calls in calls_by_size.items()}
    for n, results in out.items():
        for kwargs, result in zip(calls_by_size[n], results):
            if not result["pair"]:
                fail(f"split_train_val(dataset, {call_text(kwargs)}) returned {a_class(result['class'])}"
                     + (f" of {result['length']} items" if result["length"] is not None else "")
                     + ", expected a tuple (train, val)")
    return out


@pytest.fixture(scope="module")
def splits(student) -> dict[int, list[dict]]:
    """For each dataset size, split_train_val(TensorDataset(arange(n)), **kwargs) for each kwargs above."""
    return run_splits(student, SPLIT_CALLS)


@pytest.fixture(scope="module")
def small_splits(student) -> dict[int, list[dict]]:
    return run_splits(student, SMALL_CALLS)


def call_text(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def items(result: dict, part: str, kwargs: dict) -> torch.Tensor:
    """The dataset indices of the items of ``part``, read by indexing the part."""
    values = result[part]["values"]
    if values is None:
        fail(f"the {part} part of split_train_val(dataset, {call_text(kwargs)}) cannot be indexed like a dataset "
             f"({result[part].get('error', '')}): return torch.utils.data.Subset(dataset, indices) objects")
    return values


def split_sets(result: dict, kwargs: dict) -> tuple[set[int], set[int]]:
    return set(items(result, "train", kwargs).tolist()), set(items(result, "val", kwargs).tolist())


@graded("split_train_val")
def test_split_subsets(splits):
    """returns a tuple (train, val) of two torch.utils.data.Subset objects of the dataset"""
    for n, results in splits.items():
        for kwargs, result in zip(SPLIT_CALLS[n], results):
            for part in ("train", "val"):
                if not result[part]["subset"]:
                    fail(f"the {part} part is {a_class(result[part]['class'])}, expected a torch.utils.data.Subset "
                         "of the dataset: Subset(dataset, indices)")
                if not result[part]["of_dataset"]:
                    fail(f"the {part} part is a Subset of another dataset: build it on the dataset you were given")


@graded("split_train_val")
def test_split_disjoint_cover(splits):
    """train and val are disjoint and together hold every item once"""
    for n, results in splits.items():
        for kwargs, result in zip(SPLIT_CALLS[n], results):
            train, val = items(result, "train", kwargs), items(result, "val", kwargs)
            what = f"for a dataset of {n} items and {call_text(kwargs) or 'the defaults'}"
            shared = set(train.tolist()) & set(val.tolist())
            if shared:
                fail(f"train and val share {len(shared)} item(s) {what}: split one permutation of the indices into "
                     "two parts that do not overlap")
            if len(train) + len(val) != n or set(train.tolist()) | set(val.tolist()) != set(range(n)):
                fail(f"train and val together hold {len(train) + len(val)} items, not each of the {n} items once, "
                     f"{what}: every index goes to exactly one part")


@pytest.mark.parametrize("fraction", FRACTIONS)
@graded("split_train_val")
def test_split_val_size(splits, fraction):
    """val holds round(len(dataset) * val_fraction) items for val_fraction={fraction}"""
    for n, results in splits.items():
        for kwargs, result in zip(SPLIT_CALLS[n], results):
            if kwargs.get("val_fraction") != fraction:
                continue
            size, expected = len(items(result, "val", kwargs)), round(n * fraction)
            if size != expected:
                fail(f"val has {size} items for a dataset of {n} items and val_fraction={fraction}; it should hold "
                     f"round({n} * {fraction}) items{size_mistake(n, fraction, size)}")


def size_mistake(n: int, fraction: float, size: int) -> str:
    """Why val may hold ``size`` items rather than round(n * fraction), as a clause to append; "" if unknown."""
    expected = round(n * fraction)
    if size == int(n * fraction):
        return ": int() truncates; use round()"
    if expected == 0 and size == n:
        return (": when round(n * val_fraction) is 0, the slice perm[-n_val:] is perm[-0:], the whole permutation "
                "(and perm[:-n_val] is empty); take val = perm[:n_val] and train = perm[n_val:]")
    if size == n - expected:
        return ": train and val look swapped (return (train, val), val the part of size val_fraction)"
    if expected == 0:
        return ": val is empty when round(len(dataset) * val_fraction) is 0; do not force it to hold items"
    return ""


@graded("split_train_val")
def test_split_small(small_splits):
    """puts round(len(dataset) * val_fraction) items in val when that is 0, 1 or 2, the rest in train"""
    for n, results in small_splits.items():
        for kwargs, result in zip(SMALL_CALLS[n], results):
            train, val = split_sets(result, kwargs)
            fraction = kwargs.get("val_fraction", 0.1)
            size, expected = len(items(result, "val", kwargs)), round(n * fraction)
            what = f"for a dataset of {n} item(s) and {call_text(kwargs) or 'the defaults'}"
            if size != expected:
                fail(f"val has {size} item(s) {what}; it should hold round({n} * {fraction}) items (Python's "
                     f"round){size_mistake(n, fraction, size)}")
            if train & val or len(items(result, "train", kwargs)) + size != n or train | val != set(range(n)):
                fail(f"train and val do not hold each item exactly once {what}: every index goes to exactly one part")


def same_split(a: dict, b: dict, kwargs: dict) -> bool:
    return split_sets(a, kwargs) == split_sets(b, kwargs)


@graded("split_train_val")
def test_split_same_seed(splits):
    """gives the same split for the same seed"""
    first, second = splits[1000][0], splits[1000][1]
    if not same_split(first, second, SPLIT_CALLS[1000][0]):
        fail("two calls with seed=0 gave different splits: draw the permutation from a private generator, "
             "torch.randperm(n, generator=torch.Generator().manual_seed(seed))")


@graded("split_train_val")
def test_split_other_seed(splits):
    """gives different splits for different seeds"""
    if same_split(splits[1000][0], splits[1000][2], SPLIT_CALLS[1000][0]):
        fail("seed=0 and seed=1 gave the same split: seed the random permutation with the seed argument")


@graded("split_train_val")
def test_split_defaults(splits):
    """uses val_fraction=0.1 and seed=0 by default"""
    if not same_split(splits[1000][3], splits[1000][0], SPLIT_CALLS[1000][0]):
        fail("split_train_val(dataset) differs from split_train_val(dataset, val_fraction=0.1, seed=0): keep the "
             "defaults val_fraction=0.1 and seed=0")
