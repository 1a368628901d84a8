"""The pytest plugin that runs hidden checks (autograder/plugin.py), on a tiny checks file of its own."""
import textwrap

import pytest

from autograder.assignment import Selection
from autograder.plugin import GradingPlugin, run_checks
from autograder.result import CheckResult

CHECKS = '''
    import pytest

    from autograder.check import fail, graded


    @graded("add", points=2)
    def test_passes(student):
        """adds two numbers.

        More text that is not the title.
        """
        assert student.add(1, 2) == 3


    @graded("add")
    def test_fails(student):
        """rejects strings"""
        fail("add('a', 1) returned 'a1': it should raise")


    @graded("mul")
    def test_internal_error(student):
        """multiplies"""
        raise ZeroDivisionError("a bug in the check")


    @graded("mul", points=0.5)
    @pytest.mark.parametrize("reduction", ["mean", "sum"])
    def test_parametrized(student, reduction):
        """reduces with reduction={reduction!r}"""
        if reduction == "sum":
            fail("wrong sum")


    @graded("mul")
    def test_feedback(student, record_property):
        record_property("feedback", "well done")


    @graded("div")
    def test_setup_error(student, no_such_fixture):
        """divides"""


    def test_unattributed(student):
        """belongs to no graded name"""
'''


class Student:
    def __init__(self):
        self.calls = []

    def add(self, a, b):
        self.calls.append((a, b))
        return a + b


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    path = tmp_path_factory.mktemp("checks") / "01_tiny.py"
    path.write_text(textwrap.dedent(CHECKS))
    return path


@pytest.fixture(scope="module")
def given():
    return Student()


@pytest.fixture(scope="module")
def everything(checks, given):
    return run_checks(checks, given)


def result(plugin, title) -> CheckResult:
    [found] = [r for r in plugin.results if r.title == title]
    return found


def test_every_check_gives_a_result_in_file_order(everything):
    assert [r.label for r in everything.results] == [
        "add: adds two numbers", "add: rejects strings", "mul: multiplies", "mul: reduces with reduction='mean'",
        "mul: reduces with reduction='sum'", "mul: test_feedback", "div: divides",
        "unattributed: belongs to no graded name"]


def test_a_passing_check_scores_its_points(everything):
    passed = result(everything, "adds two numbers")
    assert (passed.score, passed.max_score, passed.output, passed.error) == (2.0, 2.0, "", False)


def test_a_failed_check_scores_zero_with_its_message(everything):
    failed = result(everything, "rejects strings")
    assert (failed.score, failed.max_score, failed.error) == (0.0, 1.0, False)
    assert failed.output == "add('a', 1) returned 'a1': it should raise"


def test_an_internal_error_is_flagged_and_hidden_from_the_student(everything):
    broken = result(everything, "multiplies")
    assert broken.score == 0.0 and broken.error
    assert broken.output == ("The grader could not run this check (an internal error); "
                             "your instructor has the details.")


def test_an_internal_error_is_logged_for_the_instructor(everything):
    [entry] = [e for e in everything.log if e.startswith("mul: multiplies\n")]
    assert "ZeroDivisionError: a bug in the check" in entry


def test_a_parametrized_title_is_filled_in(everything):
    mean = result(everything, "reduces with reduction='mean'")
    total = result(everything, "reduces with reduction='sum'")
    assert (mean.score, mean.max_score) == (0.5, 0.5) and (total.score, total.output) == (0.0, "wrong sum")


def test_a_check_without_a_docstring_is_titled_by_its_name(everything):
    assert result(everything, "test_feedback").name == "mul"


def test_recorded_feedback_is_the_output_of_a_passing_check(everything):
    assert result(everything, "test_feedback").output == "well done"


def test_an_error_in_setup_is_an_internal_error(everything):
    broken = result(everything, "divides")
    assert (broken.name, broken.score, broken.error) == ("div", 0.0, True)
    assert any(e.startswith("div: divides\n") and "no_such_fixture" in e for e in everything.log)


def test_a_check_without_the_marker_is_unattributed_and_worth_nothing(everything):
    check = result(everything, "belongs to no graded name")
    assert (check.name, check.score, check.max_score) == ("unattributed", 0.0, 0.0)


def test_the_plugin_knows_every_graded_name(everything):
    assert everything.names == {"add", "mul", "div", "unattributed"}


def test_only_runs_the_names_selected(checks):
    plugin = run_checks(checks, Student(), Selection(only=frozenset({"add"})))
    assert [r.title for r in plugin.results] == ["adds two numbers", "rejects strings"]
    assert plugin.names == {"add", "mul", "div", "unattributed"} and plugin.log == []


def test_skip_leaves_out_the_names_skipped(checks):
    plugin = run_checks(checks, Student(), Selection(skip=frozenset({"mul", "div", "unattributed"})))
    assert {r.name for r in plugin.results} == {"add"}


def test_the_checks_get_the_student_given(everything, given):
    assert given.calls == [(1, 2)]


# -- charge ------------------------------------------------------------------------------

def plugin_with(*results) -> GradingPlugin:
    plugin = GradingPlugin(student=None)
    plugin.results = list(results)
    return plugin


def test_charge_takes_the_last_check_of_a_blamed_name_that_passed_everything():
    plugin = plugin_with(CheckResult("f", "a", 2, 2), CheckResult("f", "b", 1, 1), CheckResult("g", "c", 1, 1))
    plugin.charge({"f": "after f returned, a thread it left running crashed"})
    assert [r.score for r in plugin.results] == [2, 0, 1]
    assert plugin.results[1].output == "after f returned, a thread it left running crashed"


def test_charge_leaves_a_name_that_already_lost_marks():
    plugin = plugin_with(CheckResult("f", "a", 0, 2, "wrong"), CheckResult("f", "b", 1, 1))
    plugin.charge({"f": "it hung"})
    assert [(r.score, r.output) for r in plugin.results] == [(0, "wrong"), (1, "")]


def test_charge_ignores_a_name_without_checks():
    plugin = plugin_with(CheckResult("f", "a", 1, 1))
    plugin.charge({"g": "it hung"})
    assert plugin.results[0].score == 1
