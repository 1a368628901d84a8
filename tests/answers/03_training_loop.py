"""Answers for 03_training_loop."""

_NET = '''
class SimpleNet(nn.Module):
    def __init__(self, in_features=784, hidden=128, out_features=10):
        super().__init__()
{init}

    def forward(self, x):
{forward}
'''
_LAYERS = '''        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, out_features)'''
_FORWARD = '''        return self.fc2(torch.relu(self.fc1(self.flatten(x))))'''


def _net(forward: str = _FORWARD, init: str = _LAYERS) -> str:
    return _NET.format(init=init, forward=forward)


def _define(signature: str):
    """A function of one answer's body that returns the whole cell: ``def signature:`` and the body."""
    return lambda body: f"\ndef {signature}:\n{body}\n"


_optimizer = _define("make_optimizer(name, params, lr)")
_epoch = _define('train_one_epoch(model, loader, loss_fn, optimizer, device="cpu")')
_evaluate = _define('evaluate(model, loader, device="cpu")')
_fit = _define('fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device="cpu")')


WRONG = {
    "SimpleNet": {
        "no ReLU between the layers": _net('''        return self.fc2(self.fc1(self.flatten(x)))'''),
        "no flatten": _net('''        return self.fc2(torch.relu(self.fc1(x)))'''),
        "an extra hidden layer": _net('''        x = torch.relu(self.fc1(self.flatten(x)))
        return self.fc2(torch.relu(self.mid(x)))''', _LAYERS + '''
        self.mid = nn.Linear(hidden, hidden)'''),
        "layers without bias": _net(init='''        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(in_features, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, out_features, bias=False)'''),
        "softmax on the output": _net('''        logits = self.fc2(torch.relu(self.fc1(self.flatten(x))))
        return torch.softmax(logits, dim=1)'''),
        "flattens to a fixed 784": _net('''        return self.fc2(torch.relu(self.fc1(x.view(-1, 784))))'''),
        "ignores the hidden size": _net(init='''        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(in_features, 128)
        self.fc2 = nn.Linear(128, out_features)'''),
    },
    "make_optimizer": {
        "momentum 0.5": _optimizer('''    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.5)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(name)'''),
        "rmsprop mapped to Adam": _optimizer('''    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name in ("rmsprop", "adam"):
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(name)'''),
        "no ValueError: anything else is SGD": _optimizer('''    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.SGD(params, lr=lr)'''),
        "KeyError from a dict lookup": _optimizer('''    classes = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD,
               "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}
    extra = {"momentum": 0.9} if name == "momentum" else {}
    return classes[name](params, lr=lr, **extra)'''),
        "plain sgd with momentum too": _optimizer('''    if name in ("sgd", "momentum"):
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(name)'''),
        "adaptive optimizers ignore lr": _optimizer('''    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "rmsprop":
        return torch.optim.RMSprop(params)
    if name == "adam":
        return torch.optim.Adam(params)
    raise ValueError(name)'''),
        "builds every optimizer from one generator": _optimizer('''
    optimizers = {"sgd": torch.optim.SGD(params, lr=lr),
                  "momentum": torch.optim.SGD(params, lr=lr, momentum=0.9),
                  "rmsprop": torch.optim.RMSprop(params, lr=lr),
                  "adam": torch.optim.Adam(params, lr=lr)}
    if name not in optimizers:
        raise ValueError(name)
    return optimizers[name]'''),
    },
    "train_one_epoch": {
        "no zero_grad": _epoch('''    model.train()
    total, count = 0.0, 0
    for inputs, targets in loader:
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        total += loss.item() * len(targets)
        count += len(targets)
    return total / count'''),
        "zero_grad between backward and step": _epoch('''    model.train()
    total, count = 0.0, 0
    for inputs, targets in loader:
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item() * len(targets)
        count += len(targets)
    return total / count'''),
        "no model.train()": _epoch('''    total, count = 0.0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        total += loss.item() * len(targets)
        count += len(targets)
    return total / count'''),
        "unweighted mean of the batch losses": _epoch('''    model.train()
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)'''),
        "returns a tensor": _epoch('''    model.train()
    total, count = 0.0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        total = total + loss.detach() * len(targets)
        count += len(targets)
    return total / count'''),
        "one step per epoch": _epoch('''    model.train()
    optimizer.zero_grad()
    total, count = 0.0, 0
    for inputs, targets in loader:
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        total += loss.item() * len(targets)
        count += len(targets)
    optimizer.step()
    return total / count'''),
        "forgets to divide by the number of examples": _epoch('''    model.train()
    total = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        total += loss.item() * len(targets)
    return total'''),
        "records each batch's loss after its step": _epoch('''    model.train()
    total, count = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
        with torch.no_grad():
            total += loss_fn(model(inputs), targets).item() * len(targets)
        count += len(targets)
    return total / count'''),
        "returns the loss of a second pass after training": _epoch('''    model.train()
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
    total, count = 0.0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            total += loss_fn(model(inputs.to(device)), targets.to(device)).item() * len(targets)
            count += len(targets)
    return total / count'''),
        "calls the model again for the batch accuracy": _epoch('''    model.train()
    total, correct, count = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(targets)
        correct += (model(inputs).argmax(dim=1) == targets).sum().item()
        count += len(targets)
    print(f"train accuracy {correct / count:.3f}")
    return total / count'''),
    },
    "evaluate": {
        "no model.eval()": _evaluate('''    correct, total = 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            correct += (model(inputs.to(device)).argmax(dim=1) == targets.to(device)).sum().item()
            total += len(targets)
    return correct / total'''),
        "no torch.no_grad()": _evaluate('''    model.eval()
    correct, total = 0, 0
    for inputs, targets in loader:
        correct += (model(inputs.to(device)).argmax(dim=1) == targets.to(device)).sum().item()
        total += len(targets)
    return correct / total'''),
        "averages per-batch accuracies": _evaluate('''    model.eval()
    accuracies = []
    with torch.no_grad():
        for inputs, targets in loader:
            accuracies.append((model(inputs.to(device)).argmax(dim=1) == targets.to(device)).float().mean().item())
    return sum(accuracies) / len(accuracies)'''),
        "calls backward on a loss": _evaluate('''    model.eval()
    correct, total = 0, 0
    for inputs, targets in loader:
        outputs = model(inputs.to(device))
        F.cross_entropy(outputs, targets.to(device)).backward()
        correct += (outputs.argmax(dim=1) == targets.to(device)).sum().item()
        total += len(targets)
    return correct / total'''),
        "returns a tensor": _evaluate('''    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            correct += (model(inputs.to(device)).argmax(dim=1) == targets.to(device)).sum()
            total += len(targets)
    return correct / total'''),
        "returns the number correct": _evaluate('''    model.eval()
    correct = 0
    with torch.no_grad():
        for inputs, targets in loader:
            correct += (model(inputs.to(device)).argmax(dim=1) == targets.to(device)).sum().item()
    return float(correct)'''),
        "takes optimizer steps": _evaluate('''    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    correct, total = 0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        outputs = model(inputs.to(device))
        F.cross_entropy(outputs, targets.to(device)).backward()
        optimizer.step()
        correct += (outputs.argmax(dim=1) == targets.to(device)).sum().item()
        total += len(targets)
    return correct / total'''),
    },
    "fit": {
        "validates on the training loader": _fit('''    history = {"train_loss": [], "val_accuracy": []}
    for epoch in range(epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
        history["val_accuracy"].append(evaluate(model, train_loader, device))
    return history'''),
        "evaluates before training": _fit('''    history = {"train_loss": [], "val_accuracy": []}
    for epoch in range(epochs):
        history["val_accuracy"].append(evaluate(model, val_loader, device))
        history["train_loss"].append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
    return history'''),
        "wrong keys": _fit('''    history = {"loss": [], "accuracy": []}
    for epoch in range(epochs):
        history["loss"].append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
        history["accuracy"].append(evaluate(model, val_loader, device))
    return history'''),
        "returns only the last epoch": _fit('''    for epoch in range(epochs):
        loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        accuracy = evaluate(model, val_loader, device)
    return {"train_loss": loss, "val_accuracy": accuracy}'''),
        "one epoch short": _fit('''    history = {"train_loss": [], "val_accuracy": []}
    for epoch in range(1, epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
        history["val_accuracy"].append(evaluate(model, val_loader, device))
    return history'''),
        "swaps the lists": _fit('''    losses, accuracies = [], []
    for epoch in range(epochs):
        losses.append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
        accuracies.append(evaluate(model, val_loader, device))
    return {"train_loss": accuracies, "val_accuracy": losses}'''),
        "makes its own optimizer": _fit('''    history = {"train_loss": [], "val_accuracy": []}
    sgd = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, loss_fn, sgd, device))
        history["val_accuracy"].append(evaluate(model, val_loader, device))
    return history'''),
    },
}

