"""Start the student's worker process, in the sandbox that the mode (modes.py) gives.

A fork server (harness/zygote.py) imports torch once, inside bubblewrap where
that is the mode. Each process that grades forks a copy of it, a slot, put once
into cgroups of its own, which forks that process's workers in milliseconds.
In bubblewrap each worker is pid 1 of namespaces of its own (processes, mounts,
network, IPC), has no capabilities and sees, read-only, /usr, a few files of
/etc, the Python installation, the virtual environment, the harness and the
grader's matplotlib font lists, and nothing else; only a small private /tmp is
writable. In the container mode each slot's workers become an unprivileged
user of the slot's own (container.py), confined by seccomp and Landlock.

A run holds all this in one ``Sandbox``, made where the run starts (cli.py,
audit.run) and passed down to what starts workers; its ``close`` ends the
slots, their cgroups and the server.
"""
from __future__ import annotations

import functools
import json
import os
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from . import bubblewrap, cgroup, container, modes
from .assignment import ALL_WARM_UP
from .bubblewrap import HARNESS
from .harness import wire
from .limits import Limits

_BOOT = ("import sys; sys.path.insert(0, {root!r}); from harness.zygote import main; "
         "main({fd}, {modules!r}, {fonts!r})")
START_SECONDS = 120       # a worker's first sign of life; the first one waits for the server to import torch


class WorkerDied(Exception):
    """The student's process exited or was killed."""


class WorkerTimeout(Exception):
    """The student's process did not answer in time; it has been killed."""


class ChannelCorrupted(WorkerDied):
    """The reply channel held a frame that does not answer the request: one that student code wrote there, or a
    second reply to an earlier request, whose ``culprit`` (what that request was about) is then known. The
    worker has been killed: what follows in the channel can no longer be paired with the requests."""

    def __init__(self, message: str, culprit: str | None = None):
        super().__init__(message)
        self.culprit = culprit


class Tampered(WorkerDied):
    """The request changed the harness or switched off its from-scratch watch (``found``, as harness/forbid.py and
    seal.py describe it). The worker has been killed: the harness in it can no longer be trusted."""

    def __init__(self, found: list[str]):
        super().__init__(f"tampered with the grader's harness or its from-scratch watch: {'; '.join(found)}")
        self.found = found


@functools.cache
def controllers() -> list[str]:
    return cgroup.available()


def describe_mode() -> str:
    """The sandbox mode, as every run prints it first."""
    return modes.describe(f"cgroups ({', '.join(controllers())})" if controllers() else "no cgroups")


def command(fd: int, limits: Limits, modules: tuple[str, ...] = ()) -> list[str]:
    """The argv of a fork server reading spawn requests on socket ``fd``, inside bubblewrap when that is the mode.

    It imports torch and ``modules`` before it forks a worker."""
    found = modes.mode()
    if found.name == modes.BUBBLEWRAP:
        _, python = bubblewrap.python()
        boot = _BOOT.format(root=bubblewrap.INSIDE, fd=fd, modules=modules, fonts=bubblewrap.FONTS)
        return bubblewrap.argv(found.bwrap, limits, [python, "-I", "-u", "-c", boot])
    if found.name == modes.CONTAINER:
        modules = ("harness.confine", *modules)  # each worker confines itself with it, before any student code
    boot = _BOOT.format(root=str(HARNESS.parent), fd=fd, modules=modules, fonts=str(bubblewrap.font_cache()))
    return [sys.executable, "-I", "-u", "-c", boot]


