"""Code that the hidden checks of 06_hyperparameters share: the optimizer references and their common mistakes,
and the run of a student's *_step function in the sandbox."""
from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import nn

from autograder.check import StudentRaised, a_kind, fail, randn
from autograder.harness.values import Opaque

RTOL, ATOL = 1e-5, 1e-6  # the contract's torch.allclose tolerances
# what running torch.optim's optimizers calls (their step's functional form, their set-up), by op_name
OPTIM = ("adam", "single_tensor_adam", "multi_tensor_adam", "fused_adam", "adamw", "sgd", "single_tensor_sgd",
         "multi_tensor_sgd", "rmsprop", "single_tensor_rmsprop", "multi_tensor_rmsprop", "init_group",
         "add_param_group")
SHAPES = ((5, 3), (2, 7))  # non-square, so that a transposed state or result cannot pass
STEPS, SPLIT = 12, 4       # steps in a run; a resumed run starts from the state the first SPLIT steps left


def grads(shape: tuple, seed: int, n: int = STEPS, scale: float = 1.0) -> list[torch.Tensor]:
    """``n`` gradients of ``shape``, of varying sizes around ``scale``, a few entries exactly 0."""
    out = []
    for i in range(n):
        g = randn(*shape, seed=seed + i, scale=scale * (0.5 + (i % 3) * 0.5))
        g[0, i % shape[1]] = 0.0
        out.append(g)
    return out


def torch_path(kind: str, param: torch.Tensor, gs: list[torch.Tensor], **hp: Any) -> torch.Tensor:
    """The parameter after each step of torch.optim's ``kind`` over the gradients ``gs``, stacked."""
    p = nn.Parameter(param.clone())
    optimizer = {"sgd": lambda: torch.optim.SGD([p], lr=hp["lr"], momentum=hp.get("momentum", 0.9)),
                 "rmsprop": lambda: torch.optim.RMSprop([p], **hp),
                 "adam": lambda: torch.optim.Adam([p], **hp)}[kind]()
    path = []
    for g in gs:
        p.grad = g.clone()
        optimizer.step()
        path.append(p.detach().clone())
    return torch.stack(path)


def _path(step: Callable, param: torch.Tensor, gs: list[torch.Tensor]) -> torch.Tensor:
    """The parameter after each step of ``step(p, g, state, t)`` (a mistake, in float64), stacked, in float32."""
    p, state, path = param.double(), {}, []
    for t, g in enumerate(gs, start=1):
        p = step(p, g.double(), state, t)
        path.append(p.float())
    return torch.stack(path)


def sgd_mistakes(param: torch.Tensor, gs: list[torch.Tensor], lr: float, momentum: float) -> dict[str, torch.Tensor]:
    def velocity(first: Callable, later: Callable, use_old: bool = False, nesterov: bool = False) -> Callable:
        def step(p, g, state, t):
            old = state.get("v")
            state["v"] = first(g) if old is None else later(old, g)
            if use_old:
                return p - lr * (old if old is not None else torch.zeros_like(g))
            return p - lr * (g + momentum * state["v"] if nesterov else state["v"])
        return step

    plain = lambda v, g: momentum * v + g  # noqa: E731
    damped = lambda v, g: momentum * v + (1 - momentum) * g  # noqa: E731
    return {
        "it looks like dampening was applied (v = momentum * v + (1 - momentum) * grad); torch.optim.SGD's "
        "default, dampening=0, adds the whole gradient: v = momentum * v + grad":
            _path(velocity(lambda g: g, damped), param, gs),
        "it looks like dampening was applied to the velocity from the first step on (v = (1 - momentum) * grad, "
        "then v = momentum * v + (1 - momentum) * grad); the velocity starts as the first gradient and then "
        "v = momentum * v + grad":
            _path(velocity(lambda g: (1 - momentum) * g, damped), param, gs),
        "it looks like the parameter was moved with the velocity of the previous step: update the velocity "
        "first, then step with the new one":
            _path(velocity(lambda g: g, plain, use_old=True), param, gs),
        "it looks like Nesterov momentum (param - lr * (grad + momentum * v)); the plain momentum step is "
        "param - lr * v": _path(velocity(lambda g: g, plain, nesterov=True), param, gs),
        "it looks like the momentum term was left out (plain SGD): keep the velocity in state from call to call":
            _path(velocity(lambda g: g, lambda v, g: g), param, gs),
    }


