"""Every instructor notebook wears the same frame, so that a student knows where to look: the title
``# Assignment N: Title``, the objectives and a points table before the first code cell, a summary at the end, and
labelled axes on every figure. The points table states what the hidden checks are worth (read from their marks by
``plugin.max_points``) and what nbgrader gives each written answer, so that it cannot drift from the grader.
Static reading only: no notebook runs."""
from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path

import pytest

from autograder.assignment import Assignment
from autograder.notebook import Cell, read, runnable
from autograder.plugin import max_points
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "source").glob("[0-9][0-9]_*/*.ipynb"))
ROW = re.compile(r"\|\s*`(\w+)`( \(written, graded by hand\))?\s*\|\s*(\d+(?:\.\d+)?)\s*\|")
TOTAL = re.compile(r"\|\s*\*\*Total\*\*\s*\|\s*\*\*(\d+(?:\.\d+)?)\*\*\s*\|")
BULLET = re.compile(r"^\s*[*-] \S", re.M)

# what draws on an axes, what makes axes, what labels them, what hides them (images)
DRAWS = {"plot", "scatter", "imshow", "semilogy", "semilogx", "loglog", "hist", "bar", "barh", "errorbar",
         "fill_between", "matshow", "contour", "contourf", "pcolormesh", "boxplot"}
LABELS = {"x": {"set_xlabel", "xlabel", "supxlabel"}, "y": {"set_ylabel", "ylabel", "supylabel"}}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "path" in metafunc.fixturenames:
        metafunc.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])


@functools.cache
def cells(path: Path) -> tuple[Cell, ...]:
    return tuple(read(path))


def section(path: Path, heading: str) -> str:
    """The text under ``## heading`` in the markdown before the first code cell, up to the next heading."""
    before = []
    for cell in cells(path):
        if cell.kind == "code":
            break
        before.append(cell.source)
    found = re.search(rf"^## {heading}\s*$(.*?)(?=^#|\Z)", "\n\n".join(before), re.M | re.S)
    assert found, f"{path.name}: no '## {heading}' section before the first code cell"
    return found.group(1)


def written_points(path: Path) -> dict[str, float]:
    """nbgrader's points of each written answer (a markdown solution cell), by grade_id."""
    raw = json.loads(path.read_text())["cells"]
    return {c["metadata"]["nbgrader"]["grade_id"]: float(c["metadata"]["nbgrader"]["points"]) for c in raw
            if c["cell_type"] == "markdown" and c.get("metadata", {}).get("nbgrader", {}).get("solution")}


def test_title(path):
    first = cells(path)[0]
    number = int(path.parent.name[:2])
    title = first.source.splitlines()[0] if first.source else ""
    assert first.kind == "markdown" and re.fullmatch(rf"# Assignment {number}: \S.*", title), \
        f"{path.name}: the first cell's first line should read '# Assignment {number}: <Title>', not {title!r}"
    assert len(first.source.split()) > 10, f"{path.name}: the title needs a short introduction below it"


def test_objectives(path):
    assert BULLET.search(section(path, "Objectives")), f"{path.name}: the objectives should be a bulleted list"


def test_points_table_states_what_grading_gives(path):
    text = section(path, "Points")
    assert re.search(r"^\| Graded name \| Points \|$", text, re.M), f"{path.name}: no '| Graded name | Points |' table"
    rows = [(name, bool(written), float(points)) for name, written, points in ROW.findall(text)]
    written = written_points(path)
    checks = max_points(Assignment(path.parent.name).checks)
    expected = {**checks, **written}
    assert sorted(name for name, _, _ in rows) == sorted(expected), \
        f"{path.name}: the points table's rows should be the graded names {sorted(expected)}"
    for name, is_written, points in rows:
        assert is_written == (name in written), f"{path.name}: mark `{name}` '(written, graded by hand)' " \
                                                f"if and only if it is a written answer"
        assert points == expected[name], f"{path.name}: `{name}` is worth {expected[name]:g}, not {points:g}"
    in_cells = [c.grade_id for c in cells(path) if c.solution and c.grade_id in expected]
    assert [name for name, _, _ in rows if name in in_cells] == in_cells, \
        f"{path.name}: the rows should follow the notebook's order of answers, {in_cells}"
    total = TOTAL.search(text)
    assert total and float(total.group(1)) == sum(expected.values()), \
        f"{path.name}: the table should end with '| **Total** | **{sum(expected.values()):g}** |'"


def test_summary_ends_the_notebook(path):
    last = cells(path)[-1]
    assert last.kind == "markdown" and last.source.startswith("## Summary") and BULLET.search(last.source), \
        f"{path.name}: the last cell should be a '## Summary' with a few bullets"


def _called(node: ast.AST) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def _axes_made(call: ast.Call) -> int:
    """How many axes ``subplots(nrows, ncols)`` makes, where its sizes are literal numbers."""
    sizes = [a.value for a in call.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, int)]
    sizes += [k.value.value for k in call.keywords if k.arg in ("nrows", "ncols") and isinstance(k.value, ast.Constant)]
    return max(1, functools.reduce(lambda a, b: a * b, sizes, 1))


def _hides_axes(call: ast.Call) -> bool:
    return _called(call) == "set_axis_off" or (_called(call) == "axis" and any(
        isinstance(a, ast.Constant) and a.value == "off" for a in call.args))


def unlabelled(cell: Cell) -> list[str]:
    """What a drawing cell leaves unlabelled: ``x`` or ``y`` where fewer axes get that label than the cell makes
    (a call in a loop or a function, or a figure's ``supxlabel``, labels them all), counting images whose axes are
    turned off."""
    tree = ast.parse(cell.source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    if not any(_called(c) in DRAWS for c in calls):
        return []
    made = sum(_axes_made(c) for c in calls if _called(c) == "subplots") or 1
    looped = {id(n) for loop in ast.walk(tree) if isinstance(loop, (ast.For, ast.comprehension, ast.FunctionDef))
              for n in ast.walk(loop)}  # a label in a loop, or in a helper given each axes, labels them all

    def labelled(axis: str) -> int:
        return sum(made if id(c) in looped or _called(c).startswith("sup") else 1 for c in calls
                   if _called(c) in LABELS[axis] or _hides_axes(c)
                   or (_called(c) == "set" and any(k.arg == f"{axis}label" for k in c.keywords)))

    return [axis for axis in ("x", "y") if labelled(axis) < made]


def test_figures_have_labelled_axes(path):
    missing = [f"{cell.label}: no {' or '.join(axes)} label" for cell in runnable(list(cells(path)))
               if (axes := unlabelled(cell))]
    assert not missing, f"{path.name}: every figure needs labelled axes (or, for images, axes turned off): " + \
        "; ".join(missing)
