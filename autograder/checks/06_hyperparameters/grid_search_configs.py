"""The hidden checks of grid_search_configs, called directly on spaces of a few sizes."""
import itertools

from autograder.check import a_kind, fail, graded

NAME = "grid_search_configs"
SPACE = {"lr": [0.1, 0.01, 0.001], "optimizer": ["sgd", "adam"], "batch_size": [64, 16, 256, 32]}
SPACES = [{"weight_decay": [0.0, 1e-4], "hidden": [[128], [256, 64], [512]]},
          {"momentum": [0.9]},
          {"dropout": [0.5], "lr": [0.3, 0.03], "act": ["relu"], "epochs": [3, 1]}]


def product(space: dict) -> list[dict]:
    return [dict(zip(space, values)) for values in itertools.product(*space.values())]


def canonical(config: dict) -> str:
    """A config as text, whatever the order of its keys."""
    return repr(sorted(config.items(), key=lambda item: item[0]))


def configs(student, space: dict) -> tuple[list, dict]:
    call = student.call(NAME, space)
    value = call.value
    if not isinstance(value, list):
        fail(f"{NAME}(space) returned {a_kind(value)}, expected a list of dicts: build it with a list "
             "comprehension, or list(...) around a generator")
    if not all(isinstance(c, dict) for c in value):
        bad = next(c for c in value if not isinstance(c, dict))
        fail(f"{NAME}(space) returned a list holding {a_kind(bad)}, expected one dict per combination, mapping each "
             "hyperparameter name to its value: dict(zip(keys, values))")
    return value, call.args_after[0]


def expect_grid(student, space: dict) -> None:
    value, after = configs(student, space)
    expected = product(space)
    what = f"{NAME}({space!r})"
    if len(value) != len(expected):
        fail(f"{what} returned {len(value)} configs, expected one per combination of the values, the product of "
             "the lists' lengths")
    keys = [c for c in value if set(c) != set(space)]
    if keys:
        fail(f"{what} returned a config with the keys {sorted(keys[0])}, expected exactly the keys of space")
    if sorted(map(canonical, value)) != sorted(map(canonical, expected)):
        if len(set(map(canonical, value))) < len(value):
            fail(f"{what} returned some combinations more than once and others not at all: if you reuse one "
                 "dict and change it, every entry of the list is that same dict; make a new dict per combination")
        fail(f"{what} does not return every combination of the values")
    if value != expected:
        reversed_keys = dict(reversed(list(space.items())))
        if value == [dict((k, c[k]) for k in space) for c in product(reversed_keys)]:
            fail(f"{what} returned the combinations in the wrong order: in itertools.product order the last key "
                 "varies fastest, the first slowest (you made the first key vary fastest)")
        if value == [dict((k, c[k]) for k in space) for c in product(dict(sorted(space.items())))]:
            fail(f"{what} returned the combinations in the order of the sorted keys: keep the keys in the order "
                 "space gives them")
        fail(f"{what} returned the combinations in the wrong order: itertools.product over the values of the keys "
             "in the order space gives them")
    if after != space:
        fail(f"{NAME} changed the space it was given: leave its dict and lists as they were")


@graded(NAME)
def test_grid_every_combination(student):
    """returns every combination of a space of 3 keys as a list of dicts, in itertools.product order"""
    expect_grid(student, SPACE)


@graded(NAME)
def test_grid_other_spaces(student):
    """works for other spaces: one key, one value per key, lists as values"""
    for space in SPACES:
        expect_grid(student, space)


@graded(NAME)
def test_grid_key_order(student):
    """follows the keys in the order space gives them, which need not be sorted"""
    expect_grid(student, {"z_epochs": [1, 2], "lr": [0.5, 0.05], "b_layers": [3, 1, 2]})


@graded(NAME)
def test_grid_space_unchanged(student):
    """leaves space unchanged and returns configs that are separate dicts"""
    space = {"lr": [0.1, 0.2], "wd": [0.0, 0.5]}
    value, after = configs(student, space)
    if after != space:
        fail(f"{NAME} changed the space it was given: leave its dict and lists as they were")
    if len(set(map(canonical, value))) != len(value) or len(value) != 4:
        fail(f"{NAME}(space) did not return 4 different configs for 2 x 2 values: make a new dict per combination")
