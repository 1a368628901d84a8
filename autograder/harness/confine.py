"""The container mode's confinement of one worker, for kernels or containers without namespaces for bubblewrap.

The fork server runs as root (Docker, Gradescope, a Kubernetes pod); each
worker, before any student code, becomes an unprivileged user of its own with
no capabilities and ``no_new_privs``, limits itself with Landlock where the
kernel offers it (reads: the Python environment and the harness; writes: its
private folder), then loads a seccomp filter built with libseccomp: no network
socket (loopback included), no ptrace, no other process's memory, no new
namespaces, no io_uring (whose operations would pass the filter by). What the
grader hides is also unreadable for that user by its files' ownership and
modes, whatever Landlock offers (see autograder/container.py).
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import sys
import tempfile

import pyseccomp as seccomp  # binds the system's libseccomp, which also refuses the other ABIs (x32, i386)

from . import isolate, landlock

PR_CAPBSET_DROP = 24
REFUSED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",   # other processes and their memory
    "io_uring_setup", "io_uring_enter", "io_uring_register",                  # I/O the filter would not see
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen",
    "fsconfig", "fsmount", "fspick", "open_by_handle_at",                     # namespaces and mounts
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "shmget", "semget", "msgget",  # System V IPC outlives the worker, shared by the whole container
)
NAMESPACE_FLAGS = (isolate.CLONE_NEWNS, isolate.CLONE_NEWUTS, isolate.CLONE_NEWIPC, isolate.CLONE_NEWUSER,
                   isolate.CLONE_NEWPID, isolate.CLONE_NEWNET, isolate.CLONE_NEWCGROUP)


def confine(spec: dict) -> int:
    """Become ``spec["uid"]``/``spec["gid"]`` in ``spec["home"]`` for good; Landlock then seccomp.

    ``spec["read"]`` lists what may be read besides the home, ``spec["devices"]`` the devices to read and write.
    Returns the Landlock ABI applied (0: none, the files' modes alone keep the grader's files out of reach).
    """
    _drop_bounding_set()
    uid, gid, home = spec["uid"], spec["gid"], spec["home"]
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # from root to another user: every capability is gone
    isolate.no_new_privs()
    isolate.not_dumpable()  # a change of user resets it
    if _capabilities() != (0, 0):
        raise OSError(errno.EPERM, "capabilities survived the change of user")
    os.environ.update(HOME=home, TMPDIR=home, XDG_CACHE_HOME=os.path.join(home, ".cache"))
    tempfile.tempdir = home
    os.chdir(home)
    abi = landlock.restrict(spec["read"], [home], spec["devices"])
    _seccomp(unix_sockets=abi >= 6)
    return abi


def _drop_bounding_set() -> None:
    """No capability can come back through a program run later (no_new_privs also sees to that)."""
    try:
        last = int(open("/proc/sys/kernel/cap_last_cap").read())
    except (OSError, ValueError):
        last = 40
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(last + 1):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EPERM:
            return  # without CAP_SETPCAP: the change of user and no_new_privs still hold


def _capabilities() -> tuple[int, int]:
    """This process's (effective, permitted) capability sets."""
    found = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("CapEff", "CapPrm"):
            found[key] = int(value, 16)
    return found["CapEff"], found["CapPrm"]


def _seccomp(unix_sockets: bool) -> None:
    """Refuse what isolation by user and Landlock leaves open. Unix sockets only where Landlock keeps them from
    the grader's abstract ones (``socketpair``, which ``multiprocessing.Pipe`` uses, is always allowed)."""

    refuse = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    if unix_sockets:
        rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    else:
        rules.add_rule(refuse, "socket")
    for name in REFUSED:
        rules.add_rule(refuse, name)
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")  # its flags lie out of the filter's reach; libc falls
    rules.load()                                             # back to clone, whose flags the rules above see


def trial(spec_json: str) -> None:
    """Confine this process as a worker would be, check that it holds, print the Landlock ABI (run by the grader
    to choose the mode); exit 1 with the reason if it fails."""
    try:
        abi = confine(json.loads(spec_json))
        if os.getuid() == 0:
            raise OSError("still root")
        for folder in (os.path.dirname(os.__file__), os.path.dirname(seccomp.__file__), os.path.dirname(__file__)):
            os.listdir(folder)  # the Python installation, the environment's packages and the harness, as this user
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
            raise OSError("a network socket was not refused")
        except PermissionError:
            pass
    except (OSError, ImportError, RuntimeError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(json.dumps({"landlock": abi}))
