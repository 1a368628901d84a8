"""Notebooks graded as Jupyter runs them: every variant of tests/fidelity/variants.py, of every assignment, gets
its expected grade (a correct notebook keeps full marks however it was saved), and none a grader_error."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conftest import ROOT, failures, grade, read_results, scores

_spec = importlib.util.spec_from_file_location("variants", Path(__file__).parent / "fidelity" / "variants.py")
variants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(variants)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Two batches: the variants of 05 that keep full marks skip its training (test_accuracy), the rest not."""
    root = tmp_path_factory.mktemp("fidelity")
    expected = variants.build_all(ROOT / "source", root / "all", variants.ORDER)
    slow, skipped = variants.SLOW
    (root / "trains").mkdir()
    for (student, assignment), expect in expected.items():
        if assignment == slow and expect == "full":
            (root / "trains" / student).mkdir(exist_ok=True)
            (root / "all" / student / assignment).rename(root / "trains" / student / assignment)
    for submitted, extra in ((root / "all", ()), (root / "trains", ("--skip", skipped))):
        done = grade(submitted, root / "out", *extra)
        assert done.returncode == 0, done.stderr[-3000:]
    return expected, read_results(root / "out"), root / "out"


def _outcome(res: dict) -> str:
    status = res["extra_data"]["status"]
    if status != "graded":
        return status
    got = scores(res)
    if all(score == top for score, top in got.values()):
        return "full"
    return "zero" if all(score == 0 for score, _ in got.values()) else "partial"


@pytest.mark.parametrize("variant", [v[0] for v in variants.VARIANTS])
def test_every_assignment_gets_the_expected_grade(graded, variant):
    expected, results, _ = graded
    for assignment in variants.ORDER:
        res = results.get((variant, assignment))
        assert res is not None, f"no result for {variant} of {assignment}"
        failed = failures(res)[:3]
        assert _outcome(res) == expected[(variant, assignment)], (assignment, res["output"], failed)


def test_the_results_say_which_file_was_graded(graded):
    _, results, _ = graded
    for assignment in variants.ORDER:
        res = results[("copy-of", assignment)]
        name = res["extra_data"]["notebook"]
        assert name.startswith("Copy of ") and f"Graded {name}, the only notebook handed in" in res["output"]
        assert results[("colab", assignment)]["extra_data"]["notebook"] == name.removeprefix("Copy of ")


def test_another_assignments_notebook_is_said_once_with_the_fix(graded):
    _, results, _ = graded
    for assignment in variants.ORDER:
        res = results[("other-assignment", assignment)]
        assert res["output"].count("this looks like another assignment's notebook") == 1, res["output"]
        assert "written answer" not in res["output"]  # the other assignment's written answers are not listed


def test_shell_escapes_run_in_the_sandbox_and_installs_are_skipped(graded):
    *_, out = graded
    output = (out / "shell-escapes" / "01_loss_functions" / "output.txt").read_text()
    assert "[grading] skipped `pip install -q torch torchvision`" in output
    assert "nvidia-smi" in output  # run, and not found: as in a Jupyter without a GPU


def run_as_grading(source: str, number: int = 1) -> dict:
    """A cell's source, transformed as the grader does and run against the worker's shell, in this process."""
    import linecache

    from autograder.harness.errors import cell_filename
    from autograder.harness.shell import Shell, display
    from autograder.notebook import Cell, python_source

    ns: dict = {"__name__": "__main__", "display": display}
    shell = Shell(ns)
    ns["get_ipython"] = lambda: shell
    code = python_source(Cell(0, "code", source, None, number=number))
    linecache.cache[cell_filename(number)] = (len(code), None, code.splitlines(True), cell_filename(number))
    shell.cell = number
    exec(compile(code, cell_filename(number), "exec"), ns)
    return ns


def test_magics_run_their_code_in_the_notebooks_namespace(capsys):
    ns = run_as_grading("%time a = sum(range(4))\nb = %time len('abc')\n%timeit -n 10 -r 2 c = a + b\n"
                        "%env GRADING_PROBE=1\n%matplotlib inline\n%pip install torch\nfiles = !echo one two\n")
    assert (ns["a"], ns["b"], ns["c"]) == (6, 3, 9) and __import__("os").environ["GRADING_PROBE"] == "1"
    assert ns["files"] == ["one two"] and ns["files"].n == "one two"
    assert "skipped `pip install torch`" in capsys.readouterr().out


def test_a_cell_magics_body_keeps_its_line_numbers_in_tracebacks():
    from autograder.harness.errors import describe

    with pytest.raises(ZeroDivisionError) as raised:
        run_as_grading("%%time\nx = 1\ny = x / 0\n", number=7)
    assert describe(raised.value)["where"] == "code cell 7, line 3: y = x / 0"


def test_a_magic_grading_cannot_run_raises_with_the_fix():
    from autograder.harness.shell import UsageError

    with pytest.raises(UsageError, match="%xyzzy is not available when grading: remove it"):
        run_as_grading("%xyzzy now")
