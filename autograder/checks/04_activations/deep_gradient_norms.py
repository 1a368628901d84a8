"""The hidden checks of deep_gradient_norms."""
import functools
import math
from typing import Any

import pytest
import torch

from autograder.check import CheckFailed, a_kind, fail, graded

from ._common import ACTIVATIONS, LABELS, REFERENCE, agrees, random_x

# Calibrated on the contract's recipe over 40 seeds and six constructions (layers built before or
# after drawing the batch, batches of 1 to 256 rows, randn or rand inputs): at depth 10 and width 64,
# log10(first / last) lies in [-8.9, -7.1] for sigmoid, [-3.7, -2.0] for relu, [-2.8, -0.9] for tanh.
DEPTH = 10
VANISHED = 10 ** -5.5


def gradient_norms(student, activation: str, depth: int = DEPTH, **kwargs: Any) -> list[float]:
    """``deep_gradient_norms(activation, depth, **kwargs)``, checked to be ``depth`` finite floats >= 0."""
    args = [repr(activation), str(depth)] + [f"{key}={value}" for key, value in kwargs.items()]
    what = f"deep_gradient_norms({', '.join(args)})"
    value = student.call("deep_gradient_norms", activation, depth, **kwargs).value
    if not isinstance(value, list):
        fail(f"{what} returned {a_kind(value)}, expected a list of {depth} Python floats")
    if len(value) != depth:
        fail(f"{what} returned {len(value)} values, expected one per layer ({depth})")
    for i, v in enumerate(value):
        if type(v) is not float:
            fail(f"entry {i} of {what} is {a_kind(v)}, expected a Python float: use .item()")
    if not all(math.isfinite(v) and v >= 0 for v in value):
        fail(f"{what} contains NaN, infinite or negative values: a norm is a finite number >= 0")
    return value


def first_over_last(values: list[float], activation: str) -> float:
    """First layer's norm over the last layer's."""
    if values[-1] == 0:
        fail(f"the last layer's gradient norm in deep_gradient_norms({activation!r}, {len(values)}) is 0: call "
             "backward on the sum of the network's output and read layer.weight.grad")
    return values[0] / values[-1]


def likely_mistake(values: list[float], otherwise: str) -> str:
    """A sentence naming what probably went wrong with ``values`` (width 64), else ``otherwise``."""
    if all(abs(v / math.sqrt(64 / 3) - 1) < 0.2 for v in values):  # ||W|| of a default Linear(64, 64)
        return "These look like the norms of the weights themselves: report layer.weight.grad.norm()."
    if values[0] > values[-1]:
        return "Is the list reversed? Its first entry belongs to the layer closest to the input."
    return otherwise


@graded("deep_gradient_norms")
def test_deep_one_float_per_layer(student):
    """returns one Python float per layer and honours depth and width"""
    gradient_norms(student, "tanh", 1, width=8)
    gradient_norms(student, "sigmoid", DEPTH)
    if gradient_norms(student, "relu", 3, width=16) == gradient_norms(student, "relu", 3, width=64):
        fail("deep_gradient_norms('relu', 3, width=16) gives the same norms as width=64: build Linear(width, width) "
             "layers and a batch with width columns")


@graded("deep_gradient_norms")
def test_deep_seeded(student):
    """gives the same norms for the same seed and other norms for another seed"""
    first = gradient_norms(student, "tanh", 4)
    if gradient_norms(student, "tanh", 4) != first:
        fail("two calls of deep_gradient_norms('tanh', 4) gave different norms: call torch.manual_seed(seed) "
             "before building the layers and drawing the batch")
    if gradient_norms(student, "tanh", 4, width=64, seed=0) != first:
        fail("deep_gradient_norms('tanh', 4) differs from deep_gradient_norms('tanh', 4, width=64, seed=0): keep "
             "the defaults width=64 and seed=0")
    if gradient_norms(student, "tanh", 4, seed=1) == first:
        fail("seed=1 gives the same norms as seed=0: pass the seed argument to torch.manual_seed")


@graded("deep_gradient_norms")
def test_deep_first_layer_first(student):
    """lists the first layer (closest to the input) first"""
    for activation in ACTIVATIONS:
        values = gradient_norms(student, activation)
        if first_over_last(values, activation) >= 1:
            fail(f"in deep_gradient_norms({activation!r}, {DEPTH}) the first entry is not smaller than the last, "
                 "yet with default initialization gradients shrink towards the input. "
                 + likely_mistake(values, "Report layer.weight.grad.norm() for each layer, first layer first."))


