"""Answers for 05_mnist_classifier.

``test_accuracy`` is a check, not a cell: its wrong answers replace other cells, so each is a dict
{grade_id: source} rather than one cell's source. Grading it trains a model on all of MNIST, so it is
``SLOW``: graded only for the instructor's notebook and for the wrong answers that target it. Those fail
cheaply (before training, or after training a tiny model), and may also lose marks on the names in
``DEPENDS``, whose cells they replace.
"""

SLOW = {"test_accuracy"}
DEPENDS = {"test_accuracy": {"build_model", "train_model", "predict"}}


def _define(signature: str):
    """A function of one answer's body that returns the whole cell: ``def signature:`` and the body."""
    return lambda body: f"\ndef {signature}:\n{body}\n"


_transform = _define("get_transform()")
_model = _define("build_model()")
_train = _define('train_model(model, train_loader, epochs, device="cpu")')
_predict = _define("predict(model, images)")
_confusion = _define("confusion_matrix(y_true, y_pred, num_classes=10)")
_metrics = _define("precision_recall_f1(cm)")
_split = _define("split_train_val(dataset, val_fraction=0.1, seed=0)")

_CNN = '''    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear({features}, {outputs}))'''
_WIDE_MLP = '''    return nn.Sequential(nn.Flatten(), nn.Linear(784, 7680), nn.ReLU(), nn.Linear(7680, 10))'''
_LINEAR_MODEL = _model('''    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))''')

_TRAIN_LOOP = '''    model.to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr={lr})
    loss_fn = nn.CrossEntropyLoss()
    for _ in range({epochs}):
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
{clear}            loss = loss_fn(model(images), labels)
            loss.backward()
{step}{after}
    return model'''


def _loop(lr: str = "1e-3", epochs: str = "epochs", clear: str = "            optimizer.zero_grad()\n",
          step: str = "            optimizer.step()\n", after: str = "") -> str:
    return _train(_TRAIN_LOOP.format(lr=lr, epochs=epochs, clear=clear, step=step, after=after))


_SAVE = '''
def save_checkpoint(model, path):
{save}


def load_checkpoint(path):
{load}
'''
_SAVE_STATE = "    torch.save(model.state_dict(), path)"
_LOAD_STATE = '''    model = build_model()
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()
    return model'''


def _checkpoint(save: str = _SAVE_STATE, load: str = _LOAD_STATE) -> str:
    return _SAVE.format(save=save, load=load)


_SKLEARN_STAND_IN = '''
import sys
import types

# sklearn is not installed in the kit's environment: a stand-in module of that name plays its part
_metrics_module = types.ModuleType("sklearn.metrics")
exec("""
import numpy as np

def confusion_matrix(y_true, y_pred, labels=None):
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        cm[t, p] += 1
    return cm
""", _metrics_module.__dict__)
sys.modules["sklearn"] = types.ModuleType("sklearn")
sys.modules["sklearn"].metrics = _metrics_module
sys.modules["sklearn.metrics"] = _metrics_module

from sklearn.metrics import confusion_matrix as sk_confusion_matrix


def confusion_matrix(y_true, y_pred, num_classes=10):
    cm = sk_confusion_matrix(y_true.numpy(), y_pred.numpy(), labels=list(range(num_classes)))
    return torch.from_numpy(cm)
'''

