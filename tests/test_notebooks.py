"""The instructor notebooks as a student runs them: top to bottom in an empty folder, MNIST through MNIST_ROOT.

Without MNIST and without a network, the notebooks that need it fail in one cell that says what to do, and
nothing after it fails. Run times are benchmarks/notebooks.py's business, not these tests'.
"""
from pathlib import Path

import pytest

from benchmarks.notebooks import execute, student_env

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "source").glob("[0-9][0-9]_*/*.ipynb"))
NEED_MNIST = ["03_training_loop", "05_mnist_classifier"]
UNREACHABLE = "http://127.0.0.1:9"  # a closed port: every download fails at once


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_runs_top_to_bottom_without_an_error(path: Path):
    _, errors = execute(path, student_env(MNIST_ROOT=str(ROOT / "data")))
    assert not errors, errors


@pytest.mark.parametrize("assignment", NEED_MNIST)
def test_without_mnist_offline_one_cell_says_what_to_do(assignment, tmp_path):
    path = next((ROOT / "source" / assignment).glob("*.ipynb"))
    offline = {name: UNREACHABLE for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    env = {k: v for k, v in student_env(MNIST_ROOT=str(tmp_path / "empty"), **offline).items()
           if k.lower() != "no_proxy"}
    _, errors = execute(path, env)
    assert len(errors) == 1, errors
    assert "RuntimeError: MNIST is not in" in errors[0] and str(tmp_path / "empty") in errors[0]
    assert "train-images-idx3-ubyte.gz" in errors[0] and "MNIST_ROOT" in errors[0]
    assert not (path.parent / "data").exists()
