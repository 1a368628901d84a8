"""Start the student's worker process: in bubblewrap where the kernel allows, else with process limits only.

Inside bubblewrap the worker has no capabilities and sees, read-only, /usr,
a few files of /etc, the Python installation, the virtual environment and
the harness, and nothing else: no project, no submissions, no home, no
network; only a small private /tmp is writable.
"""
from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from . import cgroup
from .harness import wire
from .limits import Limits

HARNESS = Path(__file__).resolve().parent / "harness"
SANDBOX_HARNESS = "/run/grader"  # where the harness appears inside bubblewrap
_BOOT = "import sys; sys.path.insert(0, {root!r}); from harness.__main__ import main; main({fd_in}, {fd_out})"


class WorkerDied(Exception):
    """The student's process exited or was killed."""


class WorkerTimeout(Exception):
    """The student's process did not answer in time; it has been killed."""


@functools.cache
def mode() -> tuple[str, str]:
    """``("bubblewrap", detail)`` when a trial sandbox starts, else ``("rlimits", why)``."""
    if os.environ.get("AUTOGRADER_SANDBOX") == "rlimits":
        return "rlimits", "AUTOGRADER_SANDBOX=rlimits was set"
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "rlimits", "bubblewrap (bwrap) is not installed"
    try:
        trial = subprocess.run([bwrap, "--unshare-all", "--ro-bind", "/", "/", "true"],
                               capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "rlimits", f"bubblewrap did not start: {exc}"
    if trial.returncode != 0:
        return "rlimits", f"bubblewrap cannot create namespaces here: {trial.stderr.strip()}"
    return "bubblewrap", bwrap


@functools.cache
def controllers() -> list[str]:
    return cgroup.available()


def describe_mode() -> str:
    kind, detail = mode()
    groups = f"cgroups ({', '.join(controllers())})" if controllers() else "no cgroups"
    if kind == "bubblewrap":
        return f"sandbox: bubblewrap (no network, no files but the Python environment), process limits, {groups}"
    return (f"WARNING: sandbox degraded to process limits only ({detail}). Student code can read "
            f"this machine's files and reach the network ({groups}). Install bubblewrap for isolation.")


ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "passwd", "group", "nsswitch.conf")


def _system_binds() -> list[str]:
    args: list[str] = []
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}:
        if not path.startswith("/usr"):
            args += ["--ro-bind", path, path]
    return args


def command(fd_in: int, fd_out: int, limits: Limits) -> list[str]:
    """The argv that starts a worker reading requests on ``fd_in``, inside bubblewrap when available."""
    python = os.path.join(sys.prefix, "bin", "python")
    if mode()[0] != "bubblewrap":
        return [python, "-I", "-u", "-c", _BOOT.format(root=str(HARNESS.parent), fd_in=fd_in, fd_out=fd_out)]
    # /tmp first: binds that lie under it (a project in /tmp) must land on top of the empty tmpfs
    return [mode()[1], "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_mb * 2**20), "--tmpfs", "/tmp",
            *_system_binds(),
            "--ro-bind", str(HARNESS), f"{SANDBOX_HARNESS}/harness",
            "--remount-ro", "/", "--chdir", "/tmp",
            "--", python, "-I", "-u", "-c", _BOOT.format(root=SANDBOX_HARNESS, fd_in=fd_in, fd_out=fd_out)]


def selftest(limits: Limits) -> str | None:
    """Start one worker and run an empty cell: None if the sandbox works, else why not."""
    worker = Worker(limits)
    try:
        worker.request({"op": "exec", "index": 0, "source": "pass"}, max(limits.cell_seconds, 120))
        return None
    except (WorkerDied, WorkerTimeout) as exc:
        return f"the sandbox's worker {exc}; its output:\n{worker.output[-2000:]}"
    finally:
        worker.kill()