class _Output:
    """Keeps up to ``cap`` bytes of what a process writes to a pipe, read in a thread."""

    def __init__(self, fd: int, cap: int):
        self.cap, self.data, self.dropped = cap, bytearray(), 0
        self._thread = threading.Thread(target=self._drain, args=(fd,), daemon=True)
        self._thread.start()

    def _drain(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                room = max(self.cap - len(self.data), 0)
                self.data += chunk[:room]
                self.dropped += max(len(chunk) - room, 0)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def join(self, seconds: float) -> None:
        self._thread.join(timeout=seconds)


class Server:
    """The fork server (harness/zygote.py): torch imported once, one forked worker per spawn."""

    def __init__(self, limits: Limits, environment: dict[str, str], modules: tuple[str, ...] = ()):
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        out_r, out_w = os.pipe()
        self.owner = os.getpid()
        self.proc = subprocess.Popen(command(theirs.fileno(), limits, modules), stdin=subprocess.DEVNULL, stdout=out_w,
                                     stderr=out_w, pass_fds=(theirs.fileno(),), env=environment,
                                     start_new_session=True)
        theirs.close()
        os.close(out_w)
        self.output = _Output(out_r, 64 * 1024)

    def spawn(self, spec: dict, fds: list[int]) -> None:
        socket.send_fds(self._control, [json.dumps(spec).encode()], fds)

    def exit_code(self, wait: float = 0) -> int | None:
        """The server's exit code if it ends within ``wait`` s (known only to the process that started it)."""
        if os.getpid() != self.owner:
            return None
        try:
            code = self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None
        self.output.join(2)  # all it printed
        return code

    def stop(self, read_output: bool = True) -> None:
        """Kill the server and what it forked, and wait for all it printed unless ``read_output`` is false (a
        run's end, where nobody reads it: 0.05 s)."""
        self._control.close()
        if os.getpid() == self.owner:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            if read_output:
                self.output.join(2)


def _hello(sock: socket.socket) -> int:
    """Wait for a forked process's first byte on ``sock`` (with SO_PASSCRED set); its pid as this process sees
    it, or 0 if none came."""
    ready = select.select([sock], [], [], START_SECONDS)[0]
    hello, ancillary, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(12)) if ready else (b"", [], 0, None)
    pid = next((struct.unpack("iII", data[:12])[0] for level, kind, data in ancillary
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS), 0)
    return pid if hello == wire.HELLO else 0


def _not_started(server: Server, output: str = "") -> WorkerDied:
    code = server.exit_code(wait=2)
    reason = "did not start" if code is None else f"did not start: the sandbox {_exit_reason(code)}"
    return WorkerDied(f"{reason}; its output:\n{(server.output.text + output)[-2000:]}")


class Slot:
    """A copy of a fork server, in cgroups of its own, that forks one worker at a time: each is born in the
    group. Moving a worker in instead waited for an RCU grace period (8 ms under load), and every fork on the
    machine waited with it. A slot of the shared server is used again by the next worker of this process."""

    def __init__(self, server: Server, limits: Limits, own_server: bool):
        self.server, self.owner, self._own_server = server, os.getpid(), own_server
        self.group = cgroup.Group(limits.processes, limits.memory_mb, controllers())
        self.user = container.User() if modes.mode().name == modes.CONTAINER else None  # its workers' user
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._pidfd, self._base_mb = -1, 0.0
        try:
            self._control.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            server.spawn({"server": True}, [theirs.fileno()])
        except OSError:  # the server has gone
            self.close()
            raise
        finally:
            theirs.close()
        self.pid = _hello(self._control)
        try:
            self._pidfd = os.pidfd_open(self.pid) if self.pid else -1
        except ProcessLookupError:
            pass
        if self._pidfd < 0:
            error = _not_started(server)  # before close() stops a server of its own
            self.close()
            raise error
        self._control.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 0)
        self.group.add(self.pid)

    @property
    def alive(self) -> bool:
        """Whether its copy of the server still runs."""
        return self._pidfd >= 0 and not select.select([self._pidfd], [], [], 0)[0]

    def spawn(self, spec: dict, fds: list[int]) -> None:
        """Fork a worker; its peak memory counts from now."""
        self.group.kill(spare=self.pid)  # what an earlier worker's grader, killed, left behind
        if self.user:
            self.user.clear()
            spec = {**spec, "confine": self.user.confinement()}
        self._base_mb = self.group.reset_peak()
        socket.send_fds(self._control, [json.dumps(spec).encode()], fds)

    def peak_mb(self) -> float:
        """The peak memory of the worker forked last, in MiB (0 without a memory group)."""
        return max(self.group.peak_mb() - self._base_mb, 0.0)

    def clear(self) -> None:
        """After its worker ended: kill what it left behind."""
        self.group.kill(spare=self.pid)
        if self.user:
            self.user.clear()

    def close(self) -> None:
        self._control.close()
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1
        self.group.remove()
        if self.user:
            self.user.close()
        if self._own_server:
            self.server.stop()


