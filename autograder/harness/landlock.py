"""Landlock: the kernel's unprivileged access control, used by the container mode where the kernel offers it.

A ruleset names the paths a process may read and those it may write, and
since ABI 4 denies TCP, since ABI 6 abstract unix sockets and signals outside
the process's own domain. Three system calls, whose numbers are the same on
every architecture; the ruleset's size tells the kernel which fields it holds.
"""
from __future__ import annotations

import ctypes
import os
import stat

_libc = ctypes.CDLL(None, use_errno=True)
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_VERSION = 1          # LANDLOCK_CREATE_RULESET_VERSION
_PATH_BENEATH = 1     # LANDLOCK_RULE_PATH_BENEATH

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}  # every right up to it
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the rights a rule on a file may grant
_NET_TCP = 0b11         # bind and connect (ABI 4)
_SCOPES = 0b11          # abstract unix sockets and signals (ABI 6)


class _Ruleset(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi() -> int:
    """The Landlock ABI version of this kernel, 0 where it is off or a seccomp profile refuses it."""
    version = _libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION))
    return max(version, 0)


def restrict(read: list[str], write: list[str], devices: list[str]) -> int:
    """Limit this process and its future children: ``read`` and execute only beneath ``read`` and ``write``,
    write only beneath ``write``, read and write the ``devices``; no TCP, and (ABI 6) no abstract unix socket
    or signal outside. Paths that do not exist are left out. Returns the ABI applied, 0 if none was."""
    version = abi()
    if version == 0:
        return 0
    fs = _FS_BY_ABI[max(v for v in _FS_BY_ABI if v <= version)]
    attr = _Ruleset(fs, _NET_TCP if version >= 4 else 0, _SCOPES if version >= 6 else 0)
    size = 8 if version < 4 else 16 if version < 6 else 24
    ruleset = _libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    _check(ruleset, "create a Landlock ruleset")
    try:
        for paths, rights in ((read, EXECUTE | READ_FILE | READ_DIR), (write, fs),
                              (devices, READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV)):
            for path in paths:
                _allow(ruleset, path, rights & fs)
        _check(_libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)), "enforce the Landlock ruleset")
    finally:
        os.close(ruleset)
    return version


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_RIGHTS
        rule = _PathBeneath(rights, fd)
        _check(_libc.syscall(_ADD_RULE, ruleset, ctypes.c_int(_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0)),
               f"allow {path}")
    finally:
        os.close(fd)


def _check(result: int, what: str) -> None:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