def rmsprop_mistakes(param: torch.Tensor, gs: list[torch.Tensor], lr: float, alpha: float,
                     eps: float) -> dict[str, torch.Tensor]:
    def rmsprop(avg: Callable, denom: Callable, first: Callable | None = None) -> Callable:
        def step(p, g, state, t):
            state["v"] = first(g) if first and "v" not in state else avg(state.get("v", torch.zeros_like(g)), g)
            return p - lr * g / denom(state["v"])
        return step

    ema = lambda v, g: alpha * v + (1 - alpha) * g * g  # noqa: E731
    return {
        "it looks like eps was added inside the square root (sqrt(v + eps)); torch.optim.RMSprop adds it to the "
        "square root: sqrt(v) + eps": _path(rmsprop(ema, lambda v: (v + eps).sqrt()), param, gs),
        "it looks like the square root of the running average was left out: divide by sqrt(v) + eps":
            _path(rmsprop(ema, lambda v: v + eps), param, gs),
        "it looks like alpha and 1 - alpha were swapped: v = alpha * v + (1 - alpha) * grad ** 2":
            _path(rmsprop(lambda v, g: (1 - alpha) * v + alpha * g * g, lambda v: v.sqrt() + eps), param, gs),
        "it looks like the running average started at the first squared gradient; torch.optim.RMSprop starts it "
        "at zeros": _path(rmsprop(ema, lambda v: v.sqrt() + eps, first=lambda g: g * g), param, gs),
    }


def adam_mistakes(param: torch.Tensor, gs: list[torch.Tensor], lr: float, betas: tuple[float, float],
                  eps: float) -> dict[str, torch.Tensor]:
    b1, b2 = betas

    def adam(correct_m: bool = True, correct_v: bool = True, inside: bool = False, swap: bool = False) -> Callable:
        def step(p, g, state, t):
            m, v = state.get("m", torch.zeros_like(g)), state.get("v", torch.zeros_like(g))
            c1, c2 = (b2, b1) if swap else (b1, b2)
            state["m"], state["v"] = c1 * m + (1 - c1) * g, c2 * v + (1 - c2) * g * g
            m_hat = state["m"] / (1 - b1 ** t) if correct_m else state["m"]
            v_hat = state["v"] / (1 - b2 ** t) if correct_v else state["v"]
            return p - lr * m_hat / ((v_hat + eps).sqrt() if inside else v_hat.sqrt() + eps)
        return step

    return {
        "it looks like there is no bias correction: divide m by 1 - beta1 ** t and v by 1 - beta2 ** t, t being "
        "the number of steps taken so far, this one included": _path(adam(False, False), param, gs),
        "it looks like only the first moment m was bias-corrected: divide v by 1 - beta2 ** t too":
            _path(adam(True, False), param, gs),
        "it looks like only the second moment v was bias-corrected: divide m by 1 - beta1 ** t too":
            _path(adam(False, True), param, gs),
        "it looks like eps was added inside the square root (sqrt(v_hat + eps)); torch.optim.Adam adds it to the "
        "square root: sqrt(v_hat) + eps": _path(adam(inside=True), param, gs),
        "it looks like beta1 and beta2 were swapped: m averages the gradients with beta1, v their squares with "
        "beta2": _path(adam(swap=True), param, gs),
    }


REFERENCES = {"sgd_momentum_step": "sgd", "rmsprop_step": "rmsprop", "adam_step": "adam"}
OPTIMIZER_NAMES = {"sgd_momentum_step": "torch.optim.SGD(momentum=...)", "rmsprop_step": "torch.optim.RMSprop",
                   "adam_step": "torch.optim.Adam"}


def mistakes_of(name: str, param: torch.Tensor, gs: list[torch.Tensor], hp: dict) -> dict[str, torch.Tensor]:
    if name == "sgd_momentum_step":
        return sgd_mistakes(param, gs, hp["lr"], hp.get("momentum", 0.9))
    if name == "rmsprop_step":
        return rmsprop_mistakes(param, gs, hp.get("lr", 1e-2), hp.get("alpha", 0.99), hp.get("eps", 1e-8))
    return adam_mistakes(param, gs, hp.get("lr", 1e-3), hp.get("betas", (0.9, 0.999)), hp.get("eps", 1e-8))


def _opaque_in(value: Any) -> Opaque | None:
    if isinstance(value, Opaque):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return next((o for o in map(_opaque_in, items) if o is not None), None)


def run(student, name: str, param: torch.Tensor, gs: list[torch.Tensor], state: dict, hp: dict,
        what: str) -> dict:
    """The ``steps`` probe's report of ``name`` over ``gs`` from ``state``; fails where it raised, returned
    something other than a tensor, or left ``state`` unusable."""
    try:
        report = student.probe("steps", name, param=param, grads=gs, state=state, kwargs=hp)
    except StudentRaised as exc:
        fail(f"{exc} ({what})" if exc.exc_type != "NotImplementedError" else str(exc))
    if report["returned"] is not None:
        fail(f"{name} returned {a_kind(report['returned'])} at step {len(report['params']) + 1} ({what}), expected "
             "the new parameter tensor: return it")
    if report["state"] is None:
        fail(f"state is {a_kind(report['state_type'])} after {name}'s calls: keep it a dict")
    if not report["state"]:
        fail(f"the state dict is still empty after {len(gs)} calls of {name} ({what}): store what the optimizer "
             "keeps between steps in the dict you are given (state['...'] = ...), do not make a new dict")
    opaque = _opaque_in(report["state"])
    if opaque is not None:
        fail(f"{name} keeps {opaque} in state: keep only tensors and numbers there (a from-scratch optimizer's "
             "running values)")
    return report


