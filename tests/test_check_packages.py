"""An assignment's hidden checks as one module or as a package: which files belong to it, the order its checks run
in, the code its modules share, its Gradescope bundle and its resume fingerprint. No sandbox: a stub student
fails every call."""
import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

from autograder import assignment, resume
from autograder.assignment import Assignment, Selection, all_assignments, check_modules
from autograder.bundle import build
from autograder.check import CheckFailed
from autograder.limits import Limits
from autograder.plugin import run_checks

# each assignment's graded names in the order of its results, as they were when the checks were one module each
ORDER = {
    "03_training_loop": ["SimpleNet", "make_optimizer", "train_one_epoch", "evaluate", "fit"],
    "04_activations": ["relu", "sigmoid", "tanh", "relu_grad", "sigmoid_grad", "tanh_grad", "plot_activations",
                       "deep_gradient_norms"],
    "05_mnist_classifier": ["test_accuracy", "get_transform", "build_model", "train_model", "predict",
                            "confusion_matrix", "precision_recall_f1", "checkpoint", "split_train_val"],
}


class Stub:
    """A student whose every call fails, so that every check runs and records a result."""

    limits = Limits()

    def probe(self, *args, **kwargs):
        raise CheckFailed("stub")

    def call(self, *args, **kwargs):
        raise CheckFailed("stub")


def names_in_order(results) -> list[str]:
    return list(dict.fromkeys(r.name for r in results))


