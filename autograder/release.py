"""Make student versions with nbgrader's own ``generate_assignment``.

nbgrader runs in a child process, once for all assignments, on a scratch copy
of the course folder, so it neither writes a gradebook nor touches source/.
``nbgrader_course`` makes a course folder for nbgrader's own commands instead, and ``demo_submissions``
the demo's submissions from source/ and release/.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_GENERATE = """
import logging
import sys
from traitlets.config import Config
from nbgrader.coursedir import CourseDirectory
from nbgrader.converters import GenerateAssignment
root, names = sys.argv[1], sys.argv[2:]
for name in names:
    c = Config()
    c.CourseDirectory.root = root
    c.CourseDirectory.assignment_id = name
    c.GenerateAssignment.no_database = True
    c.SaveCells.enabled = False
    c.BaseConverter.force = True
    app = GenerateAssignment(coursedir=CourseDirectory(config=c), config=c)
    app.log.addHandler(logging.StreamHandler())
    app.log.setLevel(logging.ERROR)
    app.start()
"""


IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")


def assignment_names(source: Path) -> list[str]:
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def generate(source: Path, release_dir: Path, names: list[str] | None = None) -> list[Path]:
    """Write ``release_dir/<name>/`` for each assignment in ``source``; return the notebooks."""
    names = names or assignment_names(source)
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        for name in names:
            shutil.copytree(source / name, course / "source" / name, ignore=IGNORE)
        done = subprocess.run([sys.executable, "-c", _GENERATE, str(course), *names], capture_output=True,
                              text=True, cwd=course)
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stderr[-3000:]}")
        for name in names:
            shutil.rmtree(release_dir / name, ignore_errors=True)
            shutil.copytree(course / "release" / name, release_dir / name)
    return [p for n in names for p in sorted((release_dir / n).glob("*.ipynb"))]


def release(names: list[str], root: Path) -> list[Path]:
    return generate(root / "source", root / "release", names or None)


def demo_submissions(root: Path, dest: Path) -> Path:
    """The demo's submissions, in nbgrader's layout under ``dest`` (made anew): ada hands in the instructor's
    notebooks (full marks), ben the untouched release (zeros), and the others are ``samples/submitted``'s, written
    by hand (partial marks, a file that is no notebook)."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(root / "samples" / "submitted", dest, ignore=IGNORE)
    for student, folder in (("ada", root / "source"), ("ben", root / "release")):
        for name in assignment_names(folder):
            for notebook in sorted((folder / name).glob("*.ipynb")):
                (dest / student / name).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(notebook, dest / student / name / notebook.name)
    return dest


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course`` with this Python (and its alembic, which nbgrader runs)."""
    bin_dir = str(Path(sys.executable).parent)
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"})


def nbgrader_course(course: Path, names: list[str], root: Path) -> None:
    """Make ``course`` a course folder for nbgrader's own commands: the kit's config, ``source/``,
    and a gradebook that knows ``names`` (``nbgrader generate_assignment``)."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "nbgrader_config.py", course)
    for name in names:
        shutil.copytree(root / "source" / name, course / "source" / name, ignore=IGNORE, dirs_exist_ok=True)
        done = nbgrader(course, "generate_assignment", name, "--force")
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{done.stderr[-3000:]}")