def expect_path(name: str, value: list, expected: torch.Tensor, mistakes: dict[str, torch.Tensor], what: str,
                first: int = 0) -> None:
    """The parameters after each step (``value``) agree with ``expected`` (stacked, one row per step); else name
    the matching mistake (whose paths start ``first`` steps earlier) or the first step that differs."""
    for i, (got, want) in enumerate(zip(value, expected)):
        if not isinstance(got, torch.Tensor) or got.shape != want.shape or got.dtype != want.dtype:
            fail(f"{name} returned {'a tensor of shape ' + str(tuple(got.shape)) + ' and dtype ' + str(got.dtype)} "
                 f"at step {first + i + 1} ({what}), expected one shaped like param, of its dtype "
                 f"({tuple(want.shape)}, {want.dtype})")
    got = torch.stack(value)
    if not torch.isfinite(got).all():
        fail(f"{name} returned NaN or infinite values ({what}): look for a division by zero (eps in the "
             "denominator, bias correction with t = 0)")
    if torch.allclose(got, expected, rtol=RTOL, atol=ATOL):
        return
    for diagnosis, wrong in mistakes.items():
        if torch.allclose(got, wrong[first:first + len(got)], rtol=RTOL, atol=ATOL):
            fail(f"the parameters {name} returned ({what}) differ from {OPTIMIZER_NAMES[name]}'s: {diagnosis}")
    bad = next(i for i in range(len(got)) if not torch.allclose(got[i], expected[i], rtol=RTOL, atol=ATOL))
    err = (got[bad].double() - expected[bad].double()).abs().max().item()
    fail(f"the parameters {name} returned ({what}) differ from {OPTIMIZER_NAMES[name]}'s from step {first + bad + 1} "
         f"on (largest error there {err:.1e}, allowed {ATOL:.0e} + {RTOL:.0e} x |expected|); note that every run "
         "starts from state={}: keep everything that carries over between steps in state, nothing in globals")


def check_run(student, name: str, hp: dict, seed: int, shape: tuple = SHAPES[0], scale: float = 1.0,
              what: str = "", resumed: bool = False) -> None:
    """``STEPS`` steps of ``name`` with hyperparameters ``hp`` agree with torch.optim's, in one run from an empty
    state, or (``resumed``) in a run from the state that the student's own first ``SPLIT`` steps left."""
    param, gs = randn(*shape, seed=seed), grads(shape, seed + 1, scale=scale)
    expected = torch_path(REFERENCES[name], param, gs, **hp)
    mistakes = mistakes_of(name, param, gs, hp)
    if not resumed:
        report = run(student, name, param, gs, {}, hp, what)
        expect_path(name, report["params"], expected, mistakes, what)
        return
    first = run(student, name, param, gs[:SPLIT], {}, hp, what)
    expect_path(name, first["params"], expected[:SPLIT], mistakes, what)
    later = run(student, name, first["params"][-1], gs[SPLIT:], first["state"], hp,
                f"{what}, resumed after {SPLIT} steps from the state dict those steps left")
    expect_path(name, later["params"], expected[SPLIT:], mistakes,
                f"{what}, resumed after {SPLIT} steps from the state dict those steps left", first=SPLIT)


def expect_inputs_kept(student, name: str, hp: dict, seed: int) -> None:
    param = randn(*SHAPES[1], seed=seed)
    report = run(student, name, param, grads(SHAPES[1], seed + 1), {}, hp, "checking its inputs")
    if report["changed_param"] is not None:
        fail(f"{name} changed param in place (at step {report['changed_param'] + 1}): return a new tensor "
             "(new = param - ...), and avoid -=, [...] = and methods ending in _ on param")
    if report["changed_grad"] is not None:
        fail(f"{name} changed a grad tensor it was given (by step {report['changed_grad'] + 1}): if state keeps "
             "the gradient itself, later in-place updates of that state change the caller's gradient; store "
             "grad.clone() or compute new tensors instead of updating in place")


def expect_from_scratch(student, name: str, hp: dict, seed: int) -> None:
    """Two calls under the watch: from an empty state, then from the state the first left."""
    param, (g1, g2) = randn(*SHAPES[0], seed=seed), grads(SHAPES[0], seed + 1, n=2)
    first = student.call(name, param, g1, {}, forbid=OPTIM, **hp)
    if isinstance(first.value, torch.Tensor) and isinstance(first.args_after[2], dict) and \
            _opaque_in(first.args_after[2]) is None:
        student.call(name, first.value, g2, first.args_after[2], forbid=OPTIM, **hp)


def numbers(value: Any) -> bool:
    return type(value) in (int, float)


def is_int(value: Any) -> bool:
    return type(value) is int


LOG10 = math.log10