def _environment(limits: Limits) -> dict[str, str]:
    threads = str(limits.threads)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib", "XDG_CACHE_HOME": "/tmp/cache",
        "NBGRADER_EXECUTION": "autograde", "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
    }


def _apply_limits(limits: Limits, group: cgroup.Group) -> None:
    """Runs in the child between fork and exec."""
    group.join()
    mb = 2**20
    for res, value in ((resource.RLIMIT_AS, limits.memory_mb * mb),
                       (resource.RLIMIT_FSIZE, limits.file_mb * mb),
                       (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(res, (value, value))
    if os.getuid() != 0:  # the kernel ignores RLIMIT_NPROC for root
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


class Worker:
    """One sandboxed student process, spoken to with wire frames."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._group = cgroup.Group(limits.processes, limits.memory_mb, controllers())
        to_worker_r, self._to_worker = os.pipe()
        self._from_worker, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        self.proc = subprocess.Popen(
            command(to_worker_r, from_worker_w, limits), stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
            pass_fds=(to_worker_r, from_worker_w), env=_environment(limits),
            start_new_session=True, preexec_fn=functools.partial(_apply_limits, limits, self._group))
        for fd in (to_worker_r, from_worker_w, out_w):
            os.close(fd)
        self._output = bytearray()
        self.output_dropped = 0
        self._reader = threading.Thread(target=self._drain, args=(out_r,), daemon=True)
        self._reader.start()

    def _drain(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                room = self.limits.output_bytes - len(self._output)
                self._output += chunk[:max(room, 0)]
                self.output_dropped += max(len(chunk) - max(room, 0), 0)

    @property
    def output(self) -> str:
        return self._output.decode("utf-8", "replace")

    def request(self, msg: dict, seconds: float) -> dict[str, Any]:
        """Send one request and wait up to ``seconds`` for the reply."""
        try:
            wire.send(self._to_worker, msg)
            return _envelope(wire.recv(self._from_worker, deadline=time.monotonic() + seconds))
        except wire.TimedOut:
            self.kill()
            raise WorkerTimeout(f"no answer within {seconds:g} s") from None
        except (wire.Closed, BrokenPipeError):
            code = self.kill(grace=2)
            raise WorkerDied(_exit_reason(code)) from None
        except wire.WireError as exc:
            self.kill()
            raise WorkerDied(f"sent an unreadable reply ({exc})") from None

    def kill(self, grace: float = 0) -> int | None:
        """Kill the worker and everything it started; return its exit code.

        ``grace`` seconds let a worker that is already exiting report its own status.
        """
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        for fd in (self._to_worker, self._from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self._to_worker = self._from_worker = -1
        self._reader.join(timeout=2)
        self._group.remove()
        return code

    @property
    def alive(self) -> bool:
        return self._to_worker >= 0 and self.proc.poll() is None


_ERROR_FIELDS = {"type": 100, "message": 1000, "where": 300, "function": 100}


def _envelope(reply: Any) -> dict[str, Any]:
    """A reply is ``{"ok": data}``, ``{"missing": name}`` or ``{"error": {...}}`` with short strings."""
    if not isinstance(reply, dict) or len(reply) != 1 or not set(reply) <= {"ok", "missing", "error"}:
        raise wire.WireError("a malformed reply")
    if "missing" in reply and not isinstance(reply["missing"], str) or "ok" in reply and not isinstance(reply["ok"], dict):
        raise wire.WireError("a malformed reply")
    if "error" in reply:
        error = reply["error"]
        if not isinstance(error, dict):
            raise wire.WireError("a malformed reply")
        clean = {k: str(error.get(k, ""))[:cap] if isinstance(error.get(k, ""), str) else "?"
                 for k, cap in _ERROR_FIELDS.items()}
        return {"error": {**clean, "forbidden": error.get("forbidden") is True}}
    return reply


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (out of memory?)" if -code in (signal.SIGKILL, signal.SIGSEGV) else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {code} (os._exit or sys.exit in a background thread?)"