def test_both_forms_are_found_with_their_files():
    found = all_assignments()
    assert list(found) == sorted(found) and {"01_loss_functions", "05_mnist_classifier"} <= set(found)
    module, package = found["01_loss_functions"], found["05_mnist_classifier"]
    assert module.checks == assignment.CHECKS / "01_loss_functions.py"
    assert module.files == (module.checks,) and module.check_modules == [module.checks]
    assert package.checks == assignment.CHECKS / "05_mnist_classifier"
    names = [p.relative_to(package.checks).as_posix() for p in package.files]
    assert names == sorted(names) and {"__init__.py", "_common.py", "train_model.py"} <= set(names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert [p.stem for p in package.check_modules] == [
        "test_accuracy", "get_transform", "build_model", "train_model", "predict", "confusion_matrix",
        "precision_recall_f1", "checkpoint", "split_train_val"]  # ORDER; __init__ and _common hold no checks


@pytest.mark.parametrize("assignment_id", sorted(ORDER))
def test_a_package_runs_its_checks_in_the_order_of_its_results(assignment_id):
    a = all_assignments()[assignment_id]
    plugin = run_checks(a.checks, Stub(), Selection(skip=frozenset({"test_accuracy"})))
    assert not plugin.log and plugin.results and not any(r.error for r in plugin.results), plugin.log[:1]
    assert names_in_order(plugin.results) == [n for n in ORDER[assignment_id] if n != "test_accuracy"]
    assert plugin.names == set(ORDER[assignment_id])  # test_accuracy is known, though not selected


def toy(root, order: tuple[str, ...] | None = ("beta", "alpha")) -> Assignment:
    """A package 98_toy in ``root/checks``: modules alpha, beta and gamma, one check each (of a graded name of the
    module's name), which record in the package's _shared.py that they ran; gamma, which runs last, fails unless
    the others ran first, in ``order`` (``ORDER`` in its __init__.py, if given) or else in name order."""
    package = root / "checks" / "98_toy"
    package.mkdir(parents=True)
    (root / "checks" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("WARM_UP = ()\n" + (f"ORDER = {order!r}\n" if order else ""))
    (package / "_shared.py").write_text("RAN = []\n")
    expected = [*(order or ("alpha", "beta")), "gamma"]
    for name in ("alpha", "beta", "gamma"):
        (package / f"{name}.py").write_text(
            "from autograder.check import fail, graded\n\n"
            "from ._shared import RAN\n\n\n"
            f"@graded({name!r})\n"
            f"def test_{name}(student):\n"
            f'    """runs"""\n'
            f"    RAN.append({name!r})\n"
            f"    if {name!r} == 'gamma' and RAN != {expected!r}:\n"
            "        fail(f'ran in the order {RAN}')\n")
    return Assignment("98_toy")


@pytest.fixture
def toy_checks(tmp_path, monkeypatch):
    monkeypatch.setattr(assignment, "CHECKS", tmp_path / "checks")
    yield tmp_path
    for name in [n for n in sys.modules if n == "98_toy" or n.startswith("98_toy.")]:
        del sys.modules[name]


@pytest.mark.parametrize("order", [("beta", "alpha"), None], ids=["ORDER", "name order"])
def test_modules_run_in_the_declared_order_then_by_name_and_share_their_package(toy_checks, order):
    a = toy(toy_checks, order)
    assert all_assignments() == {"98_toy": a} and a.warm_up == ()
    plugin = run_checks(a.checks, Stub())
    assert [(r.name, r.score, r.output) for r in plugin.results] == [
        (n, 1.0, "") for n in (["beta", "alpha", "gamma"] if order else ["alpha", "beta", "gamma"])], plugin.log
    # imported once per process: a second submission's run finds the shared module as the first run left it
    again = run_checks(a.checks, Stub())
    assert again.results[-1].output == f"ran in the order {[r.name for r in plugin.results] * 2}"


def test_an_order_naming_a_missing_module_is_refused(toy_checks):
    a = toy(toy_checks, ("beta", "alhpa"))
    with pytest.raises(ValueError, match="ORDER in .* names alhpa, which is not a module of the package"):
        check_modules(a.checks)


def test_one_assignment_cannot_have_both_forms(toy_checks):
    toy(toy_checks)
    (toy_checks / "checks" / "98_toy.py").write_text("WARM_UP = ()\n")
    with pytest.raises(ValueError, match="two sets of hidden checks for 98_toy"):
        all_assignments()


def test_a_package_module_imports_its_shared_code_outside_pytest_too():
    code = ("import importlib\n"
            "m = importlib.import_module('autograder.checks.05_mnist_classifier.train_model')\n"
            "c = importlib.import_module('autograder.checks.05_mnist_classifier._common')\n"
            "print(m.random_state is c.random_state)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]


def test_the_bundle_of_a_package_holds_the_whole_package_and_no_other_checks(tmp_path):
    a = all_assignments()["05_mnist_classifier"]
    zipped = build(a.id, tmp_path)
    with zipfile.ZipFile(zipped) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "source")
    (tmp_path / "source" / "data").mkdir()
    (tmp_path / "source" / "data" / "MNIST").symlink_to(ROOT / "data" / "MNIST")  # as setup.sh downloads it
    assert [n for n in names if n.startswith("autograder/checks/")] == sorted(
        ["autograder/checks/__init__.py", *(p.relative_to(ROOT).as_posix() for p in a.files)])
    code = ("import json\n"
            "from autograder.assignment import Selection, all_assignments\n"
            "from autograder.check import CheckFailed\n"
            "from autograder.plugin import run_checks\n"
            "class Stub:\n"
            "    def probe(self, *args, **kwargs): raise CheckFailed('stub')\n"
            "    call = probe\n"
            "found = all_assignments()\n"
            "plugin = run_checks(found['05_mnist_classifier'].checks, Stub(),\n"
            "                    Selection(skip=frozenset({'test_accuracy'})))\n"
            "print(json.dumps([list(found), [r.name for r in plugin.results], plugin.log]))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "source", capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    found, graded, log = json.loads(done.stdout)
    assert found == ["05_mnist_classifier"] and not log, log[:1]
    assert list(dict.fromkeys(graded)) == ORDER["05_mnist_classifier"][1:]


def test_every_file_of_a_package_counts_in_its_resume_fingerprint_and_no_other_packages(tmp_path, monkeypatch):
    package = tmp_path / "autograder"
    shutil.copytree(ROOT / "autograder", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(resume, "PACKAGE", package)
    monkeypatch.setattr(assignment, "CHECKS", package / "checks")
    a = Assignment("05_mnist_classifier")

    def code():
        resume._code.cache_clear()
        return resume._code(a)

    first = code()
    for path in [*a.files, *Assignment("03_training_loop").files]:
        text = path.read_text()
        path.write_text(text + "\n# changed\n")
        assert (code() != first) == (path.parent.name == a.id), path
        path.write_text(text)
    assert code() == first
    resume._code.cache_clear()
