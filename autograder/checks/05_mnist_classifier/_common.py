"""Code that the hidden checks of 05_mnist_classifier share."""
import math

import torch

from autograder.check import randn
from autograder.harness.probes import build

MAX_PARAMETERS = 5_000_000  # of build_model's model


# Each name but test_accuracy is checked on objects the harness builds from the data of its checks
# (harness/assignments/05_mnist_classifier.py): models come from specs, never from the student's build_model, so a mistake is charged to
# one name.
def random_state(spec: list, seed: int, scale: float = 1.0) -> dict[str, torch.Tensor]:
    """A state dict for ``build(spec)``: default-init-sized random weights; BatchNorm statistics made non-trivial."""
    state = {}
    for i, (key, value) in enumerate(build(spec).state_dict().items()):
        if value.dtype == torch.int64:          # num_batches_tracked
            state[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[key] = 0.5 + torch.rand(value.shape, generator=torch.Generator().manual_seed(seed + i))
        else:
            fan_in = value[0].numel() if value.dim() > 1 else 4
            state[key] = randn(*value.shape, seed=seed + i, scale=scale / math.sqrt(fan_in))
    return state


def skewed_classes(n: int, c: int, seed: int) -> torch.Tensor:
    """``n`` class labels of ``0 .. c - 1``, class k drawn (k + 1) ** 2 times as often as class 0: uneven classes, so
    that a transposed confusion matrix differs from the right one."""
    weights = torch.arange(1, c + 1, dtype=torch.float64) ** 2
    return torch.multinomial(weights, n, replacement=True, generator=torch.Generator().manual_seed(seed))


def reference_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, c: int) -> torch.Tensor:
    cm = torch.zeros(c, c, dtype=torch.int64)
    return cm.index_put_((y_true, y_pred), torch.ones_like(y_true), accumulate=True)
