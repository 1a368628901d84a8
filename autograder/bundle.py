"""A Gradescope autograder bundle for one assignment: ``<assignment>-gradescope.zip``.

At the zip's top level, as Gradescope expects: ``setup.sh`` (run once when
Gradescope builds the image), ``run_autograder`` (run per submission), the
pinned ``requirements.txt``, the ``autograder`` package with only this
assignment's hidden checks (its module, or its whole package) and its release
notebook (which places a written answer whose metadata an editor removed). The
two scripts are the templates in ``autograder/gradescope/``, with the tests'
visibility on Gradescope that the instructor chose
(``gradescope_results.parse_visibility``). The zip is the same, byte for byte,
for the same files and choices.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from .assignment import Assignment, all_assignments
from .gradescope_results import parse_visibility
from .result import write_atomic

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
TEMPLATES = PACKAGE / "gradescope"
_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: no build time in the bundle


def build(assignment_id: str, dest: Path, visibility: tuple[str, ...] = ()) -> Path:
    """Write ``dest/<assignment_id>-gradescope.zip`` and return its path; ``visibility``: rules ``[NAME=]VIS`` for
    the tests' visibility (ValueError where one is not)."""
    assignments = all_assignments()
    if assignment_id not in assignments:
        raise ValueError(f"no checks for an assignment named {assignment_id!r} "
                         f"(known: {', '.join(assignments) or 'none'})")
    assignment = assignments[assignment_id]
    rules = parse_visibility(list(visibility))  # checked: their words go into a shell script
    fill = {"@ASSIGNMENT@": assignment.id, "@NOTEBOOK@": assignment.notebook,
            "@VISIBILITY@": " ".join(f"--visibility {name + '=' if name else ''}{vis}" for name, vis in rules.items())}
    entries: dict[str, tuple[bytes, int]] = {  # name in the zip: (content, mode)
        "setup.sh": (_render(TEMPLATES / "setup.sh", fill), 0o755),
        "run_autograder": (_render(TEMPLATES / "run_autograder", fill), 0o755),
        "requirements.txt": ((ROOT / "requirements.txt").read_bytes(), 0o644),
    }
    release = [assignment.release] if assignment.release.is_file() else []
    for path in _package_files(assignment) + release:
        entries[path.relative_to(ROOT).as_posix()] = (path.read_bytes(), 0o644)

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            content, mode = entries[name]
            info = zipfile.ZipInfo(name, _DATE)
            info.create_system = 3  # Unix, so that unzip keeps the mode
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    target = dest / f"{assignment.id}-gradescope.zip"
    write_atomic(target, buf.getvalue())
    return target


def _render(template: Path, fill: dict[str, str]) -> bytes:
    text = template.read_text()
    for key, value in fill.items():
        text = text.replace(key, value)
    return text.encode()


def _package_files(assignment: Assignment) -> list[Path]:
    """The package's files, without caches, hidden files, these templates, or other assignments' checks.

    Of ``checks/`` it keeps ``checks/__init__.py`` and the assignment's own files (its module, or its whole
    package); ``assignment.all_assignments`` finds assignments there, so the trimmed package knows this one
    assignment and its notebook name.
    """
    own = {*assignment.files, PACKAGE / "checks" / "__init__.py"}
    keep = []
    for path in sorted(PACKAGE.rglob("*")):
        parts = path.relative_to(PACKAGE).parts
        if (not path.is_file() or path.suffix == ".pyc" or "__pycache__" in parts
                or any(p.startswith(".") for p in parts) or parts[0] == TEMPLATES.name):
            continue
        if parts[0] == "checks" and path not in own:
            continue
        keep.append(path)
    return keep
