"""Which sandbox the workers get on this machine, chosen by trying each one as the workers use it.

- ``bubblewrap``: the fork server runs in namespaces of its own (bubblewrap.py); the trial runs its exact
  command line, so a bubblewrap that starts ``true`` but cannot mount /proc (inside a container) is not chosen.
- ``container``: where namespaces are unavailable but the grader is root (Docker's default seccomp profile,
  Gradescope, Kubernetes): each worker becomes an unprivileged user of its own, confined by seccomp and, where
  the kernel offers it, Landlock (container.py, harness/confine.py); the trial confines a process so.
- ``none``: process limits alone. Grading refuses it unless the instructor passes ``--unsafe-no-sandbox``.

``AUTOGRADER_SANDBOX=bubblewrap|container|none`` tries that mode alone.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from . import bubblewrap, container
from .limits import Limits

BUBBLEWRAP, CONTAINER, NONE = "bubblewrap", "container", "none"
UNSAFE_FLAG = "--unsafe-no-sandbox"
_CONTAINER_TRIAL = ("import sys; sys.path.insert(0, {root!r}); from harness.confine import trial; trial({spec!r})")


@dataclass(frozen=True)
class Mode:
    name: str                       # BUBBLEWRAP, CONTAINER or NONE
    bwrap: str = ""                 # bubblewrap's path
    landlock: int = 0               # the Landlock ABI the container mode applies, 0 for none
    opened: tuple[str, ...] = ()    # folders the container mode lets other users pass through
    problems: tuple[str, ...] = ()  # why each better mode could not be used, each with its fix


@functools.cache
def mode() -> Mode:
    """This machine's mode, tried once per process."""
    return choose(os.environ.get("AUTOGRADER_SANDBOX", ""))


def choose(only: str = "") -> Mode:
    """The first mode whose trial passes, of bubblewrap and container (or ``only`` that one)."""
    if only not in ("", BUBBLEWRAP, CONTAINER, NONE):
        return Mode(NONE, problems=(f"AUTOGRADER_SANDBOX={only} is not one of {BUBBLEWRAP}, {CONTAINER}, {NONE}: "
                                    "unset it to let the grader choose.",))
    problems = []
    for name, trial in ((BUBBLEWRAP, _bubblewrap), (CONTAINER, _container)):
        if only in ("", name):
            found = trial()
            if isinstance(found, Mode):
                return dataclasses.replace(found, problems=tuple(problems))
            problems.append(found)
    if only == NONE:
        problems.append("AUTOGRADER_SANDBOX=none was set.")
    return Mode(NONE, problems=tuple(problems))


