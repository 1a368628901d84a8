"""Answers for 04_activations."""

_DEEP = '''
def deep_gradient_norms(activation, depth, width=64, seed=0):
    activations = {{"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}}
    if activation not in activations:
        raise ValueError(activation)
{body}
'''


def _deep(body: str) -> str:
    return _DEEP.format(body=body)


_PLOT = '''
def plot_activations(x):
{body}
'''


def _plot(body: str) -> str:
    return _PLOT.format(body=body)


WRONG = {
    "relu": {
        "F.relu through an import alias": '''
from torch.nn.functional import relu as _relu

def relu(x):
    return _relu(x)
''',
        "torch.threshold": '''
def relu(x):
    return torch.threshold(x, 0.0, 0.0)
''',
        "zeroes negatives in place": '''
def relu(x):
    x[x < 0] = 0
    return x
''',
        "absolute value": '''
def relu(x):
    return torch.abs(x)
''',
        "always float32": '''
def relu(x):
    return torch.clamp(x.float(), min=0)
''',
    },
    "sigmoid": {
        "exp(x) / (1 + exp(x)) overflows": '''
def sigmoid(x):
    e = torch.exp(x)
    return e / (1 + e)
''',
        "torch.sigmoid through an import alias": '''
from torch import sigmoid as _sigmoid

def sigmoid(x):
    return _sigmoid(x)
''',
        "x.sigmoid()": '''
def sigmoid(x):
    return x.sigmoid()
''',
        "torch.special.expit": '''
def sigmoid(x):
    return torch.special.expit(x)
''',
        "nn.Sigmoid module": '''
def sigmoid(x):
    return nn.Sigmoid()(x)
''',
        "always float32": '''
def sigmoid(x):
    x = x.float()
    z = torch.exp(-torch.abs(x))
    return torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
''',
        "negates x in place": '''
def sigmoid(x):
    return 1 / (1 + torch.exp(x.neg_()))
''',
    },
    "tanh": {
        "textbook formula overflows": '''
def tanh(x):
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))
''',
        "torch.ops.aten.tanh": '''
def tanh(x):
    return torch.ops.aten.tanh(x)
''',
        "np.tanh on the tensor": '''
def tanh(x):
    return np.tanh(x)
''',
        "factor 2 missing": '''
def tanh(x):
    z = torch.exp(-torch.abs(x))
    s = torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return 2 * s - 1
''',
        "always float32": '''
def tanh(x):
    t = torch.exp(-2 * torch.abs(x.float()))
    r = (1 - t) / (1 + t)
    return torch.where(x >= 0, r, -r)
''',
        "takes |x| in place": '''
def tanh(x):
    t = torch.exp(-2 * x.abs_())
    r = (1 - t) / (1 + t)
    return torch.where(x >= 0, r, -r)
''',
    },
    "relu_grad": {
        "1 at 0": '''
def relu_grad(x):
    return (x >= 0).to(x.dtype)
''',
        "returns a bool tensor": '''
def relu_grad(x):
    return x > 0
''',
        "sign of x": '''
def relu_grad(x):
    return torch.sign(x)
''',
        "autograd through torch.relu": '''
def relu_grad(x):
    x = x.detach().clone().requires_grad_(True)
    torch.relu(x).sum().backward()
    return x.grad
''',
        "aten threshold_backward": '''
def relu_grad(x):
    return torch.ops.aten.threshold_backward(torch.ones_like(x), x, 0.0)
''',
        "builds the mask in x": '''
def relu_grad(x):
    x[x > 0] = 1
    x[x <= 0] = 0
    return x
''',
    },
    "sigmoid_grad": {
        "s * (1 + s)": '''
def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 + s)
''',
        "textbook formula overflows": '''
def sigmoid_grad(x):
    return torch.exp(-x) / (1 + torch.exp(-x)) ** 2
''',
        "autograd through torch.sigmoid": '''
def sigmoid_grad(x):
    x = x.detach().clone().requires_grad_(True)
    torch.sigmoid(x).sum().backward()
    return x.grad
''',
        "autograd.grad on its own sigmoid": '''
def sigmoid_grad(x):
    x = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad(sigmoid(x).sum(), x)[0]
''',
        "aten sigmoid_backward": '''
def sigmoid_grad(x):
    return torch.ops.aten.sigmoid_backward(torch.ones_like(x), sigmoid(x))
''',
        "stores s in x": '''
def sigmoid_grad(x):
    x.copy_(sigmoid(x))
    return x * (1 - x)
''',
    },
    "tanh_grad": {
        "1 - x**2": '''
def tanh_grad(x):
    return 1 - x ** 2
''',
        "textbook formula overflows": '''
def tanh_grad(x):
    t = (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))
    return 1 - t ** 2
''',
        "autograd.grad through torch.tanh": '''
def tanh_grad(x):
    x = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad(torch.tanh(x).sum(), x)[0]
''',
        "aten tanh_backward": '''
def tanh_grad(x):
    return torch.ops.aten.tanh_backward(torch.ones_like(x), tanh(x))
''',
        "forward-mode autograd on its own tanh": '''
def tanh_grad(x):
    import torch.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        out = tanh(fwAD.make_dual(x, torch.ones_like(x)))
        return fwAD.unpack_dual(out).tangent
''',
        "stores tanh in x": '''
def tanh_grad(x):
    x.copy_(tanh(x))
    return 1 - x * x
''',
    },
    "plot_activations": {
        "returns the axes": _plot('''    fig, ax = plt.subplots()
    for f, label in [(relu, "ReLU"), (sigmoid, "Sigmoid"), (tanh, "Tanh")]:
        ax.plot(x.numpy(), f(x).numpy(), label=label)
    ax.legend()
    return ax'''),
        "one axes per activation": _plot('''    fig, axes = plt.subplots(1, 3)
    for ax, f, label in zip(axes, [relu, sigmoid, tanh], ["ReLU", "Sigmoid", "Tanh"]):
        ax.plot(x.numpy(), f(x).numpy(), label=label)
        ax.legend()
    return fig'''),
        "forgets tanh": _plot('''    fig, ax = plt.subplots()
    ax.plot(x.numpy(), relu(x).numpy(), label="ReLU")
    ax.plot(x.numpy(), sigmoid(x).numpy(), label="Sigmoid")
    ax.legend()
    return fig'''),
        "labels with (x)": _plot('''    fig, ax = plt.subplots()
    for f, label in [(relu, "relu(x)"), (sigmoid, "sigmoid(x)"), (tanh, "tanh(x)")]:
        ax.plot(x.numpy(), f(x).numpy(), label=label)
    ax.legend()
    return fig'''),
        "extra axhline": _plot('''    fig, ax = plt.subplots()
    for f, label in [(relu, "ReLU"), (sigmoid, "Sigmoid"), (tanh, "Tanh")]:
        ax.plot(x.numpy(), f(x).numpy(), label=label)
    ax.axhline(0, color="gray")
    ax.legend()
    return fig'''),
        "plots over its own x": _plot('''    xs = torch.linspace(-5, 5, 101)
    fig, ax = plt.subplots()
    for f, label in [(torch.relu, "ReLU"), (torch.sigmoid, "Sigmoid"), (torch.tanh, "Tanh")]:
        ax.plot(xs.numpy(), f(xs).numpy(), label=label)
    ax.legend()
    return fig'''),
        "plots the derivatives": _plot('''    fig, ax = plt.subplots()
    for f, label in [(relu_grad, "ReLU"), (sigmoid_grad, "Sigmoid"), (tanh_grad, "Tanh")]:
        ax.plot(x.numpy(), f(x).numpy(), label=label)
    ax.legend()
    return fig'''),
        "forgets the legend": _plot('''    fig, ax = plt.subplots()
    for f, label in [(relu, "ReLU"), (sigmoid, "Sigmoid"), (tanh, "Tanh")]:
        ax.plot(x.numpy(), f(x).numpy(), label=label)
    return fig'''),
    },
    "deep_gradient_norms": {
        "last layer first": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in reversed(layers)]'''),
        "always relu": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, nn.ReLU())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "always sigmoid": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, nn.Sigmoid())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "weight norms": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.norm().item() for layer in layers]'''),
        "no seed": _deep('''    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "fixed seed 0": _deep('''    torch.manual_seed(0)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "tensors instead of floats": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm() for layer in layers]'''),
        "ignores width": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(64, 64) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, 64)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "mean of the output": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).mean().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "no activation after the last layer": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    modules = []
    for i, layer in enumerate(layers):
        modules.append(layer)
        if i < depth - 1:
            modules.append(activations[activation]())
    nn.Sequential(*modules)(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "Xavier initialization": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    for layer in layers:
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "norm of the weight and bias gradients together": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [torch.cat([p.grad.flatten() for p in layer.parameters()]).norm().item() for layer in layers]'''),
        "an MSE loss against zeros": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    out = net(torch.randn(32, width))
    nn.functional.mse_loss(out, torch.zeros_like(out)).backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "layers without bias": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width, bias=False) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "sum of absolute gradients": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.abs().sum().item() for layer in layers]'''),
        "squared norms": _deep('''    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, activations[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.pow(2).sum().item() for layer in layers]'''),
        "LeakyReLU for 'relu'": _deep('''    torch.manual_seed(seed)
    kinds = {"relu": nn.LeakyReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    layers = [nn.Linear(width, width) for _ in range(depth)]
    net = nn.Sequential(*[m for layer in layers for m in (layer, kinds[activation]())])
    net(torch.randn(32, width)).sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
    },
}

