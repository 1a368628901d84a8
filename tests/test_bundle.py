"""The Gradescope bundle: build it, unpack it in Gradescope's layout, run run_autograder on a submission."""
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, grade, read_results, scores
from gradescope_schema import validate

from autograder.bundle import build

ASSIGNMENT = "01_loss_functions"


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
    validate(data)
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


def test_an_empty_submission_scores_zero_with_a_message_and_its_maximum(bundle, tmp_path):
    data, _ = run_autograder(gradescope(tmp_path, bundle))
    assert data["score"] == 0 and sum(t["max_score"] for t in data["tests"]) >= 30  # out of the maximum
    assert "No notebook was found" in data["output"] and "loss_functions.ipynb" in data["output"]
    assert all(t["output"] == f"not graded: {data['output']}" for t in data["tests"])


def test_the_tests_visibility_is_chosen_at_bundle_time(tmp_path):
    bundle = build(ASSIGNMENT, tmp_path / "zip", ("after_published", "mse_loss=visible"))
    data, _ = run_autograder(gradescope(tmp_path, bundle))
    seen = {(t["tags"][0], t["visibility"]) for t in data["tests"]}
    assert ("mse_loss", "visible") in seen and ("mae_loss", "after_published") in seen
    assert {v for name, v in seen if name != "mse_loss"} == {"after_published"}
    with pytest.raises(ValueError, match="expected VIS or NAME=VIS"):
        build(ASSIGNMENT, tmp_path / "zip", ("mse_loss=now; rm -rf /",))


def test_the_bundle_and_the_batch_grade_the_only_notebook_and_say_which(bundle, tmp_path):
    """A folder holding only "Copy of loss_functions.ipynb" (Colab's name) is graded, the same, by both."""
    notebook = next((ROOT / "source" / ASSIGNMENT).glob("*.ipynb"))
    folder = tmp_path / "submitted" / "colab" / ASSIGNMENT
    folder.mkdir(parents=True)
    shutil.copyfile(notebook, folder / "Copy of loss_functions.ipynb")
    done = grade(tmp_path / "submitted", tmp_path / "out", "-j", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    batch = read_results(tmp_path / "out")[("colab", ASSIGNMENT)]
    root = gradescope(tmp_path, bundle)
    shutil.copyfile(notebook, root / "submission" / "Copy of loss_functions.ipynb")
    data, stdout = run_autograder(root)
    assert "grading " in stdout.stdout and "Copy of loss_functions.ipynb" in stdout.stdout
    for res in (batch, data):
        assert res["extra_data"]["notebook"] == "Copy of loss_functions.ipynb"
        assert res["output"].startswith("Graded Copy of loss_functions.ipynb, the only notebook handed in")
        assert res["extra_data"]["status"] == "graded"
        assert res["score"] == sum(t["max_score"] for t in res["tests"] if "score" in t)  # all but a pending one
    # the same checks; the batch adds the written answer, pending until graded by hand (Gradescope grades it itself)
    assert [(t["name"], t["score"]) for t in batch["tests"] if "score" in t] == \
        [(t["name"], t["score"]) for t in data["tests"]]
    pending = [t["name"] for t in batch["tests"] if "score" not in t]
    assert pending == ["why_cross_entropy: written answer, graded by hand"]


def test_the_batch_says_why_a_folder_has_no_notebook_to_grade(tmp_path):
    """As the bundle says it: none at all, or several and none of the assignment's name."""
    for student, names in (("none", ["notes.txt"]), ("several", ["a.ipynb", "b.ipynb"])):
        folder = tmp_path / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name in names:
            (folder / name).write_text("{}")
    done = grade(tmp_path / "submitted", tmp_path / "out", "-j", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    results = read_results(tmp_path / "out")
    assert ("No notebook was found in your submission: upload your loss_functions.ipynb."
            in results[("none", ASSIGNMENT)]["output"])
    assert ("Your submission holds several notebooks and none named loss_functions.ipynb: upload only your "
            "loss_functions.ipynb." in results[("several", ASSIGNMENT)]["output"])
    assert all(r["extra_data"]["status"] == "ungradable" and r["tests"] for r in results.values())
