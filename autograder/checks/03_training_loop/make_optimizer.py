"""The hidden checks of make_optimizer."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from autograder.check import StudentRaised, a_class, expect_close, fail, graded, randn
from autograder.harness.functions import FUNCTIONS, function

OPTIMIZERS = {"sgd": (torch.optim.SGD, {}), "momentum": (torch.optim.SGD, {"momentum": 0.9}),
              "rmsprop": (torch.optim.RMSprop, {}), "adam": (torch.optim.Adam, {})}
KINDS = [("sgd", "torch.optim.SGD without momentum"), ("momentum", "torch.optim.SGD with momentum=0.9"),
         ("rmsprop", "torch.optim.RMSprop with its default settings"),
         ("adam", "torch.optim.Adam with its default settings")]
LR, STEPS, LOSS = 0.03, 5, "quartic"
START = randn(4, seed=4)


def reference_path(kind: str) -> torch.Tensor:
    """The parameter after each of ``STEPS`` steps of torch's own optimizer on ``LOSS``."""
    cls, settings = OPTIMIZERS[kind]
    param = nn.Parameter(START.clone())
    optimizer = cls([param], lr=LR, **settings)
    path = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        FUNCTIONS[LOSS](param).backward()
        optimizer.step()
        path.append(param.detach().clone())
    return torch.stack(path)


def optimizer_steps(student, kind: str, steps: int = STEPS) -> dict:
    """make_optimizer(kind, params, lr) in the sandbox, ``params`` a generator: its settings and ``steps`` steps."""
    return student.probe("optimizer_steps", "make_optimizer", kind=kind, lr=LR, start=START, loss=function(LOSS),
                         steps=steps)


@pytest.mark.parametrize("kind,description", KINDS, ids=[k for k, _ in KINDS])
@graded("make_optimizer")
def test_optimizer_kind(student, kind, description):
    """{kind!r} builds {description}"""
    call = f"make_optimizer({kind!r}, params, lr={LR})"
    try:
        data = optimizer_steps(student, kind)
    except StudentRaised as exc:
        if "empty parameter list" in str(exc):
            fail(f"{exc}: params may be a generator such as model.parameters(), which can be read only once; "
                 "build only the optimizer that name asks for")
        raise
    cls, settings = OPTIMIZERS[kind]
    if data["class"] != cls.__name__:
        fail(f"{call} returned {a_class(data['class'])}, expected {description}")
    if data["given"] != [[True]]:
        fail(f"{call} does not optimise exactly the params it is given: pass params straight to the optimizer "
             "(they may be a generator such as model.parameters(), which can be read only once)")
    group = data["groups"][0]
    for key, value in cls([nn.Parameter(START.clone())], lr=LR, **settings).param_groups[0].items():
        if key != "params" and group.get(key) != value:
            fail(f"{call} has {key}={group.get(key)!r}: " +
                 ("pass lr on to the optimizer" if key == "lr" else f"{kind!r} means {description}"))
    expect_close(torch.stack(data["path"]), reference_path(kind), rtol=1e-5, atol=1e-6,
                 what=f"the parameters after each of {STEPS} steps of {call}")


@graded("make_optimizer")
def test_optimizer_unknown_name(student):
    """raises ValueError for an unknown name"""
    for kind in ("adagrad", "nesterov"):
        try:
            data = optimizer_steps(student, kind, steps=0)
        except StudentRaised as exc:
            if exc.exc_type != "ValueError":
                fail(f"make_optimizer({kind!r}, params, lr) should raise ValueError; instead: {exc}")
        else:
            fail(f"make_optimizer({kind!r}, params, lr) returned {a_class(data['class'])}: raise ValueError for any "
                 "name other than 'sgd', 'momentum', 'rmsprop' or 'adam'")