class Sandbox:
    """The sandbox of one run: its limits, the fork server its workers share, and the slots made from it.

    Made where a run starts and passed down to what starts workers, so that the run's server, slots and
    cgroups have one owner, whose ``close`` (leaving ``with``) ends them. A batch's forked graders use a copy:
    their workers are forked in their lane's slot, and their ``close`` leaves what the batch made to it.
    """

    def __init__(self, limits: Limits = Limits(), warm_up: tuple[str, ...] = ALL_WARM_UP, workers: int = 0,
                 private: Iterable[Path] = ()) -> None:
        """``warm_up`` lists the slow imports that the workers need (``Assignment.warm_up``). ``workers`` is how
        many will run at once: when that many trainings fit the usable CPUs, OpenMP threads spin briefly before
        they sleep; unknown (0), they sleep at once. ``private`` folders (submissions, results) are hidden from
        the workers in the container mode. Nothing starts yet."""
        self.limits, self.warm_up, self.private = limits, warm_up, tuple(private)
        self.spin = 0 < workers * limits.train_threads <= len(os.sched_getaffinity(0))
        self._server: Server | None = None  # the shared fork server, started by start() or the first worker
        self._made: list[Slot] = []         # the slots made, which close() closes (those of this process)
        self._free: list[Slot] = []         # slots without a worker, for this process's next one
        self._lanes: dict[int, Slot] = {}   # the slot of each lane of a batch (see lane())

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def shared(self) -> bool:
        """Whether workers fork from one server: not in bubblewrap without nested namespaces, where a shared
        server would give all workers one /tmp and one process table."""
        return modes.mode().name != modes.BUBBLEWRAP or modes.nested()

    def environment(self) -> dict[str, str]:
        """The fork server's environment, which its workers inherit."""
        threads = str(self.limits.threads)
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "XDG_CACHE_HOME": "/tmp/cache",
            # the container mode's server runs beside the grader, as root, and its workers read this folder
            "MPLCONFIGDIR": str(container.matplotlib_folder()) if modes.mode().name == modes.CONTAINER
            else "/tmp/matplotlib",
            "NBGRADER_EXECUTION": "autograde", "CUDA_VISIBLE_DEVICES": "",
            "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
            # How OpenMP threads wait for work. Where trainings can outnumber the CPUs they sleep at once: with
            # -j 2 on 2 CPUs, two trainings of 2 threads each took 60 s for 250 steps spinning, 7 s asleep.
            # Where they cannot, they spin a while first (libgomp's default): a training step 14 -> 11 ms.
            **({"GOMP_SPINCOUNT": "300000"} if self.spin else {"OMP_WAIT_POLICY": "PASSIVE"}),
        }

    def start(self) -> None:
        """Start the shared fork server now, so that it imports torch while the caller does other work (else
        the first worker starts it). In the container mode, the project but the virtual environment and the
        harness, and the ``private`` folders, become unreadable for other users first."""
        if modes.mode().name == modes.CONTAINER:
            for folder in (HARNESS.parent.parent, *self.private):
                container.hide(folder, [Path(sys.prefix), HARNESS])
        if self.shared:
            self._fork_server()

    def selftest(self) -> str | None:
        """Start one worker and run an empty cell: None if the sandbox works, else why not."""
        try:
            worker = Worker(self)
        except WorkerDied as exc:
            return f"the sandbox's worker {exc}"
        try:
            worker.request({"op": "exec", "index": 0, "source": "pass"}, max(self.limits.cell_seconds, 120))
            return None
        except (WorkerDied, WorkerTimeout) as exc:
            return f"the sandbox's worker {exc}; its output:\n{worker.output[-2000:]}"
        finally:
            worker.kill()

    def _fork_server(self, fresh: bool = False) -> Server:
        """The server a new slot forks from: a server of its own imports only torch."""
        if not self.shared:
            return Server(self.limits, self.environment())
        if fresh or self._server is None or self._server.exit_code() is not None:
            self._server = Server(self.limits, self.environment(),
                                  ("matplotlib.pyplot", *self.warm_up))  # pyplot: every notebook imports it
        return self._server

    def _reusable(self, slot: Slot) -> bool:
        return self.shared and slot.server is self._server and slot.alive

    def slot(self) -> Slot:
        """A free slot of the shared server for a new worker, else a new one; a new server if the old one has
        gone."""
        while self._free:
            slot = self._free.pop()
            if self._reusable(slot):
                return slot
            self.discard(slot)
        for fresh in (False, True):
            server = self._fork_server(fresh)
            try:
                slot = Slot(server, self.limits, own_server=server is not self._server)
            except OSError:
                continue
            self._made.append(slot)
            return slot
        raise _not_started(server)

    def release(self, slot: Slot) -> None:
        """After its worker ended: kill what it left behind, and keep the slot for the next worker if it can be."""
        slot.clear()
        if self._reusable(slot):
            self._free.append(slot)
        else:
            self.discard(slot)

    def discard(self, slot: Slot) -> None:
        """Close a slot that is not to be used again."""
        slot.close()
        if slot in self._made:
            self._made.remove(slot)

    def lane(self, index: int) -> None:
        """Before a batch forks the grader of lane ``index``: make that lane's slot, once, and leave it this
        process's only free one, so that the forked grader's workers use it. A server of its own per worker
        (no nested namespaces) makes no lanes."""
        if not self.shared:
            return
        slot = self._lanes.get(index)
        if slot is None or not self._reusable(slot):
            self._free[:] = [s for s in self._free if s not in self._lanes.values()]
            try:
                slot = self._lanes[index] = self.slot()
            except WorkerDied:  # the grader's worker tries again, and reports it
                self._free.clear()
                return
        self._free[:] = [slot]

    def close(self) -> None:
        """Close the slots this process made, the processes in them and their cgroups (which a process ending
        with os._exit would leave behind), and stop the shared server if this process started it. A forked
        grader's copy leaves the batch's lanes and server to the batch."""
        for slot in [s for s in self._made if s.owner == os.getpid()]:
            self.discard(slot)
        self._free.clear()
        self._lanes.clear()
        if self._server is not None:
            self._server.stop(read_output=False)  # in a forked grader, only its copy of the control socket
            self._server = None


