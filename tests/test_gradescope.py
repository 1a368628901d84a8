"""Gradescope's results format used in full: formats, tags, leaderboard, visibility; validated by the schema."""
import json
import shutil

import pytest

from conftest import ROOT, grade, read_results
from gradescope_schema import validate

from autograder.gradescope_results import apply_visibility, main, parse_visibility
from autograder.result import CheckResult, SubmissionResult


def a_result():
    checks = [CheckResult("mse_loss", "has the right values", 1.0, 1.0, "<urlopen error [Errno -2]>"),
              CheckResult("test_accuracy", "trains", 1.0, 1.0, leaderboard={"name": "Test accuracy", "value": 0.98}),
              CheckResult("test_accuracy", "reaches 97%", 0.0, 1.0, "test accuracy 96.50% < 97%")]
    return SubmissionResult("s", "05_mnist_classifier", "graded", checks, "Graded <Copy of x.ipynb> & more")


def test_every_text_is_plain_text_each_test_tagged_with_its_name_and_the_leaderboard_kept():
    data = a_result().to_gradescope()
    validate(data)
    assert data["output_format"] == data["test_output_format"] == data["test_name_format"] == "text"
    assert {t["output_format"] for t in data["tests"]} == {t["name_format"] for t in data["tests"]} == {"text"}
    assert [t["tags"] for t in data["tests"]] == [["mse_loss"], ["test_accuracy"], ["test_accuracy"]]
    assert data["tests"][0]["output"] == "<urlopen error [Errno -2]>"  # as it is: text, never HTML
    assert data["leaderboard"] == [{"name": "Test accuracy", "value": 0.98}]
    back = SubmissionResult.from_gradescope(json.loads(json.dumps(data)))
    assert back.to_gradescope() == data  # a round trip (resume, merge, the bundle) keeps all of it
    alone = SubmissionResult("s", "01_loss_functions", "graded", a_result().checks[:1])
    assert "leaderboard" not in alone.to_gradescope()


def test_visibility_rules_per_graded_name():
    rules = parse_visibility(["after_published", "mse_loss=visible"])
    assert rules == {"": "after_published", "mse_loss": "visible"}
    data = apply_visibility(a_result(), rules).to_gradescope()
    validate(data)
    assert [t["visibility"] for t in data["tests"]] == ["visible", "after_published", "after_published"]
    assert data["visibility"] == "visible"  # the score and the output still show
    for wrong in ("later", "mse_loss=soon", "a b=hidden", "$(x)=hidden"):
        with pytest.raises(ValueError, match="expected VIS or NAME=VIS"):
            parse_visibility([wrong])


def test_a_zero_lists_every_check_with_its_points(tmp_path):
    """Where no notebook was uploaded or no sandbox works, the maximum still shows: every check at 0."""
    path = tmp_path / "results.json"
    assert main([str(path), "--assignment", "01_loss_functions", "--status", "ungradable", "--message",
                 "No notebook was found in your submission: upload your loss_functions.ipynb.",
                 "--visibility", "hidden"]) == 0
    data = json.loads(path.read_text())
    validate(data)
    assert data["score"] == 0 and len(data["tests"]) >= 30 and sum(t["max_score"] for t in data["tests"]) >= 30
    assert all(t["output"] == "not graded: No notebook was found in your submission: upload your "
               "loss_functions.ipynb." and t["visibility"] == "hidden" for t in data["tests"])
    assert data["extra_data"]["status"] == "ungradable" and "No notebook" in data["output"]


def test_the_test_accuracy_goes_on_the_leaderboard(tmp_path):
    """05's check measures the accuracy of the model it trains; results.json hands it to Gradescope's leaderboard."""
    dest = tmp_path / "submitted" / "ada" / "05_mnist_classifier"
    shutil.copytree(ROOT / "source" / "05_mnist_classifier", dest, ignore=shutil.ignore_patterns(".*"))
    done = grade(tmp_path / "submitted", tmp_path / "out", "--only", "test_accuracy", "-j", "1",
                 "--train-seconds", "900")  # a loaded machine trains slowly
    assert done.returncode == 0, done.stderr[-3000:]
    data = read_results(tmp_path / "out")[("ada", "05_mnist_classifier")]
    validate(data)
    (entry,) = data["leaderboard"]
    assert entry["name"] == "Test accuracy" and 0.97 <= entry["value"] <= 1, entry
