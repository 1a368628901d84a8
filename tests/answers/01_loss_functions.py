"""Answers for 01_loss_functions."""

_REGRESSION = '''
def {name}(pred, target, reduction="mean"):
{body}
'''


def _regression(name: str, body: str) -> str:
    return _REGRESSION.format(name=name, body=body)


_CHECKED = '''    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
'''

WRONG = {
    "mse_loss": {
        "sums instead of averaging": _regression("mse_loss", _CHECKED + '''    err = (pred - target) ** 2
    return err if reduction == "none" else err.sum()'''),
        "no ValueError for a bad reduction": _regression("mse_loss", '''    err = (pred - target) ** 2
    if reduction == "mean":
        return err.mean()
    if reduction == "sum":
        return err.sum()
    return err'''),
        "library shortcut through an alias": '''
from torch.nn.functional import mse_loss as _m

def mse_loss(pred, target, reduction="mean"):
    return _m(pred, target, reduction=reduction)
''',
        "detached graph": _regression("mse_loss", _CHECKED + '''    err = (pred.detach() - target) ** 2
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "root mean square": _regression("mse_loss", _CHECKED + '''    err = (pred - target) ** 2
    return {"mean": err.mean().sqrt(), "sum": err.sum(), "none": err}[reduction]'''),
        "squares in place": _regression("mse_loss", _CHECKED + '''    err = pred.sub_(target).pow_(2) if not pred.requires_grad else (pred - target) ** 2
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "squeezes its inputs": _regression("mse_loss", _CHECKED + '''    err = (pred.squeeze() - target.squeeze()) ** 2
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "expands the square": _regression("mse_loss", _CHECKED + '''    err = pred * pred - 2 * pred * target + target * target
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "reduction=None means no reduction": _regression("mse_loss", '''    err = (pred - target) ** 2
    if reduction is None or reduction == "none":
        return err
    if reduction == "mean":
        return err.mean()
    if reduction == "sum":
        return err.sum()
    raise ValueError(f"unknown reduction {reduction!r}")'''),
    },
    "mae_loss": {
        "forgets the absolute value": _regression("mae_loss", _CHECKED + '''    err = pred - target
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "squared error": _regression("mae_loss", _CHECKED + '''    err = (pred - target) ** 2
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "nn.L1Loss shortcut": _regression("mae_loss", '''    return torch.nn.L1Loss(reduction=reduction)(pred, target)'''),
        "mean over the batch dimension only": _regression("mae_loss", _CHECKED + '''    err = (pred - target).abs()
    return {"mean": err.mean(0), "sum": err.sum(), "none": err}[reduction]'''),
        "returns a Python float": _regression("mae_loss", _CHECKED + '''    err = (pred - target).abs()
    return {"mean": err.mean().item(), "sum": err.sum().item(), "none": err}[reduction]'''),
        "square root of the squared error": _regression("mae_loss", _CHECKED + '''    err = torch.sqrt((pred - target) ** 2)
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "reduction names in any case": _regression("mae_loss", '''    reduction = reduction.lower()
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    err = (pred - target).abs()
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "turns 1-D inputs into columns": _regression("mae_loss", _CHECKED + '''    if pred.dim() == 1:
        pred, target = pred[:, None], target[:, None]
    err = (pred - target).abs()
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
    },
    "log_softmax": {
        "naive exp overflows": '''
def log_softmax(logits, dim=-1):
    return logits - torch.log(torch.exp(logits).sum(dim=dim, keepdim=True))
''',
        "ignores dim": '''
def log_softmax(logits, dim=-1):
    return logits - torch.logsumexp(logits, dim=-1, keepdim=True)
''',
        "torch.softmax then log": '''
def log_softmax(logits, dim=-1):
    return torch.log(torch.softmax(logits, dim=dim))
''',
        "softmax without the log": '''
def log_softmax(logits, dim=-1):
    e = torch.exp(logits - logits.max(dim=dim, keepdim=True).values)
    return e / e.sum(dim=dim, keepdim=True)
''',
        "shortcut through torch.ops.aten": '''
def log_softmax(logits, dim=-1):
    return torch.ops.aten._log_softmax(logits, dim, False)
''',
        "subtracts the max in place": '''
def log_softmax(logits, dim=-1):
    logits -= logits.max(dim=dim, keepdim=True).values
    return logits - torch.log(torch.exp(logits).sum(dim=dim, keepdim=True))
''',
    },
    "cross_entropy_loss": {
        "sums over the batch": '''
def cross_entropy_loss(logits, targets):
    lse = torch.logsumexp(logits, dim=1)
    return (lse - logits[torch.arange(len(targets)), targets]).sum()
''',
        "naive exp overflows": '''
def cross_entropy_loss(logits, targets):
    p = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(p[torch.arange(len(targets)), targets]).mean()
''',
        "F.cross_entropy shortcut": '''
def cross_entropy_loss(logits, targets):
    return F.cross_entropy(logits, targets)
''',
        "forgets the minus sign": '''
def cross_entropy_loss(logits, targets):
    lse = torch.logsumexp(logits, dim=1)
    return (logits[torch.arange(len(targets)), targets] - lse).mean()
''',
        "nll_loss on its own log-softmax": '''
def cross_entropy_loss(logits, targets):
    lp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return F.nll_loss(lp, targets)
''',
        "detached logits": '''
def cross_entropy_loss(logits, targets):
    logits = logits.detach()
    lse = torch.logsumexp(logits, dim=1)
    return (lse - logits[torch.arange(len(targets)), targets]).mean()
''',
    },
    "binary_cross_entropy": {
        "missing the negative-class term": '''
def binary_cross_entropy(probs, targets):
    return -(targets * torch.log(probs)).mean()
''',
        "sums instead of averaging": '''
def binary_cross_entropy(probs, targets):
    return -(targets * torch.log(probs) + (1 - targets) * torch.log(1 - probs)).sum()
''',
        "clamps too aggressively": '''
def binary_cross_entropy(probs, targets):
    p = probs.clamp(1e-4, 1 - 1e-4)
    return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).mean()
''',
        "nn.BCELoss shortcut": '''
def binary_cross_entropy(probs, targets):
    return torch.nn.BCELoss()(probs, targets)
''',
        "keeps probabilities off 0 and 1 in place": '''
def binary_cross_entropy(probs, targets):
    probs.mul_(1 - 2e-7).add_(1e-7)
    return -(targets * torch.log(probs) + (1 - targets) * torch.log(1 - probs)).mean()
''',
        "picks one term by the hard label": '''
def binary_cross_entropy(probs, targets):
    return -torch.log(torch.where(targets == 1, probs, 1 - probs)).mean()
''',
        "masks with the targets as booleans": '''
def binary_cross_entropy(probs, targets):
    positive = targets.bool()
    total = -torch.log(probs[positive]).sum() - torch.log(1 - probs[~positive]).sum()
    return total / probs.numel()
''',
        "rounds the targets to 0 or 1": '''
def binary_cross_entropy(probs, targets):
    t = targets.round()
    return -(t * torch.log(probs) + (1 - t) * torch.log(1 - probs)).mean()
''',
    },
}

RIGHT = {
    "mse_loss": {
        "torch.mean of pow": _regression("mse_loss", '''    if reduction == "none":
        return (pred - target).pow(2)
    if reduction == "mean":
        return torch.mean((pred - target).pow(2))
    if reduction == "sum":
        return torch.sum((pred - target).pow(2))
    raise ValueError("unknown reduction " + reduction)'''),
        "torch.square, a sum over numel, match-case": _regression("mse_loss", '''    err = torch.square(pred - target)
    match reduction:
        case "none":
            return err
        case "sum":
            return err.sum()
        case "mean":
            return err.sum() / err.numel()
        case _:
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")'''),
    },
    "mae_loss": {
        "torch.maximum(d, -d)": _regression("mae_loss", _CHECKED + '''    d = pred - target
    err = torch.maximum(d, -d)
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "where(d < 0, -d, d): gradient 1 where pred equals target": _regression("mae_loss", _CHECKED + '''    d = pred - target
    err = torch.where(d < 0, -d, d)
    return {"mean": err.mean(), "sum": err.sum(), "none": err}[reduction]'''),
        "d * sign(d), reduced over every dim": _regression("mae_loss", _CHECKED + '''    d = pred - target
    err = d * torch.sign(d)
    if reduction == "none":
        return err
    dims = tuple(range(err.dim()))
    return err.mean(dim=dims) if reduction == "mean" else err.sum(dim=dims)'''),
    },
    "log_softmax": {
        "torch.logsumexp": '''
def log_softmax(logits, dim=-1):
    return logits - torch.logsumexp(logits, dim=dim, keepdim=True)
''',
    },
    "cross_entropy_loss": {
        "uses the student's own log_softmax": '''
def cross_entropy_loss(logits, targets):
    return -log_softmax(logits, dim=1).gather(1, targets[:, None]).mean()
''',
    },
    "binary_cross_entropy": {
        "log1p form": '''
def binary_cross_entropy(probs, targets):
    return -(targets * probs.log() + (1 - targets) * torch.log1p(-probs)).mean()
''',
        "torch.xlogy": '''
def binary_cross_entropy(probs, targets):
    return -(torch.xlogy(targets, probs) + torch.xlogy(1 - targets, 1 - probs)).mean()
''',
        "probabilities clamped to [1e-7, 1 - 1e-7]": '''
def binary_cross_entropy(probs, targets):
    p = probs.clamp(1e-7, 1 - 1e-7)
    loss = targets * torch.log(p) + (1 - targets) * torch.log(1 - p)
    return -loss.sum() / loss.numel()
''',
    },
}