def _spec(limits: Limits) -> dict:
    mb = 2**20
    return {"isolate": modes.nested(), "tmp_bytes": limits.tmp_mb * mb, "memory_bytes": limits.memory_mb * mb,
            "file_bytes": limits.file_mb * mb, "processes": limits.processes, "threads": limits.threads}


class Worker:
    """One sandboxed student process, forked by a slot of ``sandbox`` and spoken to with wire frames."""

    def __init__(self, sandbox: Sandbox):
        self.limits = sandbox.limits
        self.exit_code: int | None = None
        self.peak_mb = 0.0
        self._asked: dict[int, str | None] = {}  # each request's token: what it was about
        self._sandbox = sandbox
        self._slot: Slot | None = sandbox.slot()
        self._server = self._slot.server
        requests_r, self._requests = os.pipe()
        self._replies, replies_w = socket.socketpair()
        self._replies.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # to learn the worker's pid
        out_r, out_w = os.pipe()
        life_r, self._life = os.pipe()
        self._out = _Output(out_r, self.limits.output_bytes)
        fds = [requests_r, replies_w.fileno(), out_w, life_r]
        try:
            self._spawn(fds)
        finally:
            replies_w.close()
            for fd in (requests_r, out_w, life_r):
                os.close(fd)
        self.pid, self._pidfd = self._greet()

    def _spawn(self, fds: list[int]) -> None:
        try:
            self._slot.spawn(_spec(self.limits), fds)
        except OSError:  # the slot's server has gone: take another
            self._sandbox.discard(self._slot)
            self._slot = self._sandbox.slot()
            self._server = self._slot.server
            try:
                self._slot.spawn(_spec(self.limits), fds)
            except OSError:
                self._not_started()

    def _greet(self) -> tuple[int, int]:
        """Wait for the worker's first byte; return its pid (as this process sees it) and a pidfd."""
        pid = _hello(self._replies)
        if pid > 0:
            try:
                return pid, os.pidfd_open(pid)
            except ProcessLookupError:
                pass
        self._not_started()

    def _not_started(self) -> NoReturn:
        self._pidfd = -1
        self._close()
        error = _not_started(self._server, self.output)  # before close() stops a server of its own
        self._sandbox.discard(self._slot)
        raise error

    @property
    def output(self) -> str:
        return self._out.text

    @property
    def output_dropped(self) -> int:
        return self._out.dropped

    def request(self, msg: dict, seconds: float, about: str | None = None) -> dict[str, Any]:
        """Send one request and wait up to ``seconds`` for its reply; ``about`` (a graded name) is the culprit
        if a second reply to this request turns up later."""
        token = secrets.randbits(64) or 1  # never the keeper's
        self._asked[token] = about
        try:
            wire.send(self._requests, msg, token)
            got, reply = wire.recv(self._replies.fileno(), deadline=time.monotonic() + seconds,
                                   accept=(token, wire.KEEPER))
            if got == wire.KEEPER:
                self._note_exit(reply)
                self.kill()
                raise WorkerDied(_exit_reason(self.exit_code))
            reply = _envelope(reply)
        except wire.TimedOut:
            self.kill()
            raise WorkerTimeout(f"no answer within {seconds:g} s") from None
        except (wire.Closed, BrokenPipeError):
            self._await_exit(2)
            raise WorkerDied(_exit_reason(self.exit_code)) from None
        except wire.Stray as exc:
            self.kill()
            if exc.token in self._asked:
                raise ChannelCorrupted("sent a second reply to an earlier call", self._asked[exc.token]) from None
            raise ChannelCorrupted("wrote a frame of its own into the grader's reply channel") from None
        except wire.WireError as exc:
            self.kill()
            raise ChannelCorrupted(f"sent an unreadable reply ({exc})") from None
        tampered = reply.pop("tampered")
        if tampered:
            self.kill()
            raise Tampered(tampered)
        return reply

    def _note_exit(self, frame: Any) -> None:
        """Keep the exit code from the keeper's last word, ``{"exited": code}``."""
        exited = frame.get("exited") if isinstance(frame, dict) else None
        self.exit_code = exited if type(exited) is int else None

    def _await_exit(self, seconds: float) -> None:
        """After the worker stopped reading: take the exit status its keeper sends, then clean up."""
        try:
            self._note_exit(wire.recv(self._replies.fileno(), deadline=time.monotonic() + seconds,
                                      accept=(wire.KEEPER,))[1])
        except wire.WireError:
            pass
        self.kill()

    def kill(self) -> None:
        """Kill the worker and everything it started."""
        if self._pidfd >= 0:
            self.peak_mb = max(self.peak_mb, self._slot.peak_mb() or _peak_of(self.pid))
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)  # as pid 1 of its namespace, it takes all along
                if not modes.nested():
                    os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.close(self._pidfd)
            self._pidfd = -1
        self._close()
        self._out.join(2)
        if self._slot is not None:
            self._sandbox.release(self._slot)
            self._slot = None

    def _close(self) -> None:
        for fd in (self._requests, self._life):
            try:
                os.close(fd)
            except OSError:
                pass
        self._requests = self._life = -1
        self._replies.close()

    @property
    def alive(self) -> bool:
        return self._pidfd >= 0 and not select.select([self._pidfd], [], [], 0)[0]


