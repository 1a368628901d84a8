"""Namespaces of one worker inside the shared sandbox: its own processes, files in /tmp, network and IPC.

``enter`` runs in the keeper before it forks the worker (the worker becomes pid 1
of a new pid namespace); ``seal`` runs in the worker before any student code.
Both use only unprivileged kernel features: a new user namespace gives the
capabilities to mount a private /tmp, and ``seal`` then drops them all.
"""
from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP = 0x10000000, 0x20000000, 0x40000000, 0x02000000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x4000, 0x40000, 0x2, 0x4
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 4, 36, 38
_CAPABILITY_V3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def enter() -> None:
    """Move this process into new user, mount, pid, IPC, network and UTS namespaces, keeping its ids."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS),
           "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def not_dumpable() -> None:
    """Other processes of the same user may no longer read this one's memory, files or environment in /proc."""
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "set not dumpable")


def reap_orphans() -> None:
    """Processes orphaned below this one become its children, not init's: a server that ignores SIGCHLD then
    reaps them at once. A student's detached processes, killed, would otherwise wait as zombies for an init
    that may be slow to reap (or, in a container, never does), and in the container mode count against their
    user's process limit, so that the next worker of that user could not start its threads."""
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "become a subreaper")


def no_new_privs() -> None:
    """No program run from now on gains privileges (setuid bits and file capabilities are ignored)."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")


def seal(tmp_bytes: int) -> None:
    """Give the worker a private /tmp and /dev/shm, then drop every capability for good."""
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    for target in ("/tmp", "/dev/shm"):
        if os.path.isdir(target):
            options = f"size={tmp_bytes},mode=1777".encode()
            _check(_libc.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options), f"mount {target}")
    not_dumpable()
    no_new_privs()
    _check(_libc.capset(ctypes.byref(_CapHeader(_CAPABILITY_V3, 0)), (_CapData * 2)()), "drop capabilities")


def trial() -> None:
    """Exit 0 if ``enter`` and ``seal`` work here (run by the grader to choose how to start workers)."""
    enter()
    pid = os.fork()
    if pid == 0:
        try:
            seal(2**20)
        except OSError:
            os._exit(1)
        os._exit(0)
    raise SystemExit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
