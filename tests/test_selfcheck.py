"""``check``, the student's self-check: cells named as a student finds them in Jupyter, messages kept inside the
table, and a note where grading is kinder than a visible test (carry-forward)."""
import json
import re
import subprocess
import sys

import pytest

from autograder.assignment import Assignment, all_assignments, of_notebook
from autograder.audit import with_answers
from autograder.notebook import NotebookError, read
from autograder.plugin import max_points
from autograder.report import table
from autograder.selfcheck import WRAP, carry_forward_notes
from conftest import ROOT

TENSOR = "sigmoid returned NaN or inf: tensor([0.0000e+00, 2.0612e-09, 2.6894e-01,\n        5.0000e-01, nan])"


def test_a_multi_line_message_stays_inside_its_column():
    rows = [["sigmoid", "FAIL", TENSOR + " and more words" * 8], ["relu", "ok", ""]]
    lines = table(["name", "result", "message"], rows, wrap=40).splitlines()
    column = lines[0].index("message")
    assert lines[2] == "sigmoid  FAIL    sigmoid returned NaN or inf:"
    more = lines[3:-1]
    assert len(more) > 3 and all(line[:column].isspace() and line[column] != " " for line in more)
    assert all(len(line) - column <= 40 for line in lines[2:])
    assert lines[-1] == "relu     ok"
    assert "\n        5.0000e-01" not in "\n".join(lines)  # the repr's own break is gone


def test_a_table_without_wrap_keeps_each_row_on_one_line():
    assert table(["a", "b"], [["x", "one\ntwo   three"]]).splitlines() == ["a  b", "-  -------------", "x  one two three"]


def test_carry_forward_is_noted_only_where_the_reused_name_fails_too():
    carried = Assignment("04_activations").carried_forward
    assert carried["sigmoid_grad"] == ("sigmoid",)
    rows = [["sigmoid", "FAIL", "NaN"], ["sigmoid_grad", "FAIL", "wrong values"], ["tanh", "ok", ""],
            ["tanh_grad", "FAIL", "wrong values"], ["relu_grad", "FAIL", "bool"]]
    carry_forward_notes(rows, carried)
    assert rows[1][2].startswith("FAIL here, maybe only because of your sigmoid, whose test fails too: grading "
                                 "does not charge sigmoid_grad for sigmoid's mistakes")
    assert rows[1][2].endswith("wrong values")
    assert [r[2] for r in rows[2:]] == ["", "wrong values", "bool"]  # tanh passes; relu_grad builds on nothing


@pytest.mark.parametrize("assignment", sorted(all_assignments()))
def test_carry_forward_names_graded_names(assignment):
    names = set(max_points(Assignment(assignment).checks))
    for name, on in Assignment(assignment).carried_forward.items():
        assert {name, *on} <= names, f"{assignment}'s CARRY_FORWARD names {name}: {on}, not all graded names"


def test_a_notebook_is_known_by_its_folder_or_its_name(tmp_path):
    assert of_notebook(ROOT / "release" / "04_activations" / "Copy of activations.ipynb").id == "04_activations"
    assert of_notebook(tmp_path / "activations.ipynb").id == "04_activations"
    assert of_notebook(tmp_path / "mine.ipynb") is None


def test_cells_are_counted_as_a_student_counts_them(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Title"},
             {"cell_type": "code", "metadata": {}, "source": "import torch", "outputs": [], "execution_count": None},
             {"cell_type": "markdown", "metadata": {}, "source": "text"},
             {"cell_type": "code", "metadata": {}, "source": "\n\nx = torch.ones(3)\ny = x",
              "outputs": [], "execution_count": None}]
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    assert read(path)[3].label == 'code cell 2 ("x = torch.ones(3)")'  # Run All shows it as [2]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells[:2] + [3]}))
    with pytest.raises(NotebookError, match="its 3rd cell is not an object"):
        read(path)


def test_check_shows_a_kinder_grading_and_keeps_its_table(tmp_path):
    """One run of ``check`` on 04 with a sigmoid that overflows and a bool relu_grad."""
    notebook = tmp_path / "activations.ipynb"
    with_answers(ROOT / "source" / "04_activations" / "activations.ipynb", {
        "sigmoid": "def sigmoid(x):\n    return torch.exp(x) / (1 + torch.exp(x))\n",
        "relu_grad": "def relu_grad(x):\n    return x > 0\n"}, notebook)
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(notebook)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.split("\n\n")[0].splitlines()
    column = lines[0].index("message")
    rows = {line.split()[0]: i for i, line in enumerate(lines) if not line[:1].isspace()}
    assert all(line[:column].isspace() or line.split()[0] in rows for line in lines)  # no line out of its column
    assert all(len(line) - column <= WRAP for line in lines[2:])
    note = " ".join(line[column:] for line in lines[rows["sigmoid_grad"]:]).split("tanh_grad")[0]
    assert "FAIL here, maybe only because of your sigmoid" in note
    # the demo cell that subtracts relu_grad's bool tensor: torch's own NotImplementedError, named by its cell
    error = re.search(r'^code cell (\d+) \("xs = torch.linspace\(-8, 8, 1001\)"\)\s+ERROR\s+it raised '
                      r'NotImplementedError: Subtraction', done.stdout, re.M)
    assert error and "not implemented yet" not in done.stdout
    jupyter = [c for c in read(notebook) if c.kind == "code"]
    assert jupyter[int(error.group(1)) - 1].source.startswith("xs = torch.linspace(-8, 8, 1001)")