def _bubblewrap() -> Mode | str:
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "bubblewrap is not installed. Fix: install it (Debian and Ubuntu: apt-get install bubblewrap)."
    _, python = bubblewrap.python()
    try:
        trial = subprocess.run(bubblewrap.argv(bwrap, Limits(), [python, "-I", "-c", "pass"]),
                               capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap did not start ({exc})."
    if trial.returncode == 0:
        return Mode(BUBBLEWRAP, bwrap=bwrap)
    error = trial.stderr.strip().splitlines()[-1:] or [f"exit status {trial.returncode}"]
    return _bubblewrap_cause(error[0])


def _bubblewrap_cause(error: str) -> str:
    as_root = "run the grader as root in the container, which gives the container mode"
    if "proc" in error.lower():
        return (f"bubblewrap starts but cannot mount /proc ({error}), as inside a container, whose /proc is "
                f"partly masked. Fix: {as_root}.")
    if in_container():
        return (f"bubblewrap cannot create namespaces ({error}): the container's seccomp profile or missing "
                f"capabilities refuse them, as Docker's default profile does. Fix: {as_root}.")
    return (f"bubblewrap cannot create namespaces ({error}): unprivileged user namespaces are off here. Fix: "
            "allow them (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces=15000; on Ubuntu "
            "24.04 also kernel.apparmor_restrict_unprivileged_userns=0), or run the grader as root for the "
            "container mode.")


def in_container() -> bool:
    """Whether this process seems to run in a container (Docker, Podman, Kubernetes)."""
    if os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv") or "KUBERNETES_SERVICE_HOST" in os.environ:
        return True
    try:
        with open("/proc/1/cgroup") as f:
            return any(word in f.read() for word in ("docker", "kubepods", "containerd", "libpod"))
    except OSError:
        return False


def _container() -> Mode | str:
    if os.geteuid() != 0:
        return ("the container mode needs the grader to run as root, to give each worker an unprivileged user of "
                "its own. Fix: run the grader as root (inside its container, as Gradescope and docker run do).")
    try:
        opened = container.reach(container.python_paths())
        user = container.User()
    except OSError as exc:
        return f"the container mode cannot start: {exc}."
    try:
        boot = _CONTAINER_TRIAL.format(root=str(bubblewrap.HARNESS.parent), spec=json.dumps(user.confinement()))
        trial = subprocess.run([sys.executable, "-I", "-c", boot], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the container mode's trial did not run ({exc})."
    finally:
        user.close()
    if trial.returncode == 0:
        return Mode(CONTAINER, landlock=json.loads(trial.stdout)["landlock"], opened=tuple(opened))
    error = (trial.stderr.strip().splitlines() or [f"exit status {trial.returncode}"])[-1]
    if "seccomp" in error:
        return (f"the container mode cannot load libseccomp ({error}). Fix: install it (Debian and Ubuntu: "
                "apt-get install libseccomp2) and the kit's requirements.")
    if "Operation not permitted" in error:
        return (f"the container mode cannot make a worker an unprivileged user ({error}). Fix: keep the container's "
                "default capabilities (SETUID, SETGID and SETPCAP; not --cap-drop ALL).")
    if "Permission denied" in error:
        return (f"the container mode's user cannot read the Python environment ({error}). Fix: let other users "
                "read the Python installation and the virtual environment (chmod -R o+rX).")
    return f"the container mode's trial failed: {error}"


@functools.cache
def nested() -> bool:
    """Whether workers can get namespaces of their own inside bubblewrap, so that they may share one server."""
    if mode().name != BUBBLEWRAP:
        return False
    boot = (f"import sys; sys.path.insert(0, {str(bubblewrap.HARNESS.parent)!r}); "
            "from harness.isolate import trial; trial()")
    try:
        return subprocess.run([mode().bwrap, "--unshare-all", "--uid", str(bubblewrap.UID), "--gid",
                               str(bubblewrap.UID), "--cap-drop", "ALL", "--ro-bind", "/", "/", "--proc", "/proc",
                               "--dev", "/dev", "--", sys.executable, "-I", "-c", boot],
                              capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def describe(groups: str) -> str:
    """The line every run prints first (``groups``: which cgroups cap the workers)."""
    found = mode()
    if found.name == BUBBLEWRAP:
        server = ("one fork server, each worker in namespaces of its own" if nested() else
                  "a sandbox per worker (nested namespaces are unavailable here, so each start imports torch)")
        return (f"sandbox: bubblewrap (no network, no files but the Python environment), {server}, "
                f"process limits, {groups}")
    if found.name == CONTAINER:
        landlock = (f"Landlock ABI {found.landlock}: reads only the Python environment, writes only a private "
                    "folder" if found.landlock else "no Landlock here: file modes alone hide the grader's files")
        opened = f"; made {', '.join(found.opened)} passable for it" if found.opened else ""
        return (f"sandbox: container (each worker an unprivileged user of its own, no capabilities, seccomp: no "
                f"network, no ptrace; {landlock}{opened}), process limits, {groups}")
    return (f"WARNING: NO SANDBOX: student code runs with process limits only and can read this machine's files, "
            f"the hidden checks included, reach the network and forge results ({groups}); python -m autograder "
            "sandbox says why and how to fix it.")


def refusal() -> str:
    """Why grading refuses to run without a sandbox, each cause with its fix."""
    causes = "\n".join(f"  - {problem}" for problem in mode().problems)
    return (f"error: no sandbox works here, and without one student code could read the hidden checks, reach "
            f"the network and forge its results:\n{causes}\nFix one of these, or pass {UNSAFE_FLAG} to grade "
            "with process limits alone (never for real submissions).")
