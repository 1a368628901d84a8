"""Answers for 06_hyperparameters.

Each wrong answer is one realistic mistake in one graded name's cell; the symptoms the checks name (no bias
correction, eps inside the square root, dampening, a velocity used before its update, inputs changed in place,
torch.optim used, the global random state changed, a log overwritten, ...) each have one.
"""


# each answer cell imports what it uses, whatever the notebook's set-up cell imports
_IMPORTS = "import copy\nimport itertools\nimport json\nimport math\nimport random\n\nimport numpy as np\nimport torch\n"


def _define(signature: str):
    """A function of one answer's body that returns the whole cell: the imports, ``def signature:`` and the body."""
    return lambda body: f"{_IMPORTS}\n\ndef {signature}:\n{body}\n"


_sgd = _define("sgd_momentum_step(param, grad, state, lr, momentum=0.9)")
_rmsprop = _define("rmsprop_step(param, grad, state, lr=1e-2, alpha=0.99, eps=1e-8)")
_adam = _define("adam_step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)")
_grid = _define("grid_search_configs(space)")
_random = _define("random_search_configs(space, n, seed=0)")
_run = _define("run_experiments(configs, train_and_evaluate, log_path)")
_best = _define('best_config(records, metric="val_accuracy", mode="max")')

_ADAM = '''    beta1, beta2 = betas
    if not state:
        state["step"] = 0
        state["m"] = torch.zeros_like(param)
        state["v"] = torch.zeros_like(param)
    state["step"] += 1
    t = state["step"]
    state["m"] = beta1 * state["m"] + (1 - beta1) * grad
    state["v"] = beta2 * state["v"] + (1 - beta2) * grad * grad
    m_hat = state["m"]{m_hat}
    v_hat = state["v"]{v_hat}
    return param - lr * m_hat / ({denom})'''


def _adam_with(m_hat: str = " / (1 - beta1 ** t)", v_hat: str = " / (1 - beta2 ** t)",
               denom: str = "v_hat.sqrt() + eps") -> str:
    return _adam(_ADAM.format(m_hat=m_hat, v_hat=v_hat, denom=denom))


_RMSPROP = '''    square_avg = state.get("square_avg", torch.zeros_like(param))
    square_avg = {average}
    state["square_avg"] = square_avg
    return param - lr * grad / ({denom})'''


def _rmsprop_with(average: str = "alpha * square_avg + (1 - alpha) * grad * grad",
                  denom: str = "square_avg.sqrt() + eps") -> str:
    return _rmsprop(_RMSPROP.format(average=average, denom=denom))


_LOG_UNIFORM = "math.exp(rng.uniform(math.log(spec[1]), math.log(spec[2])))"
_RANDOM = '''    rng = {rng}
    configs = []
    for _ in range(n):
        config = {{}}
        for key, spec in space.items():
            if isinstance(spec, list):
                config[key] = {choice}
            elif spec[0] == "log":
                config[key] = {log}
            else:
                config[key] = {integer}
        configs.append(config)
    return configs'''


def _random_with(rng: str = "random.Random(seed)", choice: str = "rng.choice(spec)", log: str = _LOG_UNIFORM,
                 integer: str = "rng.randint(spec[1], spec[2])") -> str:
    return _random(_RANDOM.format(rng=rng, choice=choice, log=log, integer=integer))


_RUN = '''    records = []
{open_once}    for config in configs:
        try:
            record = {{"config": config, "metrics": train_and_evaluate(config)}}
        except Exception as exc:
            record = {{"config": config, "error": {message}}}
{write}
        records.append(record)
    return records'''
_APPEND = '''        with open(log_path, "a") as f:
            f.write(json.dumps(record) + "\\n")'''


def _run_with(message: str = "str(exc)", write: str = _APPEND, open_once: str = "") -> str:
    return _run(_RUN.format(message=message, write=write, open_once=open_once))


_BEST = '''    best = None
    for record in records:
        if "error" in record:
            continue
        value = record["metrics"][metric]
        if best is None or {better}:
            best = (value, record)
    if best is None:
        raise ValueError("no record qualifies")
    return best[1]{part}'''


