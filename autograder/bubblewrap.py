"""The bubblewrap command line that the fork server runs in, and that the mode trial runs as it is.

Inside, the server is pid 1 of namespaces of its own (processes, mounts,
network, IPC) with no capabilities, and sees, read-only, /usr, a few files of
/etc, the Python installation, the virtual environment, the harness and the
grader's matplotlib font lists; only a small private /tmp is writable.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .limits import Limits

HARNESS = Path(__file__).resolve().parent / "harness"
INSIDE = "/run/grader"    # where the harness (and a virtual environment) appear inside bubblewrap
UID = 1000                # the sandbox's user id (mapped to the grader's own)
FONTS = f"{INSIDE}/fonts"  # the grader's matplotlib font lists, read-only, for the fork server to copy
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
    base = os.path.realpath(sys.base_prefix)
    if not base.startswith("/usr"):
        args += ["--ro-bind", base, base]
    return args


def python() -> tuple[list[str], str]:
    """Binds for this Python and the interpreter's path inside bubblewrap.

    A virtual environment appears under /run/grader, outside /tmp, which every worker replaces with its own.
    """
    if sys.prefix == sys.base_prefix:
        return [], os.path.join(sys.prefix, "bin", "python3")
    return ["--ro-bind", sys.prefix, f"{INSIDE}/venv"], f"{INSIDE}/venv/bin/python"


def font_cache() -> Path:
    """The grader's matplotlib cache folder, found as ``matplotlib.get_cachedir()`` finds it on Linux, without
    importing matplotlib (0.2 s) before the server starts."""
    return Path(os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib"))


def _font_lists() -> list[str]:
    """Binds of the grader's own matplotlib font lists (``./kit setup`` makes one), for the fork server to copy
    where its matplotlib looks: importing pyplot then reads a list instead of building one, 0.3 s of every
    start. matplotlib lists its own fonts by relative paths and those of /usr by paths that hold inside too."""
    binds = []
    for path in sorted(font_cache().glob("fontlist-v*.json")):
        if path.is_file():
            binds += ["--ro-bind-try", str(path), f"{FONTS}/{path.name}"]
    return binds


def argv(bwrap: str, limits: Limits, program: list[str]) -> list[str]:
    """``program`` (its first word a path inside) as the fork server runs: in namespaces of its own, with no
    capabilities, /proc, /dev, a private /tmp of ``limits.tmp_mb`` and read-only binds, /run/grader/harness
    among them."""
    binds, _ = python()
    # /tmp first: binds that lie under it (a project in /tmp) must land on top of the empty tmpfs
    return [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(UID), "--gid", str(UID),
            "--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_mb * 2**20), "--tmpfs", "/tmp",
            *_system_binds(), *binds, *_font_lists(),
            "--ro-bind", str(HARNESS), f"{INSIDE}/harness",
            "--remount-ro", "/", "--chdir", "/tmp", "--", *program]
