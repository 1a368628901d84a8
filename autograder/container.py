"""The container mode's grader side: an unprivileged user per slot, its private folder, and what it may not reach.

Where bubblewrap cannot run but the grader is root (Docker, Gradescope,
Kubernetes), each slot of workers (sandbox.Slot) claims a user id of its own
that no account and no other grader uses; its workers become that user
(harness/confine.py). Before any student code runs, the grader makes its own
files unreadable for other users by their modes (``hide``), so that the hidden
checks, the source notebooks, MNIST's test labels, the results and the other
submissions stay out of reach whether or not Landlock is there too. When a
worker ends, every process of its user is killed and every file it left in the
machine's shared temporary folders is removed, before any result is written.
"""
from __future__ import annotations

import fcntl
import grp
import os
import pwd
import shutil
import signal
import stat
import sys
import tempfile
import time
from pathlib import Path

from .bubblewrap import ETC, HARNESS

UIDS = range(62000, 63000)  # above regular accounts' ids (Debian's end at 59999); one with an account is skipped
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock")  # writable by every user
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
# what a worker may read besides the Python environment; /proc/self is the worker's own folder, not others'
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", *(f"/etc/{name}" for name in ETC),
          "/proc/self", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/sys", "/sys/devices/system/cpu")


def runtime() -> Path:
    """The grader's own folder of claims and private folders, which only root may change."""
    for path in (Path("/run/autograder"), Path(tempfile.gettempdir()) / "autograder-root"):
        try:
            path.mkdir(mode=0o711, exist_ok=True)
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022:
            return path
    raise OSError("no folder for the container mode's users: /run/autograder and the temporary folder's "
                  "autograder-root are unusable (missing, not root's, or writable by others)")


def _folder(name: str, mode: int) -> Path:
    path = runtime() / name
    path.mkdir(mode=mode, exist_ok=True)
    os.chmod(path, mode)
    return path


def matplotlib_folder() -> Path:
    """The fork server's matplotlib folder, which its workers may read."""
    return _folder("matplotlib", 0o755)


def python_paths() -> list[str]:
    """The Python installation, the virtual environment, the harness and the server's matplotlib folder."""
    return [os.path.realpath(sys.base_prefix), sys.prefix, str(HARNESS), str(matplotlib_folder())]


class User:
    """An unused user id (and the group id of the same number), claimed while this object is open: a lock on a
    file that the kernel releases when its last holder ends, so a grader killed mid-run leaves no stale claim."""

    def __init__(self) -> None:
        claims = _folder("uids", 0o700)
        self.home, self._lock = "", -1
        for uid in UIDS:
            if _exists(uid):
                continue
            fd = os.open(claims / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid, self._lock = uid, fd
            self.clear()  # what a grader killed while it held this id left behind
            return
        raise OSError(f"all {len(UIDS)} user ids of the container mode are in use")

    def new_home(self) -> str:
        """A fresh private folder for the next worker, owned by this user, in a folder others cannot list."""
        self._remove_home()
        self.home = tempfile.mkdtemp(prefix=f"{self.uid}-", dir=_folder("homes", 0o711))
        os.chown(self.home, self.uid, self.uid)
        return self.home

    def confinement(self) -> dict:
        """What harness/confine.py needs to make the next worker this user, in a fresh private folder."""
        return {"uid": self.uid, "gid": self.uid, "home": self.new_home(), "read": [*SYSTEM, *python_paths()],
                "devices": list(DEVICES)}

    def clear(self, seconds: float = 5.0) -> None:
        """Kill every process of this user, detached ones too, then remove every file it left."""
        deadline = time.monotonic() + seconds
        while _processes(self.uid) and time.monotonic() < deadline:
            pid = os.fork()
            if pid == 0:  # as that user, kill(-1) reaches all of its processes and nothing else
                try:
                    os.setresgid(self.uid, self.uid, self.uid)
                    os.setresuid(self.uid, self.uid, self.uid)
                    os.kill(-1, signal.SIGKILL)
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)
        self._remove_home()
        for folder in SHARED_TMP:
            _remove_owned(folder, self.uid)

    def _remove_home(self) -> None:
        if self.home:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = ""

    def close(self) -> None:
        """Clear, then give the id back."""
        if self._lock >= 0:
            self.clear()
            os.close(self._lock)
            self._lock = -1


def _exists(uid: int) -> bool:
    """Whether an account or a group has this id."""
    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(uid)
            return True
        except KeyError:
            pass
    return False


def _processes(uid: int) -> list[int]:
    """The live processes whose real user id is ``uid``: zombies are left to whoever reaps them (the owner of
    /proc/PID is no guide, as a process that is not dumpable shows root there)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as f:
                fields = dict(line.split(b":", 1) for line in f if b":" in line)
            if int(fields[b"Uid"].split()[0]) == uid and fields[b"State"].split()[0] not in (b"Z", b"X"):
                found.append(int(entry.name))
        except (OSError, ValueError, KeyError, IndexError):
            continue
    return found


def _remove_owned(folder: str, uid: int) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            continue


def reach(paths: list[str]) -> list[str]:
    """Let other users pass through the folders above ``paths`` where they may not (pyenv puts Python under
    /root, which is 0700), hiding whatever else those folders hold. Returns the folders opened."""
    real = [Path(os.path.realpath(p)) for p in paths]
    opened = []
    for path in real:
        for folder in reversed(path.parents):  # from / down
            if not folder.stat().st_mode & stat.S_IXOTH:
                hide(folder, [p for p in real if folder in p.parents])
                opened.append(str(folder))
                break
    return opened


def hide(root: Path, visible: list[Path]) -> None:
    """Make everything under ``root`` unreadable for other users but ``visible`` (and the folders above them,
    which others may pass through but not list)."""
    root = Path(os.path.realpath(root))
    shown = [Path(os.path.realpath(p)) for p in visible]
    if root in shown:
        return
    if any(root in p.parents for p in shown):
        _chmod_other(root, stat.S_IXOTH)
        for child in os.scandir(root):
            path = Path(child.path)
            if child.is_symlink():
                continue
            if any(path == p for p in shown):
                continue
            if child.is_dir() and any(path in p.parents for p in shown):
                hide(path, visible)
            else:
                _chmod_other(path, 0)
    else:
        _chmod_other(root, 0)


def _chmod_other(path: Path, other: int) -> None:
    mode = stat.S_IMODE(path.lstat().st_mode)
    if mode & 0o007 != other:
        os.chmod(path, (mode & ~0o007) | other)