def _best_with(better: str = '(value > best[0] if mode == "max" else value < best[0])',
               part: str = '["config"]') -> str:
    return _best(_BEST.format(better=better, part=part))


_STOPPER = _IMPORTS + '''

class EarlyStopping:
    def __init__(self, patience=3, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch = {best}, None
        self.calls, self.bad = 0, 0

    def step(self, val_loss):
        if {improves}:
            self.best, self.best_epoch, self.bad = val_loss, self.calls{epoch}, 0
        else:
            self.bad += 1{else_}
        self.calls += 1
        return self.bad {stops} self.patience
'''


def _stopper(best: str = "math.inf", improves: str = "val_loss < self.best - self.min_delta", epoch: str = "",
             else_: str = "", stops: str = ">=") -> str:
    return _STOPPER.format(best=best, improves=improves, epoch=epoch, else_=else_, stops=stops)


_STATE = _IMPORTS + '''

def save_training_state(path, model, optimizer, epoch, config):
{save}


def load_training_state(path, model, optimizer):
{load}
'''
_SAVE = '''    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                "config": config}, path)'''
_LOAD = '''    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"], checkpoint["config"]'''


def _state(save: str = _SAVE, load: str = _LOAD) -> str:
    return _STATE.format(save=save, load=load)


WRONG = {
    "sgd_momentum_step": {
        "dampening applied to the velocity": _sgd('''    if "v" not in state:
        state["v"] = grad.clone()
    else:
        state["v"] = momentum * state["v"] + (1 - momentum) * grad
    return param - lr * state["v"]'''),
        "velocity used before it is updated": _sgd('''    v = state.get("v", torch.zeros_like(param))
    new_param = param - lr * v
    state["v"] = momentum * v + grad
    return new_param'''),
        "updates param in place": _sgd('''    if "v" not in state:
        state["v"] = grad.clone()
    else:
        state["v"] = momentum * state["v"] + grad
    param -= lr * state["v"]
    return param'''),
        "velocity aliases grad, then updated in place": _sgd('''    if "v" not in state:
        state["v"] = grad
    else:
        state["v"].mul_(momentum).add_(grad)
    return param - lr * state["v"]'''),
        "rebinds state instead of filling it": _sgd('''    if not state:
        state = {"v": grad.clone()}
    else:
        state["v"] = momentum * state["v"] + grad
    return param - lr * state["v"]'''),
        "torch.optim.SGD inside": _sgd('''    p = torch.nn.Parameter(param.clone())
    optimizer = torch.optim.SGD([p], lr=lr, momentum=momentum)
    if "buf" in state:
        optimizer.state[p]["momentum_buffer"] = state["buf"].clone()
    p.grad = grad.clone()
    optimizer.step()
    state["buf"] = optimizer.state[p]["momentum_buffer"].clone()
    return p.detach().clone()'''),
        "Nesterov momentum": _sgd('''    v = state.get("v")
    state["v"] = grad.clone() if v is None else momentum * v + grad
    return param - lr * (grad + momentum * state["v"])'''),
        "momentum hard-coded": _sgd('''    if "v" not in state:
        state["v"] = grad.clone()
    else:
        state["v"] = 0.9 * state["v"] + grad
    return param - lr * state["v"]'''),
    },
    "rmsprop_step": {
        "eps inside the square root": _rmsprop_with(denom="(square_avg + eps).sqrt()"),
        "no square root": _rmsprop_with(denom="square_avg + eps"),
        "alpha and 1 - alpha swapped": _rmsprop_with(average="(1 - alpha) * square_avg + alpha * grad * grad"),
        "running average kept in place on param's storage": _rmsprop('''    if "square_avg" not in state:
        state["square_avg"] = torch.zeros_like(param)
    state["square_avg"].mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
    return param.sub_(lr * grad / (state["square_avg"].sqrt() + eps))'''),
        "torch.optim.RMSprop inside": _rmsprop('''    p = torch.nn.Parameter(param.clone())
    optimizer = torch.optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps)
    if state:
        optimizer.state[p].update(step=state["step"].clone(), square_avg=state["square_avg"].clone())
    p.grad = grad.clone()
    optimizer.step()
    state["step"] = optimizer.state[p]["step"].clone()
    state["square_avg"] = optimizer.state[p]["square_avg"].clone()
    return p.detach().clone()'''),
        "running average in a global": _IMPORTS + '''
_square_avg = {}


def rmsprop_step(param, grad, state, lr=1e-2, alpha=0.99, eps=1e-8):
    key = tuple(param.shape)
    _square_avg[key] = alpha * _square_avg.get(key, torch.zeros_like(param)) + (1 - alpha) * grad * grad
    state["used"] = True
    return param - lr * grad / (_square_avg[key].sqrt() + eps)
''',
    },
    "adam_step": {
        "no bias correction": _adam_with(m_hat="", v_hat=""),
        "bias correction of m only": _adam_with(v_hat=""),
        "bias correction of v only": _adam_with(m_hat=""),
        "eps inside the square root": _adam_with(denom="(v_hat + eps).sqrt()"),
        "step count starts at 0": _adam('''    beta1, beta2 = betas
    t = state.get("t", 0)
    m = beta1 * state.get("m", torch.zeros_like(param)) + (1 - beta1) * grad
    v = beta2 * state.get("v", torch.zeros_like(param)) + (1 - beta2) * grad * grad
    state["t"], state["m"], state["v"] = t + 1, m, v
    return param - lr * (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt() + eps)'''),
        "step count in a global": _IMPORTS + '''
_t = 0


def adam_step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    global _t
    beta1, beta2 = betas
    _t += 1
    m = beta1 * state.get("m", torch.zeros_like(param)) + (1 - beta1) * grad
    v = beta2 * state.get("v", torch.zeros_like(param)) + (1 - beta2) * grad * grad
    state["m"], state["v"] = m, v
    return param - lr * (m / (1 - beta1 ** _t)) / ((v / (1 - beta2 ** _t)).sqrt() + eps)
''',
        "scales grad in place": _adam('''    beta1, beta2 = betas
    state["step"] = state.get("step", 0) + 1
    t = state["step"]
    v = beta2 * state.get("v", torch.zeros_like(param)) + (1 - beta2) * grad * grad
    grad.mul_(1 - beta1)
    m = beta1 * state.get("m", torch.zeros_like(param)) + grad
    state["m"], state["v"] = m, v
    return param - lr * (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt() + eps)'''),
        "torch.optim.Adam inside": _adam('''    p = torch.nn.Parameter(param.clone())
    optimizer = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps)
    if state:
        optimizer.state[p].update({k: v.clone() for k, v in state.items()})
    p.grad = grad.clone()
    optimizer.step()
    state.update({k: v.clone() for k, v in optimizer.state[p].items()})
    return p.detach().clone()'''),
    },
    "grid_search_configs": {
        "first key varies fastest": _grid('''    keys = list(space)[::-1]
    return [dict(reversed(list(zip(keys, values)))) for values in itertools.product(*(space[k] for k in keys))]'''),
        "keys sorted": _grid('''    keys = sorted(space)
    return [dict(zip(keys, values)) for values in itertools.product(*(space[k] for k in keys))]'''),
        "returns tuples": _grid('''    return list(itertools.product(*space.values()))'''),
        "returns a generator": _grid('''    keys = list(space)
    return (dict(zip(keys, values)) for values in itertools.product(*space.values()))'''),
        "one dict reused": _grid('''    config, configs = {}, []
    for values in itertools.product(*space.values()):
        config.update(zip(space, values))
        configs.append(config)
    return configs'''),
        "pops the space's keys": _grid('''    configs = [{}]
    while space:
        key, values = next(iter(space.items()))
        space.pop(key)
        configs = [{**c, key: v} for c in configs for v in values]
    return configs'''),
    },
    "random_search_configs": {
        "uniform, not log-uniform": _random_with(log="rng.uniform(spec[1], spec[2])"),
        "integer exponent": _random_with(
            log="10.0 ** rng.randint(round(math.log10(spec[1])), round(math.log10(spec[2])))"),
        "numpy randint excludes high": _random_with(
            rng="np.random.default_rng(seed)", choice="spec[int(rng.integers(len(spec)))]",
            log="float(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2]))))",
            integer="int(rng.integers(spec[1], spec[2]))"),
        "seeds the global generator": _random('''    random.seed(seed)
    configs = []
    for _ in range(n):
        config = {}
        for key, spec in space.items():
            if isinstance(spec, list):
                config[key] = random.choice(spec)
            elif spec[0] == "log":
                config[key] = math.exp(random.uniform(math.log(spec[1]), math.log(spec[2])))
            else:
                config[key] = random.randint(spec[1], spec[2])
        configs.append(config)
    return configs'''),
        "unseeded generator": _random_with(rng="random.Random()"),
        "rounded floats for integers": _random_with(integer="round(rng.uniform(spec[1], spec[2]))"),
        "last list entry never drawn": _random_with(choice="spec[rng.randrange(len(spec) - 1)]"),
    },
    "run_experiments": {
        "no try/except": _run('''    records = []
    for config in configs:
        record = {"config": config, "metrics": train_and_evaluate(config)}
        with open(log_path, "a") as f:
            f.write(json.dumps(record) + "\\n")
        records.append(record)
    return records'''),
        "log overwritten": _run_with(open_once='''    open(log_path, "w").close()
'''),
        "str(record), not JSON": _run_with(write='''        with open(log_path, "a") as f:
            f.write(str(record) + "\\n")'''),
        "error records not returned": _run('''    records = []
    for config in configs:
        try:
            record = {"config": config, "metrics": train_and_evaluate(config)}
            records.append(record)
        except Exception as exc:
            record = {"config": config, "error": str(exc)}
        with open(log_path, "a") as f:
            f.write(json.dumps(record) + "\\n")
    return records'''),
        "error record with metrics None": _run_with(message='str(exc), "metrics": None'),
        "metrics put into the config": _run('''    records = []
    for config in configs:
        try:
            config.update(train_and_evaluate(config))
            record = {"config": config, "metrics": {k: config[k] for k in ("val_accuracy", "val_loss")}}
        except Exception as exc:
            record = {"config": config, "error": str(exc)}
        with open(log_path, "a") as f:
            f.write(json.dumps(record) + "\\n")
        records.append(record)
    return records'''),
        "no newline after each line": _run_with(write='''        with open(log_path, "a") as f:
            f.write(json.dumps(record))'''),
    },
    "best_config": {
        "mode ignored": _best_with(better="value > best[0]"),
        "later record wins a tie": _best_with(better='(value >= best[0] if mode == "max" else value <= best[0])'),
        "returns the record": _best_with(part=""),
        "returns the best metric's value": _best('''    values = [r["metrics"][metric] for r in records if "error" not in r]
    if not values:
        raise ValueError("no record qualifies")
    return max(values) if mode == "max" else min(values)'''),
        "failed runs not left out": _best('''    key = lambda r: r["metrics"][metric]
    if not records:
        raise ValueError("no records")
    best = max(records, key=key) if mode == "max" else min(records, key=key)
    return best["config"]'''),
        "None when nothing qualifies": _best('''    ok = [r for r in records if "error" not in r]
    if not ok:
        return None
    key = lambda r: r["metrics"][metric]
    return (max(ok, key=key) if mode == "max" else min(ok, key=key))["config"]'''),
        "sorts the records in place": _best('''    records.sort(key=lambda r: r["metrics"][metric] if "error" not in r else float("nan"),
                 reverse=mode == "max")
    for r in records:
        if "error" not in r:
            return r["config"]
    raise ValueError("no record qualifies")'''),
    },
    "EarlyStopping": {
        "an equal loss improves": _stopper(improves="val_loss <= self.best - self.min_delta"),
        "best follows every lower loss": _stopper(else_='''
            self.best = min(self.best, val_loss)'''),
        "True only when the count equals patience": _stopper(stops="=="),
        "stops one call late": _stopper(stops=">"),
        "best_epoch 1-based": _stopper(epoch=" + 1"),
        "best starts at None": _IMPORTS + '''
class EarlyStopping:
    def __init__(self, patience=3, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch = None, None
        self.calls, self.bad = 0, 0

    def step(self, val_loss):
        if self.best is None or val_loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.bad = val_loss, self.calls, 0
        else:
            self.bad += 1
        self.calls += 1
        return self.bad >= self.patience
''',
        "min_delta ignored": _stopper(improves="val_loss < self.best"),
    },
    "training_state": {
        "model only": _state(save='''    torch.save({"model": model.state_dict(), "epoch": epoch, "config": config}, path)''',
                             load='''    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    return checkpoint["epoch"], checkpoint["config"]'''),
        "whole objects pickled": _state(
            save='''    torch.save({"model": model, "optimizer": optimizer, "epoch": epoch, "config": config}, path)''',
            load='''    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"].state_dict())
    optimizer.load_state_dict(checkpoint["optimizer"].state_dict())
    return checkpoint["epoch"], checkpoint["config"]'''),
        "returns (config, epoch)": _state(load=_LOAD.replace('checkpoint["epoch"], checkpoint["config"]',
                                                            'checkpoint["config"], checkpoint["epoch"]')),
        "loads into a new model": _state(load='''    checkpoint = torch.load(path, weights_only=True)
    model = copy.deepcopy(model)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"], checkpoint["config"]'''),
        "optimizer saved but never loaded": _state(load='''    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    return checkpoint["epoch"], checkpoint["config"]'''),
        "next epoch returned": _state(load=_LOAD.replace('return checkpoint["epoch"]', 'return checkpoint["epoch"] + 1')),
    },
}

