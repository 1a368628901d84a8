"""The hidden checks of random_search_configs: thousands of draws, checked statistically here (log-uniform
floats spread evenly over the decades, integers with both ends, list entries equally often), and its
reproducibility and its respect for the global random state in the sandbox (harness/assignments/
06_hyperparameters.py, ``random_configs``)."""
import math
from collections import Counter

import pytest

from autograder.check import a_kind, fail, graded

NAME = "random_search_configs"
N = 3000
SPACE = {"lr": ("log", 1e-5, 1e-1), "layers": ("int", 1, 4), "activation": ["relu", "tanh", "gelu"],
         "batch_size": [16, 32, 64, 128, 256]}
SLACK = 0.04  # a share of N draws may stray this far from its expectation (over 4 standard deviations)


@pytest.fixture(scope="module")
def drawn(student) -> dict:
    """N draws with seed 1; then 20 with seeds 5, 5, 6, and with no seed then seed 0."""
    return student.probe("random_configs", NAME, space=SPACE, calls=[
        {"n": N, "seed": 1}, {"n": 20, "seed": 5}, {"n": 20, "seed": 5}, {"n": 20, "seed": 6}, {"n": 20},
        {"n": 20, "seed": 0}])


def configs(value, n: int, what: str) -> list[dict]:
    if not isinstance(value, list):
        fail(f"{NAME}(space, n={n}) returned {a_kind(value)} ({what}), expected a list of n dicts")
    if len(value) != n:
        fail(f"{NAME}(space, n={n}) returned {len(value)} configs ({what}), expected n")
    for config in value:
        if not isinstance(config, dict):
            fail(f"{NAME}(space, n={n}) returned a list holding {a_kind(config)}, expected one dict per draw")
        if set(config) != set(SPACE):
            fail(f"{NAME}(space, n={n}) returned a config with the keys {sorted(config)}, expected exactly the keys "
                 "of space")
    return value


def values(drawn: dict, key: str) -> list:
    return [c[key] for c in configs(drawn["results"][0], N, f"{N} draws")]


@graded(NAME)
def test_random_log_uniform(student, drawn):
    """draws ("log", low, high) as floats in [low, high], spread evenly over its decades (log-uniformly)"""
    lrs = values(drawn, "lr")
    bad = next((v for v in lrs if type(v) is not float), None)
    if bad is not None:
        fail(f"a ('log', low, high) value is {a_kind(bad)}, expected a Python float: float(...) a numpy or torch "
             "number")
    if not all(1e-5 * (1 - 1e-9) <= v <= 1e-1 * (1 + 1e-9) for v in lrs):
        fail("a ('log', 1e-5, 1e-1) value lies outside [low, high]: draw the exponent between log(low) and "
             "log(high), then exponentiate")
    if len(set(lrs)) < N * 0.9:
        fail(f"{N} draws of ('log', 1e-5, 1e-1) gave only {len(set(lrs))} different values: draw the exponent as a "
             "float, not an integer, so that every value in the range can come up")
    decades = Counter(min(int(math.log10(v / 1e-5)), 3) for v in lrs)
    shares = [decades[d] / N for d in range(4)]
    if shares[3] > 0.6:
        fail(f"{shares[3]:.0%} of {N} draws of ('log', 1e-5, 1e-1) lie in the top decade [1e-2, 1e-1]: drawing "
             "uniformly between low and high favours the largest values; draw log(value) uniformly "
             "(value = exp(uniform(log(low), log(high))))")
    if any(abs(s - 0.25) > SLACK for s in shares):
        fail(f"{N} draws of ('log', 1e-5, 1e-1) do not fall about equally often into each of its four decades "
             f"(shares {', '.join(f'{s:.0%}' for s in shares)}): draw log(value) uniformly between log(low) and "
             "log(high)")


@graded(NAME)
def test_random_int_range(student, drawn):
    """draws ("int", low, high) as ints, each from low to high (both included) about equally often"""
    layers = values(drawn, "layers")
    bad = next((v for v in layers if type(v) is not int), None)
    if bad is not None:
        fail(f"an ('int', low, high) value is {a_kind(bad)}, expected a Python int: int(...) a float, numpy or torch "
             "number")
    counts = Counter(layers)
    if set(counts) - {1, 2, 3, 4}:
        fail("an ('int', 1, 4) value lies outside 1..4")
    if 4 not in counts:
        fail(f"{N} draws of ('int', 1, 4) never gave 4: both ends are included (random.randint(low, high) includes "
             "high; numpy's and torch's randint exclude it, so pass high + 1 there)")
    if 1 not in counts:
        fail(f"{N} draws of ('int', 1, 4) never gave 1: both ends are included")
    if any(abs(counts[k] / N - 0.25) > SLACK for k in range(1, 5)):
        fail(f"{N} draws of ('int', 1, 4) do not give 1, 2, 3 and 4 about equally often: draw each integer with "
             "the same probability (rounding a uniform float gives the ends half as often)")


@graded(NAME)
def test_random_list_choice(student, drawn):
    """draws from a list uniformly, every entry about equally often, as the entry itself"""
    for key in ("activation", "batch_size"):
        options = SPACE[key]
        got = values(drawn, key)
        bad = next((v for v in got if v not in options or type(v) is not type(options[0])), None)
        if bad is not None:
            fail(f"a value drawn from the list {options} is {bad!r} ({a_kind(bad)}), which is not one of the list's "
                 "entries: return the entry itself (random.choice, or the list indexed by a drawn position, as a "
                 "Python int)")
        counts = Counter(got)
        missing = [o for o in options if o not in counts]
        if missing:
            fail(f"{N} draws from the list {options} never gave {missing[0]!r}: every entry can be drawn, the last "
                 "one too")
        if any(abs(counts[o] / N - 1 / len(options)) > SLACK for o in options):
            fail(f"{N} draws from the list {options} do not give each entry about equally often: draw each with "
                 "the same probability")


@graded(NAME)
def test_random_reproducible(student, drawn):
    """returns equal configs for equal seeds (seed=0 by default), different ones for different seeds"""
    same, again, other, default, zero = (configs(v, 20, "seeds 5, 5, 6, default and 0")
                                         for v in drawn["results"][1:])
    if same != again:
        fail(f"{NAME}(space, 20, seed=5) returned different configs on two calls: draw from a generator of your "
             "own seeded with seed (random.Random(seed), np.random.default_rng(seed), a seeded torch.Generator), "
             "never from the global one")
    if same == other:
        fail(f"{NAME}(space, 20, seed=5) and seed=6 returned the same configs: seed your generator with seed")
    if default != zero:
        fail(f"{NAME}(space, 20) and {NAME}(space, 20, seed=0) differ: seed=0 is the default")


@graded(NAME)
def test_random_global_state(student, drawn):
    """leaves the global random state of random, numpy and torch untouched, and space unchanged"""
    touched = [k for k, same in drawn["untouched"].items() if not same]
    if touched:
        fail(f"{NAME} changed the global random state of {', '.join(touched)}: seeding or drawing from the global "
             "generator changes what the rest of the notebook draws; use a generator of your own "
             "(random.Random(seed), np.random.default_rng(seed), torch.Generator().manual_seed(seed))")
    if drawn["space"] != SPACE:
        fail(f"{NAME} changed the space it was given: leave it as it was")
