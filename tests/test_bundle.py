"""The Gradescope bundle: build it, unpack it in Gradescope's layout, run run_autograder on a submission."""
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, scores

from autograder.bundle import build

ASSIGNMENT = "01_loss_functions"
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def check_gradescope_results(data) -> None:
    """Fail unless ``data`` follows Gradescope's results.json specification."""
    assert isinstance(data, dict), data
    tests = data.get("tests", [])
    assert isinstance(tests, list)
    assert "score" in data or (tests and all("score" in t for t in tests)), "a score is required"
    number = (int, float)
    if "score" in data:
        assert isinstance(data["score"], number) and not isinstance(data["score"], bool)
    assert isinstance(data.get("execution_time", 0), number)
    for key in ("visibility", "stdout_visibility"):
        assert data.get(key, "visible") in VISIBILITY, (key, data.get(key))
    assert isinstance(data.get("output", ""), str)
    assert data.get("output_format", "text") in FORMATS
    assert not data.get("output") or "output_format" in data, "Gradescope reads an output without a format as HTML"
    assert isinstance(data.get("extra_data", {}), dict)
    for t in tests:
        assert isinstance(t, dict), t
        assert isinstance(t["name"], str) and t["name"], t
        assert isinstance(t["score"], number) and isinstance(t["max_score"], number), t
        assert isinstance(t["output"], str), t
        assert t["visibility"] in VISIBILITY, t
        assert t.get("status", "passed") in {"passed", "failed"}, t
        assert t.get("output_format", "simple_format") in FORMATS, t
    json.dumps(data, allow_nan=False)  # strict JSON: no NaN or Infinity


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build(ASSIGNMENT, tmp_path_factory.mktemp("bundle"))


def gradescope(tmp_path, bundle):
    """/autograder in ``tmp_path``: the bundle in source/ (with its modes), an empty submission/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    return root


def run_autograder(root, **env_vars):
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable, **env_vars}
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text())
    check_gradescope_results(data)
    return data, done


def test_bundle_holds_the_scripts_and_only_its_assignment(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        script = zf.read("run_autograder").decode()
    assert names == sorted(names)
    assert {"setup.sh", "run_autograder", "requirements.txt", "autograder/__main__.py",
            "release/01_loss_functions/loss_functions.ipynb"} <= set(names)  # where written answers stand
    assert modes["run_autograder"] == modes["setup.sh"] == 0o755
    assert [n for n in names if n.startswith("autograder/checks/")] == [
        "autograder/checks/01_loss_functions.py", "autograder/checks/__init__.py"]
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert "ASSIGNMENT=01_loss_functions" in script and "NOTEBOOK=loss_functions.ipynb" in script
    assert build(ASSIGNMENT, tmp_path).read_bytes() == bundle.read_bytes()  # deterministic
    source = gradescope(tmp_path, bundle) / "source"
    for name in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(source / name)], check=True)
    found = subprocess.run([sys.executable, "-c", "from autograder.assignment import all_assignments as a; "
                            "print([(x.id, x.notebook) for x in a().values()])"],
                           cwd=source, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[('01_loss_functions', 'loss_functions.ipynb')]"


@pytest.mark.parametrize("sandbox", [
    "bubblewrap", pytest.param("container", marks=pytest.mark.skipif(os.geteuid() != 0, reason="needs root"))])
def test_the_instructors_notebook_gets_full_marks(bundle, tmp_path, sandbox):
    """In bubblewrap, and in the container mode that Gradescope's Docker gives."""
    root = gradescope(tmp_path, bundle)
    notebook = next((ROOT / "source" / ASSIGNMENT).glob("*.ipynb"))
    (root / "submission" / "nested").mkdir()  # an upload's folder, and a notebook not named as released
    shutil.copyfile(notebook, root / "submission" / "nested" / "my answers.ipynb")
    data, done = run_autograder(root, AUTOGRADER_SANDBOX=sandbox)
    assert done.stdout.startswith(f"sandbox: {sandbox} ("), done.stdout[:300]  # the first line instructors see
    assert data["extra_data"]["status"] == "graded", data["output"]
    assert data["extra_data"]["sandbox"] == sandbox
    assert data["tests"] and all(got == top for got, top in scores(data).values()), data
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
    assert "my answers.ipynb" in done.stdout and data["extra_data"]["notebook"] == "my answers.ipynb"


def test_without_a_sandbox_nothing_is_graded(bundle, tmp_path):
    root = gradescope(tmp_path, bundle)
    shutil.copyfile(next((ROOT / "source" / ASSIGNMENT).glob("*.ipynb")), root / "submission" / "loss_functions.ipynb")
    data, done = run_autograder(root, AUTOGRADER_SANDBOX="none")
    assert data["score"] == 0 and data["extra_data"] == {**data["extra_data"], "status": "grader_error",
                                                         "sandbox": "none"}
    assert "no sandbox" in data["output"] and "Fix" in done.stdout


def test_an_empty_submission_scores_zero_with_a_message(bundle, tmp_path):
    data, _ = run_autograder(gradescope(tmp_path, bundle))
    assert data["score"] == 0 and data["tests"] == []
    assert "No notebook was found" in data["output"] and "loss_functions.ipynb" in data["output"]