RIGHT = {
    "sgd_momentum_step": {
        "lr folded into the velocity": _sgd('''    v = state.get("v")
    state["v"] = lr * grad if v is None else momentum * v + lr * grad
    return param - state["v"]'''),
        "in-place updates of its own buffer": _sgd('''    if "momentum_buffer" not in state:
        state["momentum_buffer"] = torch.clone(grad).detach()
    else:
        state["momentum_buffer"].mul_(momentum).add_(grad)
    return param.add(state["momentum_buffer"], alpha=-lr)'''),
    },
    "rmsprop_step": {
        "torch.optim's in-place form on a copy": _rmsprop('''    if "square_avg" not in state:
        state["step"] = 0
        state["square_avg"] = torch.zeros_like(param)
    state["step"] += 1
    state["square_avg"].mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
    avg = state["square_avg"].sqrt().add_(eps)
    return param.addcdiv(grad, avg, value=-lr)'''),
        "lerp and torch.sqrt": _rmsprop_with(average="torch.lerp(square_avg, grad ** 2, 1 - alpha)",
                                             denom="torch.sqrt(square_avg) + eps"),
    },
    "adam_step": {
        "torch.optim's step size and denominator": _adam('''    beta1, beta2 = betas
    if "step" not in state:
        state["step"] = torch.tensor(0.0)
        state["exp_avg"] = torch.zeros_like(param)
        state["exp_avg_sq"] = torch.zeros_like(param)
    state["step"] = state["step"] + 1
    t = state["step"].item()
    state["exp_avg"] = state["exp_avg"].lerp(grad, 1 - beta1)
    state["exp_avg_sq"] = state["exp_avg_sq"] * beta2 + (1 - beta2) * grad * grad
    step_size = lr / (1 - beta1 ** t)
    denom = state["exp_avg_sq"].sqrt() / math.sqrt(1 - beta2 ** t) + eps
    return param - step_size * state["exp_avg"] / denom'''),
        "state.setdefault": _adam('''    b1, b2 = betas
    t = state["t"] = state.setdefault("t", 0) + 1
    m = state["m"] = b1 * state.setdefault("m", torch.zeros_like(param)) + (1 - b1) * grad
    v = state["v"] = b2 * state.setdefault("v", torch.zeros_like(param)) + (1 - b2) * grad.pow(2)
    return param - lr * (m / (1 - b1 ** t)) / (torch.sqrt(v / (1 - b2 ** t)) + eps)'''),
    },
    "grid_search_configs": {
        "recursion": _grid('''    keys = list(space)
    if not keys:
        return [{}]
    first, rest = keys[0], {k: space[k] for k in keys[1:]}
    return [{first: value, **tail} for value in space[first] for tail in grid_search_configs(rest)]'''),
        "product of items": _grid('''    names, values = zip(*space.items())
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]'''),
    },
    "random_search_configs": {
        "numpy Generator": _random_with(
            rng="np.random.default_rng(seed)", choice="spec[int(rng.integers(len(spec)))]",
            log="float(10 ** rng.uniform(np.log10(spec[1]), np.log10(spec[2])))",
            integer="int(rng.integers(spec[1], spec[2] + 1))"),
        "torch Generator": _random_with(
            rng="torch.Generator().manual_seed(seed)",
            choice="spec[int(torch.randint(len(spec), (1,), generator=rng))]",
            log="math.exp(math.log(spec[1]) + (math.log(spec[2]) - math.log(spec[1])) * "
                "torch.rand(1, generator=rng, dtype=torch.float64).item())",
            integer="int(torch.randint(spec[1], spec[2] + 1, (1,), generator=rng))"),
    },
    "run_experiments": {
        "file opened once, type in the message": _run_with(
            message='f"{type(exc).__name__}: {exc}"', open_once='''    log = open(log_path, "a")
''', write='''        log.write(json.dumps(record) + "\\n")
        log.flush()'''),
        "records built first, written at the end": _run('''    records = []
    for config in configs:
        try:
            metrics = train_and_evaluate(config)
        except Exception as exc:
            records.append({"config": config, "error": repr(exc)})
            continue
        records.append({"config": config, "metrics": metrics})
    with open(log_path, "a") as f:
        for record in records:
            print(json.dumps(record), file=f)
    return records'''),
    },
    "best_config": {
        "max with a key over enumerate": _best('''    ok = [(i, r) for i, r in enumerate(records) if "error" not in r]
    if not ok:
        raise ValueError("every run failed")
    sign = 1 if mode == "max" else -1
    return max(ok, key=lambda ir: (sign * ir[1]["metrics"][metric], -ir[0]))[1]["config"]'''),
        "stable sort of a copy": _best('''    ok = [r for r in records if "error" not in r]
    if not ok:
        raise ValueError("no successful run")
    ranked = sorted(ok, key=lambda r: r["metrics"][metric] * (-1 if mode == "max" else 1))
    return ranked[0]["config"]'''),
    },
    "EarlyStopping": {
        "improvement measured from best": _IMPORTS + '''
class EarlyStopping:
    def __init__(self, patience=3, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("inf")
        self.best_epoch = None
        self.epoch = -1
        self.wait = 0

    def step(self, val_loss):
        self.epoch += 1
        if self.best - val_loss > self.min_delta:
            self.best = val_loss
            self.best_epoch = self.epoch
            self.wait = 0
            return False
        self.wait += 1
        return self.wait >= self.patience
''',
        "history of losses": _IMPORTS + '''
class EarlyStopping:
    def __init__(self, patience=3, min_delta=0.0):
        self.patience, self.min_delta, self.history = patience, min_delta, []
        self.best, self.best_epoch = math.inf, None

    def step(self, val_loss):
        self.history.append(val_loss)
        if val_loss < self.best - self.min_delta:
            self.best, self.best_epoch = val_loss, len(self.history) - 1
        return len(self.history) - 1 - self.best_epoch >= self.patience
''',
    },
    "training_state": {
        "Lightning-style keys": _state(save='''    checkpoint = {"epoch": epoch, "hyper_parameters": dict(config),
                  "state_dict": model.state_dict(), "optimizer_states": [optimizer.state_dict()]}
    torch.save(checkpoint, path)''', load='''    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_states"][0])
    return (checkpoint["epoch"], checkpoint["hyper_parameters"])'''),
        "deep copies of the state dicts": _state(save='''    torch.save({"model_state_dict": copy.deepcopy(model.state_dict()),
                "optimizer_state_dict": copy.deepcopy(optimizer.state_dict()),
                "epoch": int(epoch), "config": config}, path)''', load='''    saved = torch.load(path, weights_only=True)
    model.load_state_dict(saved["model_state_dict"])
    optimizer.load_state_dict(saved["optimizer_state_dict"])
    return saved["epoch"], saved["config"]'''),
    },
}