@graded("deep_gradient_norms")
def test_deep_sigmoid_vanishes(student):
    """shows the vanishing gradients of a deep sigmoid network"""
    values = gradient_norms(student, "sigmoid")
    if first_over_last(values, "sigmoid") >= VANISHED:
        fail(f"in deep_gradient_norms('sigmoid', {DEPTH}) the first layer's gradient norm is not orders of "
             "magnitude smaller than the last layer's, as it must be when every layer multiplies the gradient "
             "by sigmoid's derivative (at most 0.25). "
             + likely_mistake(values, "Does 'sigmoid' put an nn.Sigmoid after every Linear layer?"))


@graded("deep_gradient_norms")
def test_deep_uses_activation(student):
    """uses the requested activation: ReLU and tanh gradients do not vanish like sigmoid's"""
    relu, tanh = gradient_norms(student, "relu"), gradient_norms(student, "tanh")
    if relu == tanh:
        fail("deep_gradient_norms gives the same norms for 'relu' and 'tanh'. "
             + likely_mistake(relu, "Does the activation argument select nn.ReLU or nn.Tanh?"))
    for activation, values in (("relu", relu), ("tanh", tanh)):
        if first_over_last(values, activation) < VANISHED:
            fail(f"in deep_gradient_norms({activation!r}, {DEPTH}) the gradients vanish towards the input as "
                 f"fast as in a sigmoid network: does {activation!r} select {LABELS[activation]}?")


# -- deep_gradient_norms, exactly as the contract builds it -------------------------------------------
# Deep in a stack of default-initialised Linear(width, width) + activation layers the hidden state forgets the
# input (each layer contracts it): from about layer 20 on, every example of any batch (randn, rand, scaled, one
# row or thousands) gives the same per-layer gradient to 1e-6. So in a 30-layer network the last layers' norms
# are the batch size times one example's, and their ratios are fixed by the construction alone: the weights, the
# activation after every layer, the backward pass of the output's sum and the norm. The one freedom the contract
# leaves there is where the batch's random numbers were drawn: after the layers (whose weights are then the first
# numbers after torch.manual_seed(seed)) or before them (after rows * width numbers: rand, randn, normal, randint
# and bernoulli draw one per float32 entry). The check tries both, for any batch of up to 1024 rows and for round
# sizes up to 100,000 rows.
EXACT = {"depth": 30, "width": 16, "seed": 5}
TAIL = 6          # the last layers compared
MATCH = 1e-4      # their ratios agree to 1e-6 for every batch; a different construction is off by 1e-2 or more
ROWS_BEFORE = tuple(sorted({*range(1025), *range(1050, 20001, 50), *range(1088, 20001, 64),
                            *range(21000, 100001, 1000), *(2 ** k for k in range(11, 17))}))  # 0: the layers first
DIAGNOSED_ROWS = tuple(range(257))  # where mistakes that change the weights' draws are looked for
# one example's gradient norms in the last layers, under mistakes the contract rules out, by diagnosis
VARIANTS = {
    "weight": "",
    "bias": "these look like the norms of the bias gradients: report layer.weight.grad.norm()",
    "weight and bias": "these look like the norms of the weight and bias gradients together: report the "
                       "weight's alone, layer.weight.grad.norm()",
    "l1": "these look like sums of absolute values (L1 norms): report the Euclidean norm, layer.weight.grad.norm()",
    "no last activation": "it looks like there is no activation after the last Linear layer: the contract puts the "
                          "activation after every layer, the last one too",
    "squared output": "it looks like a loss of the squared output (such as an MSE against zeros) was backpropagated: "
                      "call backward() on the sum of the network's output, net(x).sum()",
}
NO_BIAS = "it looks like the layers have no bias: keep nn.Linear's default bias=True"


