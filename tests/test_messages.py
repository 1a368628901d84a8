"""What a student reads: each message names the cell as they can find it (its place among the code cells and its
first line) and says what to do. One batch of 01 and 05 notebooks, each with one mistake."""
from __future__ import annotations

import nbformat
import pytest

from autograder.export import export_csv
from autograder.result import GRADED, CheckResult, SubmissionResult, save
from conftest import AFTER_IMPORTS, ROOT, failures, grade, read_results, with_answers

L01, L05 = "01_loss_functions", "05_mnist_classifier"
SOURCE = {a: next((ROOT / "source" / a).glob("*.ipynb")) for a in (L01, L05)}
TEST_CELL_HELPER = '''
def mse_loss(pred, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    return _reduce((pred - target) ** 2, reduction)
'''
LOUD_MAE = '''
def mae_loss(pred, target, reduction="mean"):
    raise RuntimeError("\\x1b[31mCUDA error\\x1b[0m: " + "something went wrong " * 60)
'''
# student: (assignment, {grade_id: source}, [(position, extra code cell)], grade_ids whose cells are deleted)
CASES = {
    "shell-without-bang": (L01, {}, [(AFTER_IMPORTS, "cd data")], ()),
    "syntax-error": (L01, {}, [(AFTER_IMPORTS, "x = [1, 2\ny = 3")], ()),
    "memory": (L01, {}, [(AFTER_IMPORTS, "big = bytearray(64 * 2**30)")], ()),
    "unknown-magic": (L01, {}, [(AFTER_IMPORTS, "%xyzzy 3")], ()),
    "helper-in-test-cell": (L01, {"mse_loss": TEST_CELL_HELPER}, [], ()),
    "loud-error": (L01, {"mae_loss": LOUD_MAE}, [], ()),
    "no-predict": (L05, {}, [], ("predict",)),
    "no-checkpoint": (L05, {}, [], ("checkpoint",)),
}


def _build(student: str, dest) -> None:
    assignment, answers, extra, deleted = CASES[student]
    path = dest / student / assignment / SOURCE[assignment].name
    with_answers(SOURCE[assignment], answers, path, extra)
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in deleted]
    if student == "helper-in-test-cell":  # a helper written in a visible test cell, used by the answer
        test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and
                    not c.metadata["nbgrader"].get("solution") and c.cell_type == "code")
        test.source = ("def _reduce(err, reduction):\n    return {'mean': err.mean, 'sum': err.sum, "
                       "'none': lambda: err}[reduction]()\n\n" + test.source)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("messages")
    for student in CASES:
        _build(student, root / "submitted")
    done = grade(root / "submitted", root / "out")
    assert done.returncode == 0, done.stderr[-3000:]
    return {student: data for (student, _), data in read_results(root / "out").items()}


def test_a_cell_is_named_as_a_student_finds_it_and_a_shell_line_says_so(results):
    output = results["shell-without-bang"]["output"]
    assert 'Code cell 2 ("cd data") raised SyntaxError: invalid syntax (code cell 2, line 1: cd data)' in output, output
    assert "`cd data` is a shell command, which Jupyter runs only with a ! in front (`!cd data`)" in output
    assert "<cell" not in output


def test_a_syntax_error_shows_its_line_once(results):
    output = results["syntax-error"]["output"]
    assert 'Code cell 2 ("x = [1, 2") raised SyntaxError: ' in output and "line 1: x = [1, 2)" in output, output
    assert output.count("line 1") == 1


def test_running_out_of_memory_names_the_limit(results):
    output = results["memory"]["output"]
    assert 'Code cell 2 ("big = bytearray(64 * 2**30)") raised MemoryError' in output, output
    assert "It ran out of memory: grading gives each process a limit of 6144 MB" in output


def test_a_magic_grading_cannot_run_says_to_remove_it(results):
    output = results["unknown-magic"]["output"]
    assert 'Code cell 2 ("%xyzzy 3") raised UsageError: %xyzzy is not available when grading: remove it' in output


def test_a_name_defined_only_in_a_test_cell_says_test_cells_do_not_run(results):
    [message, *_] = failures(results["helper-in-test-cell"], {"mse_loss"})
    assert "name '_reduce' is not defined" in message
    assert "_reduce is defined only in a test cell, and grading does not run test cells" in message


def test_a_long_error_loses_its_colour_codes_and_is_cut_at_a_word(results):
    [message, *_] = failures(results["loud-error"], {"mae_loss"})
    assert "\x1b" not in message and "CUDA error: something went wrong" in message
    cut = message.split(" (code cell")[0]
    assert cut.endswith(" [...] (the rest was cut)") and cut.split()[-6] in ("something", "went", "wrong"), message


def test_a_missing_function_that_a_check_needs_is_named_before_any_training(results):
    res = results["no-predict"]
    assert res["extra_data"]["status"] == GRADED
    for message in failures(res, {"test_accuracy"}):
        assert message.startswith("test_accuracy needs predict, which is not defined in your notebook"), message
    assert not any("parameters, trained in" in t["output"] for t in res["tests"]), "it trained anyway"


def test_a_missing_pair_of_functions_is_one_sentence(results):
    for message in failures(results["no-checkpoint"], {"checkpoint"}):
        assert message.startswith("checkpoint needs save_checkpoint, which is not defined in your notebook: did "
                                  "you rename it or delete its cell?"), message


def test_results_tell_gradescope_that_outputs_are_text(results):
    res = results["memory"]
    assert res["output_format"] == "text" and {t["output_format"] for t in res["tests"]} == {"text"}


def test_export_summarises_hundreds_of_missing_submissions(tmp_path, capsys):
    for i in range(300):  # each student has one of two assignments: 300 missing
        save(SubmissionResult(f"s{i:03}", L01 if i % 2 else "02_autograd", GRADED,
                              [CheckResult("mse_loss", "t", 1, 1)]), tmp_path)
    export_csv(tmp_path, tmp_path / "canvas.csv")
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("warning: 300 submission(s) have no results") and line.endswith("and 295 more"), line
