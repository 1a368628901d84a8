"""Make named torch operations unavailable while a student's function runs, and notice attempts to get around it.

Two modes watch every call: a ``TorchFunctionMode`` sees the Python-level name
(``F.mse_loss``, ``x.sigmoid()``, an alias, ``torch.ops.aten.*``) and a
``TorchDispatchMode`` the aten kernel underneath, so neither an import alias
nor ``torch._C.DisableTorchFunction`` gets around the rule. A caught
``ForbiddenCall`` is still recorded.

The watch runs in the student's own process, where code can reach it. So that
switching it off takes more than reading this file, it logs each attempt it
sees (``tampering``; the grader then fails the name):
- a profile hook sees, apart from torch's mode stacks, every Python-level call
  of a forbidden torch function, and student code searching the garbage
  collector, walking the call stack or replacing the hook;
- each mode checks, whenever an operation reaches it, that the other is still
  in force, and the call's end checks that both are still on torch's stacks;
- torch's switches that take a mode off or skip it (popping a stack,
  ``DisableTorchFunction``, ``_DisableTorchDispatch``, the torch function
  state) report their use against the watch;
- each thread started after ``install`` runs under the profile hook, which puts
  modes of the thread's own on its stacks as soon as it runs while a call is
  watched: a thread pool does not escape;
- the modes are pushed with torch's ``__enter__`` as it was before student code
  ran, and the watch's state lives in closures, not in the mode objects that
  torch's stacks hand out. seal.py notices a class or module of the harness
  that student code changed.
"""
from __future__ import annotations

import _thread
import contextlib
import gc
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from .errors import CELL_PREFIX, ForbiddenCall, student_line

_C = torch._C
_TORCH = os.path.dirname(torch.__file__) + os.sep
_FUNCTIONS = (_C._len_torch_function_stack, _C._get_function_stack_at)
_DISPATCHES = (_C._len_torch_dispatch_stack, _C._get_dispatch_stack_at)
# taken before any student code runs, like everything else the watch calls: rebinding them later changes nothing
_ENTER_FUNCTION, _EXIT_FUNCTION = TorchFunctionMode.__enter__, TorchFunctionMode.__exit__
_ENTER_DISPATCH, _EXIT_DISPATCH = TorchDispatchMode.__enter__, TorchDispatchMode.__exit__
_GET_PROFILE, _SET_PROFILE, _START_THREAD = sys.getprofile, sys.setprofile, _thread.start_new_thread
_DELIVER = torch.overrides.handle_torch_function.__code__  # hands the top mode a call: pops, calls, pushes it back
# what student code needs to find the watch or switch off its hook: searching objects, walking frames
_INSPECTION = {id(f): f.__name__ for f in (gc.get_objects, gc.get_referrers, gc.get_referents, sys._getframe,
                                           sys.setprofile, sys.settrace)}


def op_name(func: object) -> str:
    """The root name of a torch callable: ``_log_softmax.default`` -> ``log_softmax``."""
    name = getattr(func, "__name__", None) or str(func)
    name = name.split("::")[-1].split(".")[0].strip("_")
    for prefix in ("special_", "nn_"):
        name = name.removeprefix(prefix)
    return name


def _on(stack: tuple[Callable[[], int], Callable[[int], object]], mode: object) -> bool:
    length, item = stack
    return any(item(i) is mode for i in range(length()))


def _on_top(stack: tuple[Callable[[], int], Callable[[int], object]], mode: object) -> bool:
    length, item = stack
    return length() > 0 and item(length() - 1) is mode


def _delivering(frame: Any) -> bool:
    """Whether a pop of the top function mode, called in ``frame``, is torch's handle_torch_function handing that
    mode a call (through _pop_mode_temporarily)."""
    for _ in range(4):
        frame = frame.f_back
        if frame is None or frame.f_code is _DELIVER:
            return frame is not None
    return False


def _torch_owned(func: Any) -> bool:
    """Whether a builtin that Python code calls belongs to torch: a function of its modules or a tensor's method."""
    module = getattr(func, "__module__", None)
    return isinstance(module, str) and module.startswith("torch") or \
        isinstance(getattr(func, "__self__", None), torch.Tensor)


