"""What a student sees is what the grader measures: 05's accuracy cell and the grader's test_accuracy agree.

The notebook's own cells, up to and including the test-accuracy cell, run in a Jupyter kernel with MNIST
reachable through MNIST_ROOT; the same notebooks are then graded with ``--only test_accuracy``. Each model's
two accuracies must agree within 0.3 points (they are equal where both run on the same machine).
"""
import re

import nbformat
import pytest
from nbclient import NotebookClient

from benchmarks.notebooks import student_env

from conftest import ROOT, grade, read_results, with_answers

SOURCE = ROOT / "source" / "05_mnist_classifier" / "mnist_classifier.ipynb"
MLP = '''
def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
'''
MODELS = {"reference CNN": {}, "plain MLP": {"build_model": MLP}}
ACCURACY_CELL = "test_pred = predict(model, test_images)"


def notebook_accuracy(path, folder) -> float:
    """The accuracy 05's own accuracy cell computes, running the notebook up to that cell."""
    nb = nbformat.read(path, as_version=4)
    last = next(i for i, cell in enumerate(nb.cells) if ACCURACY_CELL in cell.source)
    nb.cells = nb.cells[:last + 1] + [nbformat.v4.new_code_cell("print(f'ACCURACY {accuracy!r}')")]
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute(
        env=student_env(MNIST_ROOT=str(ROOT / "data")))
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return float(re.search(r"ACCURACY ([0-9.]+)", printed).group(1))


@pytest.fixture(scope="module")
def graded_accuracies(tmp_path_factory) -> dict[str, float]:
    """The grader's test accuracy of each model, from one ``grade --only test_accuracy`` run."""
    base = tmp_path_factory.mktemp("parity")
    for student, answers in enumerate(MODELS.values()):
        with_answers(SOURCE, answers, base / "submitted" / f"s{student}" / "05_mnist_classifier" / SOURCE.name)
    run = grade(base / "submitted", base / "out", "--only", "test_accuracy")
    assert run.returncode == 0, run.stderr
    results = read_results(base / "out")
    accuracies = {}
    for student, model in enumerate(MODELS):
        feedback = " ".join(t.get("output", "") for t in results[f"s{student}", "05_mnist_classifier"]["tests"])
        accuracies[model] = float(re.search(r"test accuracy ([0-9.]+)%", feedback).group(1)) / 100
    return accuracies


@pytest.mark.parametrize("model", MODELS)
def test_the_notebook_prints_the_accuracy_the_grader_measures(model, graded_accuracies, tmp_path):
    path = tmp_path / SOURCE.name
    with_answers(SOURCE, MODELS[model], path)
    seen = notebook_accuracy(path, tmp_path)
    print(f"{model}: notebook {seen:.2%}, grader {graded_accuracies[model]:.2%}")
    assert abs(seen - graded_accuracies[model]) <= 0.003, (model, seen, graded_accuracies[model])
