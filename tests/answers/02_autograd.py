"""Answers for 02_autograd."""

WRONG = {
    "autograd_gradient": {
        "sets requires_grad on x itself": '''
def autograd_gradient(f, x):
    x.requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x)
    return grad
''',
        "leaves x.grad set": '''
def autograd_gradient(f, x):
    was = x.requires_grad
    x.requires_grad_(True)
    f(x).backward()
    x.requires_grad_(was)
    return x.grad.clone()
''',
        "reads .grad of a clone that is not a leaf when x requires grad": '''
def autograd_gradient(f, x):
    x_ = x.clone().requires_grad_(True)
    f(x_).backward()
    return x_.grad
''',
        "copies x as float32 through a Python list": '''
def autograd_gradient(f, x):
    x_ = torch.tensor(x.tolist(), requires_grad=True)
    (grad,) = torch.autograd.grad(f(x_), x_)
    return grad
''',
        "backward twice without zeroing": '''
def autograd_gradient(f, x):
    x_ = x.detach().clone().requires_grad_(True)
    out = f(x_)
    print("f(x) =", out.item())
    out.backward(retain_graph=True)
    out.backward()
    return x_.grad
''',
    },
    "numerical_gradient": {
        "forward difference": '''
def numerical_gradient(f, x, eps=1e-6):
    flat = x.detach().to(torch.float64).reshape(-1).clone()
    x64 = flat.view(x.shape)
    grad = torch.zeros_like(flat)
    f0 = float(f(x64))
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        grad[i] = (float(f(x64)) - f0) / eps
        flat[i] = old
    return grad.view(x.shape)
''',
        "float32 arithmetic, float64 result": '''
def numerical_gradient(f, x, eps=1e-6):
    flat = x.detach().reshape(-1).clone()
    grad = torch.zeros(flat.numel(), dtype=torch.float64)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        f_plus = f(flat.view(x.shape))
        flat[i] = old - eps
        f_minus = f(flat.view(x.shape))
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.view(x.shape)
''',
        "returns x's dtype": '''
def numerical_gradient(f, x, eps=1e-6):
    flat = x.detach().to(torch.float64).reshape(-1).clone()
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        f_plus = float(f(flat.view(x.shape)))
        flat[i] = old - eps
        f_minus = float(f(flat.view(x.shape)))
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.view(x.shape).to(x.dtype)
''',
        "ignores eps": '''
def numerical_gradient(f, x, eps=1e-6):
    h = 1e-6
    flat = x.detach().to(torch.float64).reshape(-1).clone()
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        f_plus = float(f(flat.view(x.shape)))
        flat[i] = old - h
        f_minus = float(f(flat.view(x.shape)))
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad.view(x.shape)
''',
        "divides by eps instead of 2 eps": '''
def numerical_gradient(f, x, eps=1e-6):
    flat = x.detach().to(torch.float64).reshape(-1).clone()
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        f_plus = float(f(flat.view(x.shape)))
        flat[i] = old - eps
        f_minus = float(f(flat.view(x.shape)))
        flat[i] = old
        grad[i] = (f_plus - f_minus) / eps
    return grad.view(x.shape)
''',
        "perturbs whole rows (loops over the first dimension)": '''
def numerical_gradient(f, x, eps=1e-6):
    x64 = x.detach().to(torch.float64).clone()
    grad = torch.zeros_like(x64)
    for i in range(x64.shape[0]):
        old = x64[i].clone()
        x64[i] = old + eps
        f_plus = float(f(x64))
        x64[i] = old - eps
        f_minus = float(f(x64))
        x64[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad
''',
        "perturbs a float64 x in place and restores it by arithmetic": '''
def numerical_gradient(f, x, eps=1e-6):
    x64 = x.double()
    flat = x64.view(-1)
    grad = torch.zeros(flat.numel(), dtype=torch.float64)
    for i in range(flat.numel()):
        flat[i] += eps
        f_plus = float(f(x64))
        flat[i] -= 2 * eps
        f_minus = float(f(x64))
        flat[i] += eps
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.view(x.shape)
''',
    },
    "linear_backward": {
        "transposed grad_W": '''
def linear_backward(x, W, b, grad_out):
    return grad_out @ W, x.T @ grad_out, grad_out.sum(dim=0)
''',
        "grad_b not summed over the batch": '''
def linear_backward(x, W, b, grad_out):
    return grad_out @ W, grad_out.T @ x, grad_out
''',
        "grad_b averaged over the batch": '''
def linear_backward(x, W, b, grad_out):
    return grad_out @ W, grad_out.T @ x, grad_out.mean(dim=0)
''',
        "grad_x with the wrong transpose": '''
def linear_backward(x, W, b, grad_out):
    return grad_out @ W.T, grad_out.T @ x, grad_out.sum(dim=0)
''',
        "uses autograd": '''
def linear_backward(x, W, b, grad_out):
    xr, Wr, br = (t.detach().clone().requires_grad_(True) for t in (x, W, b))
    y = xr @ Wr.T + br
    y.backward(grad_out)
    return xr.grad, Wr.grad, br.grad
''',
        "uses torch.func.vjp": '''
def linear_backward(x, W, b, grad_out):
    _, vjp = torch.func.vjp(lambda x_, W_, b_: x_ @ W_.T + b_, x, W, b)
    return vjp(grad_out)
''',
        "grad_b accumulated in a float32 buffer": '''
def linear_backward(x, W, b, grad_out):
    grad_b = torch.zeros(W.shape[0])
    for n in range(grad_out.shape[0]):
        grad_b += grad_out[n]
    return grad_out @ W, grad_out.T @ x, grad_b
''',
        "returns a list of two": '''
def linear_backward(x, W, b, grad_out):
    return [grad_out @ W, grad_out.T @ x]
''',
    },
    "relu_backward": {
        "passes the gradient at x == 0": '''
def relu_backward(x, grad_out):
    return torch.where(x >= 0, grad_out, torch.zeros_like(grad_out))
''',
        "returns the mask only": '''
def relu_backward(x, grad_out):
    return (x > 0).float()
''',
        "applies ReLU to grad_out": '''
def relu_backward(x, grad_out):
    return torch.relu(grad_out)
''',
        "zeroes grad_out in place": '''
def relu_backward(x, grad_out):
    grad_out[x <= 0] = 0
    return grad_out
''',
        "uses autograd": '''
def relu_backward(x, grad_out):
    x_ = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.relu(x_), x_, grad_outputs=grad_out)
    return grad
''',
        "float32 mask times float32 grad_out": '''
def relu_backward(x, grad_out):
    return (x > 0).float() * grad_out.float()
''',
    },
    "cross_entropy_backward": {
        "not divided by N": '''
def cross_entropy_backward(logits, targets):
    probs = torch.softmax(logits, dim=1)
    onehot = torch.zeros_like(probs)
    onehot[torch.arange(logits.shape[0]), targets] = 1.0
    return probs - onehot
''',
        "softmax over the batch dimension": '''
def cross_entropy_backward(logits, targets):
    probs = torch.softmax(logits, dim=0)
    onehot = torch.zeros_like(probs)
    onehot[torch.arange(logits.shape[0]), targets] = 1.0
    return (probs - onehot) / logits.shape[0]
''',
        "one-hot minus softmax": '''
def cross_entropy_backward(logits, targets):
    probs = torch.softmax(logits, dim=1)
    onehot = torch.zeros_like(probs)
    onehot[torch.arange(logits.shape[0]), targets] = 1.0
    return (onehot - probs) / logits.shape[0]
''',
        "forgets the one-hot": '''
def cross_entropy_backward(logits, targets):
    return torch.softmax(logits, dim=1) / logits.shape[0]
''',
        "autograd through F.cross_entropy": '''
def cross_entropy_backward(logits, targets):
    z = logits.detach().clone().requires_grad_(True)
    F.cross_entropy(z, targets).backward()
    return z.grad
''',
        "shifts the logits in place": '''
def cross_entropy_backward(logits, targets):
    logits -= logits.max(dim=1, keepdim=True).values
    e = logits.exp()
    probs = e / e.sum(dim=1, keepdim=True)
    probs[torch.arange(logits.shape[0]), targets] -= 1
    return probs / logits.shape[0]
''',
    },
    "gradient_descent": {
        "one step too many": '''
def gradient_descent(f, x0, lr, steps):
    x = x0.detach().clone()
    for _ in range(steps + 1):
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(f(x), x)
        x = (x - lr * grad).detach()
    return x
''',
        "steps uphill": '''
def gradient_descent(f, x0, lr, steps):
    x = x0.detach().clone()
    for _ in range(steps):
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(f(x), x)
        x = (x + lr * grad).detach()
    return x
''',
        "never zeroes x.grad": '''
def gradient_descent(f, x0, lr, steps):
    x = x0.detach().clone().requires_grad_(True)
    for _ in range(steps):
        f(x).backward()
        with torch.no_grad():
            x -= lr * x.grad
    return x.detach()
''',
        "updates x0 in place": '''
def gradient_descent(f, x0, lr, steps):
    x = x0
    for _ in range(steps):
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(f(x), x)
        with torch.no_grad():
            x -= lr * grad
    return x.detach().clone()
''',
        "returns x still requiring grad": '''
def gradient_descent(f, x0, lr, steps):
    x = x0.detach().clone().requires_grad_(True)
    for _ in range(steps):
        x.grad = None
        f(x).backward()
        x.data -= lr * x.grad
    return x
''',
        "clones x0 without detaching it": '''
def gradient_descent(f, x0, lr, steps):
    x = x0.clone().requires_grad_(True)
    for _ in range(steps):
        f(x).backward()
        with torch.no_grad():
            x -= lr * x.grad
        x.grad.zero_()
    return x.detach()
''',
        "always takes a first step": '''
def gradient_descent(f, x0, lr, steps):
    x = x0.detach().clone()
    while True:
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(f(x), x)
        x = (x - lr * grad).detach()
        steps -= 1
        if steps <= 0:
            return x
''',
    },
}