RIGHT = {
    "relu": {
        "torch.maximum": '''
def relu(x):
    return torch.maximum(x, torch.zeros_like(x))
''',
        "(x + |x|) / 2": '''
def relu(x):
    return (x + x.abs()) / 2
''',
        "where on a copy": '''
def relu(x):
    out = x.clone()
    out[out < 0] = 0
    return out
''',
    },
    "sigmoid": {
        "textbook 1 / (1 + exp(-x)): overflow to inf is harmless": '''
def sigmoid(x):
    return 1 / (1 + torch.exp(-x))
''',
        "from its own tanh": '''
def sigmoid(x):
    return 0.5 * (1 + tanh(x / 2))
''',
    },
    "tanh": {
        "from its own sigmoid": '''
def tanh(x):
    return 2 * sigmoid(2 * x) - 1
''',
        "1 - 2 / (exp(2x) + 1)": '''
def tanh(x):
    return 1 - 2 / (torch.exp(2 * x) + 1)
''',
    },
    "relu_grad": {
        "where": '''
def relu_grad(x):
    return torch.where(x > 0, torch.ones_like(x), torch.zeros_like(x))
''',
        "heaviside": '''
def relu_grad(x):
    return torch.heaviside(x, torch.zeros((), dtype=x.dtype))
''',
    },
    "sigmoid_grad": {
        "self-contained exp(-|x|)": '''
def sigmoid_grad(x):
    z = torch.exp(-torch.abs(x))
    return z / (1 + z) ** 2
''',
        "s * sigmoid(-x)": '''
def sigmoid_grad(x):
    return sigmoid(x) * sigmoid(-x)
''',
    },
    "tanh_grad": {
        "4 / (exp(x) + exp(-x))**2": '''
def tanh_grad(x):
    return 4 / (torch.exp(x) + torch.exp(-x)) ** 2
''',
        "(1 - t) * (1 + t)": '''
def tanh_grad(x):
    t = tanh(x)
    return (1 - t) * (1 + t)
''',
    },
    "plot_activations": {
        "pyplot state machine, lowercase labels, lists": _plot('''    fig = plt.figure()
    xs = x.tolist()
    plt.plot(xs, relu(x).tolist(), label="relu")
    plt.plot(xs, sigmoid(x).tolist(), label="sigmoid")
    plt.plot(xs, tanh(x).tolist(), label="tanh")
    plt.grid(True)
    plt.title("Activations")
    plt.legend()
    return fig'''),
        "torch's functions": _plot('''    fig, ax = plt.subplots()
    for f, label in [(torch.relu, "ReLU"), (torch.sigmoid, "Sigmoid"), (torch.tanh, "Tanh")]:
        ax.plot(x, f(x), label=label)
    ax.legend(loc="upper left")
    ax.set_xlabel("x")
    return fig'''),
    },
    "deep_gradient_norms": {
        "batch first, small batch, own functions, autograd.grad": _deep('''    torch.manual_seed(seed)
    x = torch.randn(8, width)
    layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
    f = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}[activation]
    h = x
    for layer in layers:
        h = f(layer(h))
    grads = torch.autograd.grad(h.sum(), [layer.weight for layer in layers])
    return [float(g.norm()) for g in grads]'''),
        "rand batch of 100, functional activations": _deep('''    torch.manual_seed(seed)
    layers = []
    for _ in range(depth):
        layers.append(nn.Linear(width, width))
    h = torch.rand(100, width)
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    for layer in layers:
        h = act(layer(h))
    h.sum().backward()
    return [layer.weight.grad.norm().item() for layer in layers]'''),
        "one input vector drawn before the layers": _deep('''    torch.manual_seed(seed)
    x = torch.randn(width)
    net = nn.Sequential()
    for _ in range(depth):
        net.append(nn.Linear(width, width))
        net.append(activations[activation]())
    net(x).sum().backward()
    return [m.weight.grad.norm().item() for m in net if isinstance(m, nn.Linear)]'''),
        "a batch of its own generator, 1000 rows": _deep('''    torch.manual_seed(seed)
    layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
    x = torch.randn(1000, width, generator=torch.Generator().manual_seed(seed))
    for layer in layers:
        x = activations[activation]()(layer(x))
    x.sum().backward()
    return [float(torch.linalg.norm(layer.weight.grad)) for layer in layers]'''),
        "5000 rows in [-1, 1] drawn first, one Sequential": _deep('''    torch.manual_seed(seed)
    x = torch.rand(5000, width) * 2 - 1
    net = nn.Sequential(*[m for _ in range(depth) for m in (nn.Linear(width, width), activations[activation]())])
    net(x).sum().backward()
    return [net[2 * i].weight.grad.norm().item() for i in range(depth)]'''),
    },
}