def activate(name: str, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The activation of ``z`` and its derivative."""
    if name == "relu":
        return z.clamp_min(0), (z > 0).to(z.dtype)
    f = torch.sigmoid(z) if name == "sigmoid" else torch.tanh(z)
    return f, (f * (1 - f) if name == "sigmoid" else 1 - f * f)


@functools.lru_cache(maxsize=None)
def tail_norms(activation: str, rows: tuple[int, ...], bias: bool = True) -> dict[str, torch.Tensor]:
    """For each number of batch rows drawn before the layers (0: the layers first), one example's quantities of
    VARIANTS in the last TAIL layers: ``{variant: (len(rows), TAIL)}`` in float64.

    The layers' weights are read off the generator's stream as nn.Linear draws them (kaiming_uniform_ then the
    bias, uniform in +-1/sqrt(width), one number each); the example is zeros, which the tail has forgotten."""
    depth, width, seed = EXACT["depth"], EXACT["width"], EXACT["seed"]
    per = width * width + (width if bias else 0)  # a multiple of width, as every batch's draw is
    first = torch.tensor(rows)
    stream = torch.rand(width * int(first.max()) + depth * per, generator=torch.Generator().manual_seed(seed))
    windows = ((stream * 2 - 1) * (1 / math.sqrt(width))).unfold(0, per, width)  # windows[i]: from i * width on
    h = torch.zeros(len(rows), width, 1, dtype=torch.float64)
    weights, inputs, slopes = [], [], []
    for k in range(depth):
        params = windows[first + k * per // width].double()
        w = params[:, :width * width].reshape(-1, width, width)
        z = w @ h + (params[:, width * width:, None] if bias else 0)
        inputs.append(h)
        h, slope = activate(activation, z)
        weights.append(w)
        slopes.append(slope)
    out: dict[str, list[torch.Tensor]] = {v: [] for v in VARIANTS}
    deltas = {"weight": slopes[-1], "no last activation": torch.ones_like(h), "squared output": 2 * h * slopes[-1]}
    for k in range(depth - 1, depth - 1 - TAIL, -1):
        if k < depth - 1:
            deltas = {v: (weights[k + 1].transpose(1, 2) @ d) * slopes[k] for v, d in deltas.items()}
        d, x = deltas["weight"].flatten(1), inputs[k].flatten(1)
        out["weight"].append(d.norm(dim=1) * x.norm(dim=1))
        out["bias"].append(d.norm(dim=1))
        out["weight and bias"].append(d.norm(dim=1) * (x.norm(dim=1) ** 2 + 1).sqrt())
        out["l1"].append(d.abs().sum(1) * x.abs().sum(1))
        for v in ("no last activation", "squared output"):
            out[v].append(deltas[v].flatten(1).norm(dim=1) * x.norm(dim=1))
    return {v: torch.stack(values[::-1], 1) for v, values in out.items()}


@functools.lru_cache(maxsize=None)
def stream_model_holds() -> bool:
    """A batch drawn before nn.Linear's default init leaves its weights where tail_norms reads them (torch 2.14)."""
    width, seed = EXACT["width"], EXACT["seed"]
    with torch.random.fork_rng(devices=[]):  # the grader's own random state is left as it was
        torch.manual_seed(seed)
        torch.randn(3, width)
        layer = torch.nn.Linear(width, width)
    stream = torch.rand(4 * width + width * width, generator=torch.Generator().manual_seed(seed))
    drawn = torch.cat([layer.weight.detach().flatten(), layer.bias.detach()])
    return torch.allclose(drawn, ((stream * 2 - 1) * (1 / math.sqrt(width)))[3 * width:], rtol=0, atol=1e-7)


def ratio_error(values: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """How far the ratios of ``values`` (TAIL norms) to their last are from each row of ``reference``'s."""
    if not (values > 0).all():
        return torch.full((len(reference),), math.inf, dtype=torch.float64)
    mine, theirs = values / values[-1], reference / reference[:, -1:]
    return (mine / theirs - 1).abs().max(dim=1).values


def construction(values: list[float], activation: str) -> tuple[int, float] | str:
    """(rows drawn before the layers, norms / one example's) where the last layers of ``values`` are the contract's
    construction exactly; else the diagnosis of a mistake that gives them, or ""."""
    tail = torch.tensor(values[-TAIL:], dtype=torch.float64)
    for rows in ((0,), ROWS_BEFORE):
        reference = tail_norms(activation, rows)["weight"]
        errors = ratio_error(tail, reference)
        if errors.min() <= MATCH:
            best = int(errors.argmin())
            return rows[best], (tail / reference[best]).median().item()
    tables = {**tail_norms(activation, ROWS_BEFORE),
              "no bias": tail_norms(activation, DIAGNOSED_ROWS, bias=False)["weight"]}
    for variant, why in {**VARIANTS, "no bias": NO_BIAS}.items():
        if variant != "weight" and ratio_error(tail, tables[variant]).min() <= MATCH:
            return why
    for other in ACTIVATIONS:
        if other != activation and ratio_error(tail, tail_norms(other, DIAGNOSED_ROWS)["weight"]).min() <= MATCH:
            return (f"these are the norms of a network of {LABELS[other]} layers: {activation!r} must select "
                    f"nn.{LABELS[activation]}")
    if ratio_error(tail.sqrt(), tables["weight"]).min() <= MATCH:
        return "these look like squared norms: report layer.weight.grad.norm(), not its square"
    if ratio_error(torch.tensor(values[:TAIL][::-1], dtype=torch.float64), tables["weight"]).min() <= MATCH:
        return "the list looks reversed: its first entry belongs to the layer closest to the input"
    return ""


def own_activation_wrong(student, activation: str) -> bool:
    """The student's own ``activation`` returns something other than PyTorch's (deep_gradient_norms may use it)."""
    x = random_x(4, 5, seed=8)
    try:
        value = student.call(activation, x).value
    except CheckFailed:
        return False
    return not agrees(value, REFERENCE[activation](x))


def exact_call(activation: str) -> str:
    args = ", ".join(f"{k}={v}" for k, v in EXACT.items() if k != "depth")
    return f"deep_gradient_norms({activation!r}, {EXACT['depth']}, {args})"


@pytest.fixture(scope="module")
def exact_runs(student) -> dict[str, Any]:
    """deep_gradient_norms(activation, 30, width=16, seed=5) per activation: its list, or the CheckFailed it met."""
    runs: dict[str, Any] = {}
    for activation in ACTIVATIONS:
        try:
            runs[activation] = gradient_norms(student, activation, EXACT["depth"], width=EXACT["width"],
                                              seed=EXACT["seed"])
        except CheckFailed as exc:
            runs[activation] = exc
    return runs


def exact_run(exact_runs: dict[str, Any], activation: str) -> list[float]:
    run = exact_runs[activation]
    if isinstance(run, CheckFailed):
        raise run
    return run


@graded("deep_gradient_norms")
def test_deep_exact_construction(student, exact_runs):
    """builds exactly the contract's network (its last layers' norms are fixed whatever the batch)"""
    for activation in ACTIVATIONS:
        found = construction(exact_run(exact_runs, activation), activation)
        if isinstance(found, tuple) or not stream_model_holds() or own_activation_wrong(student, activation):
            continue  # where torch draws otherwise the check cannot tell; the student's own wrong activation is
            # charged to that activation
        fail(f"the last layers' gradient norms of {exact_call(activation)} are not those of the contract's network, "
             "whatever its batch" + (f": {found}" if found else "") + ". The contract fixes depth "
             "nn.Linear(width, width) layers (with bias) in their default initialization after "
             "torch.manual_seed(seed), each followed by the activation (nn.ReLU, nn.Sigmoid or nn.Tanh), one "
             "backward() of the output's sum, and each layer's layer.weight.grad.norm(), first layer first")


@graded("deep_gradient_norms")
def test_deep_sum_of_output(exact_runs):
    """backpropagates the sum of the output, not its mean"""
    width = EXACT["width"]
    for activation in ACTIVATIONS:
        found = construction(exact_run(exact_runs, activation), activation)
        if not isinstance(found, tuple):
            continue  # not the contract's network: charged to test_deep_exact_construction only
        scale = found[1]
        if round(scale) >= 1 and abs(scale - round(scale)) <= 1e-3 * max(1.0, scale):
            continue
        why = (f"they are 1/{width} of one example's, which is what backpropagating the mean of the output (over the "
               f"batch and its {width} columns) gives" if abs(scale * width - 1) <= 1e-3 else
               f"they are {scale:.3g} times one example's, not a whole number of examples' worth")
        fail(f"the gradient norms of {exact_call(activation)} are those of the contract's network scaled down: "
             f"{why}. Call backward() on the sum of the output, net(x).sum(), not on its mean")