RIGHT = {
    "autograd_gradient": {
        "backward on a detached copy": '''
def autograd_gradient(f, x):
    x_ = x.detach().clone().requires_grad_(True)
    f(x_).backward()
    return x_.grad
''',
        "torch.func.grad": '''
def autograd_gradient(f, x):
    return torch.func.grad(f)(x.detach())
''',
    },
    "numerical_gradient": {
        "perturbation tensor per entry": '''
def numerical_gradient(f, x, eps=1e-6):
    x64 = x.detach().double()
    grad = torch.zeros_like(x64)
    for idx in np.ndindex(*x64.shape):
        e = torch.zeros_like(x64)
        e[idx] = eps
        grad[idx] = (f(x64 + e) - f(x64 - e)) / (2 * eps)
    return grad
''',
    },
    "linear_backward": {
        "einsum": '''
def linear_backward(x, W, b, grad_out):
    grad_x = torch.einsum("nk,kj->nj", grad_out, W)
    grad_W = torch.einsum("nk,nj->kj", grad_out, x)
    return grad_x, grad_W, torch.einsum("nk->k", grad_out)
''',
    },
    "relu_backward": {
        "multiplies by the mask": '''
def relu_backward(x, grad_out):
    return grad_out * (x > 0)
''',
        "clone and zero": '''
def relu_backward(x, grad_out):
    grad = grad_out.clone()
    grad[x <= 0] = 0
    return grad
''',
    },
    "cross_entropy_backward": {
        "F.softmax and F.one_hot": '''
def cross_entropy_backward(logits, targets):
    onehot = F.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return (F.softmax(logits, dim=1) - onehot) / len(targets)
''',
        "exp with the max subtracted, scatter": '''
def cross_entropy_backward(logits, targets):
    e = (logits - logits.max(dim=1, keepdim=True).values).exp()
    probs = e / e.sum(dim=1, keepdim=True)
    return probs.scatter_add(1, targets[:, None], -torch.ones_like(probs[:, :1])) / logits.shape[0]
''',
    },
    "gradient_descent": {
        "backward, no_grad update and zeroing": '''
def gradient_descent(f, x0, lr, steps):
    x = x0.detach().clone().requires_grad_(True)
    for _ in range(steps):
        loss = f(x)
        loss.backward()
        with torch.no_grad():
            x -= lr * x.grad
        x.grad.zero_()
    return x.detach()
''',
        "reuses autograd_gradient": '''
def gradient_descent(f, x0, lr, steps):
    x = x0.detach().clone()
    for _ in range(steps):
        x = x - lr * autograd_gradient(f, x)
    return x
''',
    },
}
