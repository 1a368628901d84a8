"""The fork server: imports torch once, then forks a fresh worker for each request.

Starting a worker this way takes milliseconds instead of seconds. Each request
on the control socket carries a spec (JSON) and four file descriptors: the
worker's requests, its replies (a Unix socket), its output and a "life" pipe
held by the grader. For each one the server forks a keeper, which (when
``isolate`` is set) enters new namespaces and forks the worker as their pid 1;
in the container mode (``confine``) the worker first becomes an unprivileged
user of its own (confine.py). The keeper kills the worker when the grader lets go of the life pipe and
reports the worker's exit status as a last frame on the replies socket. A
request ``{"server": true}`` with one descriptor forks a copy of the server
that serves on that socket (a slot's server, see sandbox.Slot).
"""
from __future__ import annotations

import fnmatch
import gc
import json
import os
import resource
import select
import shutil
import signal
import socket
import sys

from . import isolate, wire
from .__main__ import serve, warm_up


def main(control_fd: int, modules: tuple[str, ...] = (), fonts: str | None = None) -> None:
    if fonts:
        _copy_font_lists(fonts)
    warm_up(modules)
    isolate.not_dumpable()
    gc.freeze()  # keep the warmed-up heap shared with the workers
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
    isolate.reap_orphans()
    _serve(socket.socket(fileno=control_fd))


def _serve(control: socket.socket) -> None:
    """Fork a keeper for each spawn request on ``control``, or a server of its own for ``{"server": true}``."""
    while True:
        data, fds, _, _ = socket.recv_fds(control, 65536, 4)
        if not data:
            return  # the grader is gone
        sys.stdout.flush()
        if os.fork() == 0:
            control.close()
            try:
                spec = json.loads(data)
                if spec.get("server"):
                    _server(fds[0])
                else:
                    _keeper(spec, fds)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)


def _server(control_fd: int) -> None:
    """Serve on a control socket of its own. The grader puts this copy in a cgroup once, and the workers it
    forks are born there: moving each one in would wait for an RCU grace period, stalling every fork meanwhile."""
    control = socket.socket(fileno=control_fd)
    isolate.reap_orphans()  # not inherited from the server it was forked from
    control.sendmsg([wire.HELLO])  # the grader learns its pid from this
    _serve(control)
    os._exit(0)


def _copy_font_lists(folder: str) -> None:
    """Copy the grader's matplotlib font lists from ``folder``, where there are some, to where matplotlib
    looks, so that it reads one instead of building its own. Any trouble: matplotlib builds one, as before."""
    try:
        target = os.environ["MPLCONFIGDIR"]
        os.makedirs(target, exist_ok=True)
        for name in fnmatch.filter(os.listdir(folder), "fontlist-v*.json"):
            shutil.copyfile(os.path.join(folder, name), os.path.join(target, name))
    except (OSError, KeyError):
        pass


def _keeper(spec: dict, fds: list[int]) -> None:
    requests, replies, output, life = fds
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if spec["isolate"]:
        isolate.enter()
    pid = os.fork()
    if pid == 0:
        os.close(life)
        try:
            _worker(spec, requests, replies, output)
        finally:
            os._exit(70)
    os.close(requests)
    os.close(output)
    pidfd = os.pidfd_open(pid)
    if life in select.select([life, pidfd], [], [])[0]:  # the grader let go: end the worker and its descendants
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    try:
        wire.send(replies, {"exited": os.waitstatus_to_exitcode(status)}, wire.KEEPER)
    except OSError:
        pass
    os._exit(0)


def _worker(spec: dict, requests: int, replies: int, output: int) -> None:
    for fd in (1, 2):
        os.dup2(output, fd)
    os.close(output)
    if spec["isolate"]:
        isolate.seal(spec["tmp_bytes"])
    else:
        os.setsid()  # one process group for the grader to kill
    if "confine" in spec:
        from . import confine  # imported by the container mode's server at its start

        confine.confine(spec["confine"])
    for res, value in ((resource.RLIMIT_AS, spec["memory_bytes"]), (resource.RLIMIT_FSIZE, spec["file_bytes"]),
                       (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(res, (value, value))
    if os.getuid() != 0:  # the kernel ignores RLIMIT_NPROC for root
        resource.setrlimit(resource.RLIMIT_NPROC, (spec["processes"], spec["processes"]))
    import torch

    torch.set_num_threads(spec["threads"])
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(spec["threads"])
    socket.socket(fileno=os.dup(replies)).sendmsg([wire.HELLO])
    serve(requests, replies)
    os._exit(0)


if __name__ == "__main__":
    main(int(sys.argv[1]))
