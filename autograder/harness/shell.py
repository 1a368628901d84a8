"""``get_ipython()`` and ``display`` in the worker, so that a cell runs in grading as it runs in Jupyter.

The grader turns IPython's syntax into Python with IPython's own input
transformations (notebook.python_source): ``%time x = f()`` becomes
``x = get_ipython().run_line_magic('time', 'x = f()')``, ``files = !ls`` becomes
``files = get_ipython().getoutput('ls')``. This shell answers those calls
without importing IPython: magics that run Python run it in the notebook's
namespace, shell commands run in the sandbox, display-only magics do nothing,
and installing packages is skipped (the grader's packages are preinstalled).
"""
from __future__ import annotations

import linecache
import os
import re
import subprocess
import sys
import time
from typing import Any

from .errors import cell_filename

QUIET = {"matplotlib", "config", "load_ext", "reload_ext", "unload_ext", "autoreload", "aimport", "pylab",
         "precision", "xmode", "colors", "who", "whos", "who_ls", "history", "store", "debug", "pdb", "tb",
         "qtconsole", "notebook", "autosave", "javascript", "js", "html", "HTML", "latex", "markdown", "svg",
         "reset_selective", "pprint", "doctest_mode", "automagic", "autocall", "alias_magic", "lsmagic"}
RUNS_PYTHON = {"time", "timeit", "capture", "prun", "lprun", "memit", "mprun"}
SHELL = {"bash", "sh", "script", "system", "sx"}
INSTALLERS = {"pip", "pip3", "conda", "mamba", "uv"}
_TIMEIT_OPTIONS = re.compile(r"^(\s*-(?:[nrp]\s*\d+|[tcqo]))+\s*")  # %timeit -n 10 -r 3 f(): the statement is f()


class UsageError(Exception):
    """A magic the grader cannot run, as IPython calls it."""


class SList(list):
    """What ``x = !cmd`` gives: the output's lines, with IPython's ``.s``, ``.n`` and ``.l``."""

    @property
    def s(self) -> str:
        return " ".join(self)

    @property
    def n(self) -> str:
        return "\n".join(self)

    @property
    def l(self) -> list[str]:  # noqa: E743 (IPython's name)
        return list(self)


class Shell:
    """The parts of IPython's ``InteractiveShell`` that notebook code calls."""

    def __init__(self, ns: dict) -> None:
        self.user_ns, self.cell = ns, 0

    def __repr__(self) -> str:
        return "<grading shell: not IPython, not Colab>"

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> Any:
        if name in RUNS_PYTHON:  # on the line of the cell that called it, for tracebacks
            statement = _TIMEIT_OPTIONS.sub("", line) if name == "timeit" else line
            return self._run("\n" * (sys._getframe(1).f_lineno - 1) + statement, time_it=name == "time")
        return self._magic(name, line, None)

    def run_cell_magic(self, name: str, line: str, cell: str) -> Any:
        if name in RUNS_PYTHON:
            self._show_source(f"%%{name} {line}".rstrip() + "\n" + cell)
            return self._run("\n" + cell, time_it=name == "time")  # its lines keep their numbers in the cell
        if name == "writefile":
            append = line.split()[:1] == ["-a"]
            with open(line.split()[-1], "a" if append else "w") as f:
                f.write(cell)
            return None
        if name in SHELL:
            return self.system(cell if name != "script" else f"{line.split()[0]} <<'__CELL__'\n{cell}\n__CELL__")
        return self._magic(name, line, cell)

    def magic(self, line: str) -> Any:
        name, _, rest = line.lstrip("%").partition(" ")
        return self.run_line_magic(name, rest)

    def system(self, command: str) -> None:
        """Run a shell command in the sandbox; its output goes to the notebook's, as in Jupyter."""
        if self._installs(command):
            return None
        self.user_ns["_exit_code"] = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL).returncode
        return None

    def getoutput(self, command: str, split: bool = True) -> SList | str:
        if self._installs(command):
            return SList()
        done = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace")
        return SList(done.stdout.splitlines()) if split else done.stdout

    def _installs(self, command: str) -> bool:
        """Whether ``command`` installs packages, which grading skips (saying so in the output)."""
        words = command.split()
        if "install" in words and {w.rsplit("/", 1)[-1] for w in words[:4]} & INSTALLERS:
            print(f"[grading] skipped `{command.strip()}`: the grader's packages are already installed")
            return True
        return False

    def _magic(self, name: str, line: str, cell: str | None) -> Any:
        if name in QUIET:
            return None
        if name in INSTALLERS:
            return None if self._installs(f"{name} {line}") else self.system(f"{name} {line}")
        if name == "env":
            return self._env(line)
        if name == "cd":
            os.chdir(os.path.expanduser(line.strip() or "~"))
            return None
        if name == "pwd":
            return os.getcwd()
        if name in ("ls", "cat", "cp", "mv", "rm", "mkdir", "rmdir", "less", "more", "clear"):
            return self.system(f"{name} {line}")
        raise UsageError(f"{'%%' if cell is not None else '%'}{name} is not available when grading: remove it "
                         "from the cell")

    def _env(self, line: str) -> Any:
        if "=" in line:
            key, _, value = line.partition("=")
            os.environ[key.strip()] = value.strip()
            return None
        return os.environ.get(line.strip()) if line.strip() else dict(os.environ)

    def _run(self, source: str, time_it: bool) -> Any:
        """Run ``source`` once in the notebook's namespace (``%timeit`` too: its repetitions only time it); an
        expression's value is returned, as IPython does."""
        filename = cell_filename(self.cell)
        started = time.perf_counter()
        try:
            code, mode = compile(source, filename, "eval"), "eval"
        except SyntaxError:
            code, mode = compile(source, filename, "exec"), "exec"
        value = eval(code, self.user_ns) if mode == "eval" else exec(code, self.user_ns)
        if time_it:
            print(f"Wall time: {time.perf_counter() - started:.3f} s")
        return value

    def _show_source(self, source: str) -> None:
        """Tracebacks show the cell as written, magic line included."""
        filename = cell_filename(self.cell)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def display(*objects: Any, **kwargs: Any) -> None:
    """IPython's ``display``, which Jupyter makes a builtin: the objects' text, as a console shows them."""
    for obj in objects:
        print(obj if isinstance(obj, str) else repr(obj))