RIGHT = {
    "SimpleNet": {
        "nn.Sequential": _net('''        return self.layers(x)''', init='''
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU(),
                                    nn.Linear(hidden, out_features))'''),
        "torch.flatten and F.relu": _net('''
        return self.fc2(F.relu(self.fc1(torch.flatten(x, start_dim=1))))'''),
        "view with the batch size": _net('''        return self.fc2(self.fc1(x.view(x.shape[0], -1)).clamp(min=0))'''),
    },
    "make_optimizer": {
        "a table of classes and settings": _optimizer('''
    table = {"sgd": (torch.optim.SGD, {}), "momentum": (torch.optim.SGD, {"momentum": 0.9}),
             "rmsprop": (torch.optim.RMSprop, {}), "adam": (torch.optim.Adam, {})}
    if name not in table:
        raise ValueError(f"unknown optimizer {name!r}; choose from {sorted(table)}")
    cls, settings = table[name]
    return cls(params, lr=lr, **settings)'''),
        "match statement": _optimizer('''    match name:
        case "sgd":
            return torch.optim.SGD(params, lr)
        case "momentum":
            return torch.optim.SGD(params, lr, momentum=0.9)
        case "rmsprop":
            return torch.optim.RMSprop(params, lr)
        case "adam":
            return torch.optim.Adam(params, lr)
        case _:
            raise ValueError("name must be 'sgd', 'momentum', 'rmsprop' or 'adam'")'''),
    },
    "train_one_epoch": {
        "zero_grad(set_to_none=True) after step": _epoch('''    model.train()
    optimizer.zero_grad(set_to_none=True)
    total, count = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        total += loss.item() * inputs.size(0)
        count += inputs.size(0)
    return total / count'''),
        "gradients cleared by hand": _epoch('''    model.train()
    losses, sizes = [], []
    for inputs, targets in loader:
        for p in model.parameters():
            p.grad = None
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        sizes.append(len(targets))
    return sum(l * n for l, n in zip(losses, sizes)) / sum(sizes)'''),
        "model.zero_grad()": _epoch('''    model.train()
    total = 0.0
    for inputs, targets in loader:
        model.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        total += float(loss) * len(targets)
    return total / len(loader.dataset)'''),
        "running weighted mean, accuracy from the same outputs": _epoch('''    model.train()
    mean, seen, correct = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        seen += len(targets)
        mean += (loss.item() - mean) * len(targets) / seen
        correct += (outputs.argmax(dim=1) == targets).sum().item()
    print(f"train accuracy {correct / seen:.3f}")
    return mean'''),
        "detached loss tensors, one float at the end": _epoch('''    model.train()
    total, count = torch.zeros(()), 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        total += loss.detach() * targets.size(0)
        count += targets.size(0)
    return float(total / count)'''),
    },
    "evaluate": {
        "inference_mode": _evaluate('''    model.eval()
    correct, total = 0, 0
    with torch.inference_mode():
        for inputs, targets in loader:
            correct += int((model(inputs.to(device)).argmax(1) == targets.to(device)).sum())
            total += targets.numel()
    return correct / total'''),
        "all predictions at the end": _evaluate('''    model.eval()
    predictions, labels = [], []
    with torch.no_grad():
        for inputs, targets in loader:
            predictions.append(model(inputs.to(device)).argmax(dim=1))
            labels.append(targets.to(device))
    return (torch.cat(predictions) == torch.cat(labels)).float().mean().item()'''),
    },
    "fit": {
        "the loop inlined": _fit('''    history = {"train_loss": [], "val_accuracy": []}
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(inputs.to(device)), targets.to(device))
            loss.backward()
            optimizer.step()
            total += loss.item() * len(targets)
            count += len(targets)
        history["train_loss"].append(total / count)
        model.eval()
        correct, seen = 0, 0
        with torch.no_grad():
            for inputs, targets in val_loader:
                correct += (model(inputs.to(device)).argmax(1) == targets.to(device)).sum().item()
                seen += len(targets)
        history["val_accuracy"].append(correct / seen)
    return history'''),
        "keyword arguments and progress printing": _fit('''    train_losses, val_accuracies = [], []
    for epoch in range(1, epochs + 1):
        loss = train_one_epoch(model=model, loader=train_loader, loss_fn=loss_fn, optimizer=optimizer, device=device)
        accuracy = evaluate(model=model, loader=val_loader, device=device)
        train_losses.append(loss)
        val_accuracies.append(accuracy)
        print(f"epoch {epoch}: train loss {loss:.4f}, val accuracy {accuracy:.3f}")
    return {"train_loss": train_losses, "val_accuracy": val_accuracies}'''),
    },
}