def _peak_of(pid: int) -> float:
    """The peak resident memory of one process, in MiB (without cgroups, the worker alone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


_ERROR_FIELDS = {"type": 100, "message": 1000, "where": 300, "function": 100}


def _envelope(reply: Any) -> dict[str, Any]:
    """A reply is ``{"ok": data}``, ``{"missing": name}`` or ``{"error": {...}}`` with short strings.

    It also says how many ``threads`` the request left running (0 when absent), and what ``tampered`` with the
    harness (none when absent).
    """
    if not isinstance(reply, dict):
        raise wire.WireError("a malformed reply")
    threads, tampered = reply.pop("threads", 0), reply.pop("tampered", [])
    if type(threads) is not int or type(tampered) is not list or not all(type(t) is str for t in tampered) \
            or len(reply) != 1 or not set(reply) <= {"ok", "missing", "error"}:
        raise wire.WireError("a malformed reply")
    tampered = [t[:300] for t in tampered[:10]]
    if "missing" in reply and not isinstance(reply["missing"], str) or \
            "ok" in reply and not isinstance(reply["ok"], dict):
        raise wire.WireError("a malformed reply")
    if "error" in reply:
        error = reply["error"]
        if not isinstance(error, dict):
            raise wire.WireError("a malformed reply")
        clean = {k: str(error.get(k, ""))[:cap] if isinstance(error.get(k, ""), str) else "?"
                 for k, cap in _ERROR_FIELDS.items()}
        flags = {k: error.get(k) is True for k in ("forbidden", "raised")}
        reply = {"error": {**clean, **flags}}
    return {**reply, "threads": threads, "tampered": tampered}


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (out of memory?)" if -code in (signal.SIGKILL, signal.SIGSEGV) else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {code} (os._exit or sys.exit in a background thread?)"