WRONG = {
    "get_transform": {
        "no Normalize": _transform('''    return transforms.Compose([transforms.ToTensor()])'''),
        "negative mean": _transform(
            '''    return transforms.Compose([transforms.ToTensor(), transforms.Normalize((-0.1307,), (0.3081,))])'''),
        "Normalize before ToTensor": _transform(
            '''    return transforms.Compose([transforms.Normalize((0.1307,), (0.3081,)), transforms.ToTensor()])'''),
        "mean and std on the 0..255 scale": _transform(
            '''    return transforms.Compose([transforms.ToTensor(), transforms.Normalize((33.3,), (78.6,))])'''),
        "PILToTensor keeps uint8": _transform(
            '''    return transforms.Compose([transforms.PILToTensor(),
                               transforms.Normalize((0.1307,), (0.3081,))])'''),
        "Normalize applied twice": _transform('''    norm = transforms.Normalize((0.1307,), (0.3081,))
    return transforms.Compose([transforms.ToTensor(), norm, norm])'''),
        "returns a list of transforms": _transform(
            '''    return [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]'''),
    },
    "build_model": {
        "over 5 million parameters": _model(_WIDE_MLP),
        "one output instead of 10": _model(_CNN.format(features="32 * 4 * 4", outputs=1)),
        "no Flatten before Linear": _model(
            '''    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))'''),
        "wrong flattened size": _model(_CNN.format(features="32 * 5 * 5", outputs=10)),
        "returns the class, not an instance": '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.layers(x)


def build_model():
    return Net
''',
        "one global model": '''
_net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def build_model():
    return _net
''',
        "squeezes the output": '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.layers(x).squeeze()


def build_model():
    return Net()
''',
    },
    "train_model": {
        "never steps": _loop(step=""),
        "ignores epochs (one pass)": _loop(epochs="1"),
        "hard-coded 2 epochs": _loop(epochs="2"),
        "never zero_grad": _loop(clear=""),
        "breaks after the first batch": _loop(after="            break\n"),
        "forgets model.train()": _train('''    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for images, labels in train_loader:
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
    return model'''),
        "trains a copy": _train('''    import copy
    model = copy.deepcopy(model)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for images, labels in train_loader:
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
    return model'''),
        "returns nothing": _train('''    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for images, labels in train_loader:
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()'''),
        "learning rate far too small": _loop(lr="1e-6"),
    },
    "predict": {
        "returns probabilities": _predict('''    model.eval()
    with torch.no_grad():
        return torch.softmax(model(images), dim=1)'''),
        "float labels": _predict('''    model.eval()
    with torch.no_grad():
        return model(images).argmax(dim=1).float()'''),
        "forgets eval mode": _predict('''    with torch.no_grad():
        return model(images).argmax(dim=1)'''),
        "tracks gradients": _predict('''    model.eval()
    return model(images).argmax(dim=1)'''),
        "argmax over the batch dimension": _predict('''    model.eval()
    with torch.no_grad():
        return model(images).argmax(dim=0)'''),
        "squeezes a single image away": _predict('''    model.eval()
    with torch.no_grad():
        return model(images).squeeze().argmax(dim=-1)'''),
        "drops the last partial chunk": _predict('''    model.eval()
    chunks = []
    with torch.no_grad():
        for i in range(len(images) // 1000):
            chunks.append(model(images[i * 1000:(i + 1) * 1000]).argmax(dim=1))
    return torch.cat(chunks) if chunks else model(images).argmax(dim=1)'''),
        "returns a list": _predict('''    model.eval()
    with torch.no_grad():
        return model(images).argmax(dim=1).tolist()'''),
    },
    "confusion_matrix": {
        "transposed": _confusion('''    cm = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        cm[p, t] += 1
    return cm'''),
        "float counts": _confusion('''    cm = torch.zeros(num_classes, num_classes)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        cm[t, p] += 1
    return cm'''),
        "sized by the labels, not num_classes": _confusion('''    C = int(max(y_true.max(), y_pred.max())) + 1
    return torch.bincount(y_true * C + y_pred, minlength=C * C).reshape(C, C)'''),
        "indexed += loses repeated pairs": _confusion('''
    cm = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    cm[y_true, y_pred] += 1
    return cm'''),
        "sklearn.metrics.confusion_matrix": _SKLEARN_STAND_IN,
        "torchmetrics inside the function": _confusion('''
    from torchmetrics.functional import confusion_matrix as tm_confusion_matrix
    return tm_confusion_matrix(y_pred, y_true, task="multiclass", num_classes=num_classes)'''),
        "encodes the pairs in y_true in place": _confusion('''    codes = y_true.mul_(num_classes).add_(y_pred)
    return torch.bincount(codes, minlength=num_classes * num_classes).reshape(num_classes, num_classes)'''),
    },
    "precision_recall_f1": {
        "NaN for empty classes": _metrics('''    cm = cm.float()
    tp = cm.diag()
    precision = tp / cm.sum(dim=0)
    recall = tp / cm.sum(dim=1)
    return precision, recall, 2 * precision * recall / (precision + recall)'''),
        "precision and recall swapped": _metrics('''    cm = cm.float()
    tp = cm.diag()
    precision = torch.nan_to_num(tp / cm.sum(dim=1))
    recall = torch.nan_to_num(tp / cm.sum(dim=0))
    return precision, recall, torch.nan_to_num(2 * precision * recall / (precision + recall))'''),
        "float64": _metrics('''    cm = cm.double()
    tp = cm.diag()
    precision = torch.nan_to_num(tp / cm.sum(dim=0))
    recall = torch.nan_to_num(tp / cm.sum(dim=1))
    return precision, recall, torch.nan_to_num(2 * precision * recall / (precision + recall))'''),
        "integer division": _metrics('''    tp = cm.diag()
    precision = tp // cm.sum(dim=0).clamp(min=1)
    recall = tp // cm.sum(dim=1).clamp(min=1)
    return precision, recall, 2 * precision * recall // (precision + recall).clamp(min=1)'''),
        "F1 as the arithmetic mean": _metrics('''    cm = cm.float()
    tp = cm.diag()
    precision = torch.nan_to_num(tp / cm.sum(dim=0))
    recall = torch.nan_to_num(tp / cm.sum(dim=1))
    return precision, recall, (precision + recall) / 2'''),
        "F1 NaN where precision and recall are 0": _metrics('''    cm = cm.float()
    tp = cm.diag()
    precision = tp / cm.sum(dim=0).clamp(min=1)
    recall = tp / cm.sum(dim=1).clamp(min=1)
    return precision, recall, 2 * precision * recall / (precision + recall)'''),
        "macro averages instead of per class": _metrics('''    cm = cm.float()
    tp = cm.diag()
    precision = torch.nan_to_num(tp / cm.sum(dim=0))
    recall = torch.nan_to_num(tp / cm.sum(dim=1))
    f1 = torch.nan_to_num(2 * precision * recall / (precision + recall))
    return precision.mean(), recall.mean(), f1.mean()'''),
    },
    "checkpoint": {
        "pickles the whole model": _checkpoint("    torch.save(model, path)",
                                               "    return torch.load(path, weights_only=False)"),
        "forgets load_state_dict": _checkpoint(load='''    model = build_model()
    state = torch.load(path, weights_only=True)
    return model.eval()'''),
        "saves the parameters only": _checkpoint("    torch.save(dict(model.named_parameters()), path)"),
        "returns the state dict": _checkpoint(load="    return torch.load(path, weights_only=True)"),
        "ignores the path": _checkpoint('    torch.save(model.state_dict(), "model.pt")', '''    model = build_model()
    model.load_state_dict(torch.load("model.pt", weights_only=True))
    return model'''),
        "wrapped state dict loaded with strict=False": _checkpoint(
            '    torch.save({"model_state": model.state_dict(), "epoch": 2}, path)', '''    model = build_model()
    model.load_state_dict(torch.load(path, weights_only=True), strict=False)
    return model'''),
    },
    "split_train_val": {
        "two independent permutations overlap": _split('''    n_val = round(len(dataset) * val_fraction)
    g = torch.Generator().manual_seed(seed)
    val = torch.randperm(len(dataset), generator=g)[:n_val].tolist()
    train = torch.randperm(len(dataset), generator=g)[n_val:].tolist()
    return Subset(dataset, train), Subset(dataset, val)'''),
        "int() instead of round()": _split('''    n_val = int(len(dataset) * val_fraction)
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, perm[n_val:]), Subset(dataset, perm[:n_val])'''),
        "ignores the seed": _split('''    n_val = round(len(dataset) * val_fraction)
    perm = torch.randperm(len(dataset)).tolist()
    return Subset(dataset, perm[n_val:]), Subset(dataset, perm[:n_val])'''),
        "returns (val, train)": _split('''    n_val = round(len(dataset) * val_fraction)
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, perm[:n_val]), Subset(dataset, perm[n_val:])'''),
        "lists of indices, not Subsets": _split('''    n_val = round(len(dataset) * val_fraction)
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    return perm[n_val:], perm[:n_val]'''),
        "the last items as validation, unshuffled": _split('''    n_val = round(len(dataset) * val_fraction)
    n = len(dataset)
    return Subset(dataset, range(n - n_val)), Subset(dataset, range(n - n_val, n))'''),
        "default seed of 42": '''
def split_train_val(dataset, val_fraction=0.1, seed=42):
    n_val = round(len(dataset) * val_fraction)
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, perm[n_val:]), Subset(dataset, perm[:n_val])
''',
        "validation from perm[-n_val:]": _split('''    n_val = round(len(dataset) * val_fraction)
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, perm[:-n_val]), Subset(dataset, perm[-n_val:])'''),
        "at least one validation item": _split('''    n_val = max(1, round(len(dataset) * val_fraction))
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, perm[n_val:]), Subset(dataset, perm[:n_val])'''),
    },
    "test_accuracy": {
        "over 5 million parameters": {"build_model": _model(_WIDE_MLP)},
        "build_model returns a class": {"build_model": '''
def build_model():
    return nn.Sequential
'''},
        "train_model returns at once": {"train_model": _train("    return model")},
        "EPOCHS = 0": {"train_model": "EPOCHS = 0\n" + _loop()},
        "EPOCHS as text": {"train_model": 'EPOCHS = "3"\n' + _loop()},
        "predict returns (N, 1) labels": {"build_model": _LINEAR_MODEL, "predict": _predict('''    model.eval()
    with torch.no_grad():
        return model(images).argmax(dim=1, keepdim=True)''')},
    },
}

