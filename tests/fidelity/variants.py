"""Notebooks as students hand them in: the instructor's answers saved by other editors, with IPython syntax, under
other names, broken, or of another assignment. tests/test_fidelity.py grades every variant of every assignment.

Each variant is ``(name, build, expect)``: ``build(source, dest_folder, assignment)`` writes one submission
into ``dest_folder`` (the student's assignment folder) and ``expect`` is what the grade must be: ``"full"`` (a
correct notebook keeps every mark), ``"zero"`` (graded, nothing earned) or ``"ungradable"``. No variant may end
as ``grader_error``.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat

from autograder.release import assignment_names

ORDER = assignment_names(Path(__file__).resolve().parents[2] / "source")  # every assignment, a new one too


def _read(source: Path) -> nbformat.NotebookNode:
    return nbformat.read(source, as_version=4)


def _write(nb: nbformat.NotebookNode, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def _first_code(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.cell_type == "code")


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def unreadable(source: Path, folder: Path, assignment: str) -> None:
    (folder / source.name).write_text("I could not get Jupyter to work, so here are my answers as text.\n")


def empty_file(source: Path, folder: Path, assignment: str) -> None:
    (folder / source.name).write_bytes(b"")


def zero_cells(source: Path, folder: Path, assignment: str) -> None:
    nb = _read(source)
    nb.cells = []
    _write(nb, folder / source.name)


def empty_cells(source: Path, folder: Path, assignment: str) -> None:
    """Every cell emptied: what "Clear" on each cell and a save leave."""
    nb = _read(source)
    for cell in nb.cells:
        cell.source = ""
    _write(nb, folder / source.name)


def nbformat3(source: Path, folder: Path, assignment: str) -> None:
    nbformat.write(nbformat.convert(_read(source), 3), folder / source.name, version=3)


def colab(source: Path, folder: Path, assignment: str) -> None:
    """Saved by Google Colab: its metadata, no nbgrader metadata, sources as strings, outputs kept."""
    nb = _read(source)
    nb.metadata = {"colab": {"provenance": [], "toc_visible": True}, "accelerator": "GPU",
                   "kernelspec": {"name": "python3", "display_name": "Python 3"},
                   "language_info": {"name": "python"}}
    for cell in nb.cells:
        cell.metadata = {"id": cell.get("id", "x"), "colab": {"base_uri": "https://localhost:8080/"}}
    raw = json.loads(nbformat.writes(nb))
    for cell in raw["cells"]:
        cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    (folder / source.name).write_text(json.dumps(raw, indent=2))


def no_nbgrader_metadata(source: Path, folder: Path, assignment: str) -> None:
    nb = _read(source)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    _write(nb, folder / source.name)


def copy_of(source: Path, folder: Path, assignment: str) -> None:
    """What Colab names a copy: the only notebook in the folder, under another name."""
    shutil.copyfile(source, folder / f"Copy of {source.name}")


def line_magics(source: Path, folder: Path, assignment: str) -> None:
    nb = _read(source)
    cell = _first_code(nb)
    cell.source = ("%matplotlib inline\n%load_ext autoreload\n%autoreload 2\n%config InlineBackend.figure_format = "
                   "'retina'\n%time _probe = sum(range(10))\nassert _probe == 45  # %time ran the statement\n"
                   + cell.source)
    _write(nb, folder / source.name)


def cell_magic(source: Path, folder: Path, assignment: str) -> None:
    """%%time over the import cell: its names must still be defined."""
    nb = _read(source)
    cell = _first_code(nb)
    cell.source = "%%time\n" + cell.source
    _write(nb, folder / source.name)


def shell_escapes(source: Path, folder: Path, assignment: str) -> None:
    nb = _read(source)
    cell = _first_code(nb)
    cell.source = ("!pip install -q torch torchvision\n!nvidia-smi\nlisting = !ls\nassert isinstance(listing, list)\n"
                   + cell.source)
    _write(nb, folder / source.name)


def get_ipython_calls(source: Path, folder: Path, assignment: str) -> None:
    nb = _read(source)
    cell = _first_code(nb)
    cell.source = ('get_ipython().run_line_magic("matplotlib", "inline")\n'
                   'if "google.colab" in str(get_ipython()):\n    raise RuntimeError("not Colab")\n'
                   + cell.source + '\ndisplay("ready")\n')
    _write(nb, folder / source.name)


def reordered(source: Path, folder: Path, assignment: str) -> None:
    """The answer cells in reverse order, all after the first code cell (the imports): functions look each
    other up when called, so the order of definitions does not matter."""
    nb = _read(source)
    answers = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    rest = [c for c in nb.cells if c not in answers]
    at = rest.index(_first_code(nb)) + 1
    nb.cells = rest[:at] + answers[::-1] + rest[at:]
    _write(nb, folder / source.name)


def windows(source: Path, folder: Path, assignment: str) -> None:
    """Windows line endings everywhere, in the file and in the cells, after a UTF-8 byte-order mark."""
    nb = _read(source)
    for cell in nb.cells:
        cell.source = cell.source.replace("\n", "\r\n")
    text = nbformat.writes(nb).replace("\n", "\r\n")
    (folder / source.name).write_bytes(b"\xef\xbb\xbf" + text.encode())


def other_assignment(source: Path, folder: Path, assignment: str) -> None:
    """The previous assignment's notebook (the next one's for 01), handed in here under this one's name."""
    other = ORDER[ORDER.index(assignment) - 1] if assignment != ORDER[0] else ORDER[1]
    [notebook] = (source.parent.parent / other).glob("*.ipynb")
    shutil.copyfile(notebook, folder / source.name)


Build = Callable[[Path, Path, str], None]
VARIANTS: list[tuple[str, Build, str]] = [
    ("unreadable", unreadable, "ungradable"),
    ("empty-file", empty_file, "ungradable"),
    ("zero-cells", zero_cells, "zero"),
    ("empty-cells", empty_cells, "zero"),
    ("nbformat3", nbformat3, "full"),
    ("colab", colab, "full"),
    ("no-nbgrader-metadata", no_nbgrader_metadata, "full"),
    ("copy-of", copy_of, "full"),
    ("line-magics", line_magics, "full"),
    ("cell-magic", cell_magic, "full"),
    ("shell-escapes", shell_escapes, "full"),
    ("get-ipython", get_ipython_calls, "full"),
    ("reordered", reordered, "full"),
    ("windows", windows, "full"),
    ("other-assignment", other_assignment, "ungradable"),
]


SLOW = ("05_mnist_classifier", "test_accuracy")  # trains a model: graded only where no full marks are expected


def build_all(source_root: Path, submitted: Path, assignments: list[str]) -> dict[tuple[str, str], str]:
    """Every variant of every assignment in nbgrader's layout: student ``<variant>``; returns the expectations."""
    expected = {}
    for assignment in assignments:
        [source] = (source_root / assignment).glob("*.ipynb")
        for name, build, expect in VARIANTS:
            folder = submitted / name / assignment
            folder.mkdir(parents=True, exist_ok=True)
            build(source, folder, assignment)
            expected[(name, assignment)] = expect
    return expected