def _never(*args: Any, **kwargs: Any) -> bool:
    return False


def _build() -> tuple:
    """The watch, as closures over its state, so that whoever looks at the modes on torch's stacks finds none."""
    watched: frozenset[str] | None = None  # the forbidden names while a call is watched, for every thread
    no_autograd = False                    # the watched call may not run a backward pass
    hits: list[str] = []                   # forbidden names reached by the watched call
    log: list[str] = []                    # tampering seen, until tampering() takes it

    class Local(threading.local):
        fw: Any = None  # this thread's function watch
        dw: Any = None  # this thread's dispatch watch
        depth = 0       # how deep this thread is in its function watch's handler

    local = Local()

    def note(name: str) -> None:
        if name not in hits:
            hits.append(name)

    def hit(name: str, raises: bool) -> None:
        """Record a forbidden name; ``raises``: at the call site too (a mode can, the profile hook cannot)."""
        if watched is not None and name in watched:
            note(name)
            if raises:
                raise ForbiddenCall(f"'{name}' is not allowed here")

    def tamper(what: str, frame: Any = None) -> None:
        if watched is not None:
            where = student_line(frame or sys._getframe(1))
            entry = f"{what} ({where})" if where else what
            if entry not in log:
                log.append(entry)

    def function_on() -> bool:
        return local.depth > 0 or _C._is_torch_function_mode_enabled() and _on(_FUNCTIONS, local.fw)

    def dispatch_on() -> bool:
        return not _C._dispatch_tls_is_dispatch_key_excluded(_C.DispatchKey.Python) and _on(_DISPATCHES, local.dw)

    class FunctionWatch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if watched is not None:
                if not dispatch_on():
                    tamper("ran an operation with the kernel-level watch taken off or skipped")
                hit(op_name(func), True)
            local.depth += 1
            try:
                return func(*args, **(kwargs or {}))
            finally:
                local.depth -= 1

    class DispatchWatch(TorchDispatchMode):
        """Kernel-level watch; forbidding ``backward`` also forbids any kernel run by the autograd engine."""

        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            """No: torch would wrap ``__torch_dispatch__`` in ``torch._disable_dynamo``, whose first call imports
            torch._dynamo (1.3 s in every worker that checks a name "from scratch")."""
            return False

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if watched is not None:
                if not function_on():
                    tamper("ran an operation with the Python-level watch taken off or skipped")
                hit(op_name(func), True)
                if no_autograd and _C._current_graph_task_id() != -1:
                    note("backward")
                    raise ForbiddenCall("autograd (a backward pass) is not allowed here")
            return func(*args, **(kwargs or {}))

    def hook(frame: Any, event: str, arg: Any) -> None:
        """The profile hook: forbidden torch functions called from Python, whatever became of the modes; in a thread
        but the caller's, it first puts that thread's own modes on (once: they stay, idle between calls)."""
        if watched is None:
            return
        if local.fw is None:
            put_on(FunctionWatch(), DispatchWatch())
        if event == "call":
            if frame.f_code.co_filename.startswith(_TORCH):
                hit(op_name(frame.f_code.co_name), False)
        elif event == "c_call":
            if id(arg) in _INSPECTION:
                if frame.f_code.co_filename.startswith(CELL_PREFIX):
                    tamper(f"called {_INSPECTION[id(arg)]}", frame)
            elif _torch_owned(arg):
                hit(op_name(arg), False)

    def put_on(fw: FunctionWatch, dw: DispatchWatch) -> None:
        """Push this thread's watches onto torch's mode stacks."""
        _ENTER_DISPATCH(dw)
        _ENTER_FUNCTION(fw)
        local.fw, local.dw = fw, dw

    @contextlib.contextmanager
    def forbidding(names: Iterable[str]) -> Iterator[list[str]]:
        """Within the block, calling any of ``names`` raises; yields the names hit."""
        nonlocal watched, no_autograd, hits
        names = frozenset(names)
        found: list[str] = []
        if not names:
            yield found
            return
        fw, dw = FunctionWatch(), DispatchWatch()
        put_on(fw, dw)
        previous = _GET_PROFILE()
        watched, no_autograd, hits = names, bool(names & {"backward", "grad"}), found
        if not (_on_top(_FUNCTIONS, fw) and _on_top(_DISPATCHES, dw)):
            tamper("the watch could not be put on torch's mode stacks: torch's mode classes were changed")
        _SET_PROFILE(hook)
        try:
            yield found
        finally:
            if not (_GET_PROFILE() is hook and _on_top(_FUNCTIONS, fw) and _on_top(_DISPATCHES, dw)
                    and type(fw) is FunctionWatch and type(dw) is DispatchWatch):
                tamper("the watch was no longer in place at the end of the call")
            watched = None
            _SET_PROFILE(previous)
            if _on_top(_FUNCTIONS, fw):
                _EXIT_FUNCTION(fw, None, None, None)
            if _on_top(_DISPATCHES, dw):
                _EXIT_DISPATCH(dw, None, None, None)

    def watched_thread(function: Callable, args: tuple, kwargs: dict) -> None:
        """A thread's first step: the profile hook, idle until a call is watched."""
        _SET_PROFILE(hook)
        function(*args, **kwargs)

    def start_thread(function: Callable, args: tuple, kwargs: dict | None = None) -> int:
        """``_thread.start_new_thread``, under which ``threading`` and every thread pool start threads."""
        return _START_THREAD(watched_thread, (function, args, {} if kwargs is None else kwargs))

    def switch(original: Callable, what: str, harmless: Callable[..., bool]) -> Callable:
        """``original``, a torch switch, reporting its use against the watch (unless ``harmless`` says not)."""
        def switched(*args: Any, **kwargs: Any) -> Any:
            if watched is not None and not harmless(*args, **kwargs):
                tamper(what)
            return original(*args, **kwargs)
        return switched

    switches: dict[str, tuple[str, Callable[..., bool]]] = {
        "_pop_torch_function_stack": ("took the watch off torch's function mode stack",
                                      lambda: not _on_top(_FUNCTIONS, local.fw) or _delivering(sys._getframe(1))),
        "_pop_torch_dispatch_stack": ("took the watch off torch's dispatch mode stack",
                                      lambda key=None: key is not None or not _on_top(_DISPATCHES, local.dw)),
        "_set_torch_function_state": ("switched off torch functions",
                                      lambda state: state == _C._TorchFunctionState.ENABLED),
        "DisableTorchFunction": ("switched off torch functions (DisableTorchFunction)", _never),
        "_set_skip_next_torch_function": ("skipped torch functions", _never),
        "_skip_one_hop_torch_function": ("skipped torch functions", _never),
        "_DisableTorchDispatch": ("switched off torch dispatch (_DisableTorchDispatch)", _never),
    }
    placed: list[tuple[object, str]] = []  # (owner, attribute): what install() replaced, or the watch relies on

    def install() -> None:
        """Watch every thread started from now on, and put the reporting switches wherever torch's modules hold
        the originals; once, in the fork server, before any student code."""
        if placed:
            return
        for owner, name in ((_thread, "start_new_thread"), (_thread, "start_new"), (threading, "_start_new_thread")):
            setattr(owner, name, start_thread)
            placed.append((owner, name))
        placed.append((threading, "_profile_hook"))  # set by threading.setprofile, it would replace the hook
        replace = {id(getattr(_C, name)): switch(getattr(_C, name), what, harmless)
                   for name, (what, harmless) in switches.items()}
        for module in [m for name, m in list(sys.modules.items()) if name.split(".")[0] == "torch" and m]:
            for name, value in list(vars(module).items()):
                if id(value) in replace:
                    setattr(module, name, replace[id(value)])
                    placed.append((module, name))

    def tampering() -> list[str]:
        """Take the tampering seen since the last time."""
        taken = log[:]
        log.clear()
        return taken

    def installed() -> tuple[tuple[object, str], ...]:
        """The attributes that install() replaced or that the watch relies on, for seal.py."""
        return tuple(placed)

    return forbidding, install, tampering, installed, FunctionWatch, DispatchWatch


forbidding, install, tampering, installed, _FunctionWatch, _DispatchWatch = _build()