RIGHT = {
    "get_transform": {
        "mean and std of 0.5": _transform(
            '''    return transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])'''),
        "transforms.v2": _transform('''    from torchvision.transforms import v2
    return v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.1307], [0.3081])])'''),
    },
    "build_model": {
        "an MLP": _model(
            '''    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))'''),
        "a Module subclass with batch norm and dropout": '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 7 * 7, 10))

    def forward(self, x):
        return self.head(self.features(x))


def build_model():
    return Net()
''',
    },
    "train_model": {
        "SGD with momentum, zero_grad after step": _train('''    model.to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(epochs):
        for images, labels in train_loader:
            loss = F.cross_entropy(model(images.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    return model'''),
        "measures accuracy in eval mode after each epoch": _train('''    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad(set_to_none=False)
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        mean_loss = total / len(train_loader.dataset)
        model.eval()
        with torch.no_grad():
            images, labels = next(iter(train_loader))
            accuracy = (model(images).argmax(1) == labels).float().mean().item()
    model.train()
    return model'''),
    },
    "predict": {
        "one pass under inference_mode": _predict('''    model.eval()
    with torch.inference_mode():
        return model(images).max(dim=1).indices'''),
        "batches from a DataLoader": _predict('''    model.eval()
    out = []
    with torch.no_grad():
        for (batch,) in DataLoader(TensorDataset(images), batch_size=512):
            out.append(model(batch).argmax(dim=1))
    return torch.cat(out).long()'''),
    },
    "confusion_matrix": {
        "a Python loop": _confusion('''    cm = torch.zeros((num_classes, num_classes), dtype=torch.long)
    for t, p in zip(y_true, y_pred):
        cm[t, p] += 1
    return cm'''),
        "index_put_ with accumulate": _confusion('''    cm = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    cm.index_put_((y_true, y_pred), torch.ones_like(y_true), accumulate=True)
    return cm'''),
        "one-hot product": _confusion(
            '''    return F.one_hot(y_true, num_classes).T @ F.one_hot(y_pred, num_classes)'''),
    },
    "precision_recall_f1": {
        "nan_to_num": _metrics('''    cm = cm.float()
    tp = cm.diag()
    precision = torch.nan_to_num(tp / cm.sum(dim=0), nan=0.0)
    recall = torch.nan_to_num(tp / cm.sum(dim=1), nan=0.0)
    f1 = torch.nan_to_num(2 * precision * recall / (precision + recall), nan=0.0)
    return precision, recall, f1'''),
        "a loop over the classes": _metrics('''    C = cm.shape[0]
    precision, recall, f1 = torch.zeros(C), torch.zeros(C), torch.zeros(C)
    for c in range(C):
        tp = cm[c, c].item()
        predicted, actual = cm[:, c].sum().item(), cm[c, :].sum().item()
        precision[c] = tp / predicted if predicted else 0.0
        recall[c] = tp / actual if actual else 0.0
        if precision[c] + recall[c] > 0:
            f1[c] = 2 * precision[c] * recall[c] / (precision[c] + recall[c])
    return precision, recall, f1'''),
    },
    "checkpoint": {
        "map_location and a strict load": _checkpoint(load='''    model = build_model()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()'''),
        "pathlib and copies of the tensors": _checkpoint(
            '''    from pathlib import Path
    torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, Path(path))''',
            '''    from pathlib import Path
    model = build_model()
    model.load_state_dict(torch.load(Path(path), weights_only=True))
    return model.to("cpu")'''),
    },
    "split_train_val": {
        "random_split with a generator": _split('''    n_val = round(len(dataset) * val_fraction)
    g = torch.Generator().manual_seed(seed)
    train, val = torch.utils.data.random_split(dataset, [len(dataset) - n_val, n_val], generator=g)
    return train, val'''),
        "a NumPy permutation": _split('''    n = len(dataset)
    n_val = round(n * val_fraction)
    perm = np.random.RandomState(seed).permutation(n)
    return Subset(dataset, perm[n_val:].tolist()), Subset(dataset, perm[:n_val].tolist())'''),
        "random.Random(seed).sample, the rest in order": _split('''    import random
    n = len(dataset)
    val = random.Random(seed).sample(range(n), round(n * val_fraction))
    chosen = set(val)
    return Subset(dataset, [i for i in range(n) if i not in chosen]), Subset(dataset, val)'''),
        "global seed, random_split, train size first": _split('''    n_train = len(dataset) - round(len(dataset) * val_fraction)
    torch.manual_seed(seed)
    train, val = torch.utils.data.random_split(dataset, [n_train, len(dataset) - n_train])
    return train, val'''),
    },
}
