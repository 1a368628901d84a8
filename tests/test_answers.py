"""Every check bites: wrong answers lose marks on their name only; right ones keep full marks.

``answer_batch`` (conftest) grades the stored answers with ``autograder.audit``, which also judges them.
"""
from autograder.audit import INSTRUCTOR, RELEASE, RIGHT, WRONG, Answer, Audit, Outcome, render, unhelpful
from autograder.result import GRADED, CheckResult, SubmissionResult


def misbehaving(answer_batch, *kinds):
    return [(str(o.answer), why, [f"{c.label}: {c.output}" for c in o.failed][:5])
            for result in answer_batch.values() for o, why in result.misbehaving() if o.answer.kind in kinds]


def test_every_submission_has_a_result(answer_batch):
    missing = [str(o.answer) for audit in answer_batch.values() for o in audit.outcomes if o.result is None]
    assert not missing


def test_right_answers_keep_full_marks(answer_batch):
    assert not misbehaving(answer_batch, RIGHT, INSTRUCTOR)


def test_release_notebook_scores_zero_everywhere(answer_batch):
    assert not misbehaving(answer_batch, RELEASE)


def test_wrong_answers_lose_marks_on_their_name_only(answer_batch):
    assert not misbehaving(answer_batch, WRONG)


def test_failures_say_what_is_wrong(answer_batch):
    bad = [(str(o.answer), c.label, c.output) for audit in answer_batch.values() for o in audit.outcomes
           for c in unhelpful(o)]
    assert not bad


def test_at_least_three_wrong_answers_per_name(answer_batch):
    for assignment, audit in answer_batch.items():
        assert audit.minimum_wrong >= 3 and audit.names()
        assert not audit.thin(), assignment


def test_the_audit_report_shows_every_name_biting(answer_batch):
    """What ``python -m autograder audit`` prints, from the session's batch rather than a second grading."""
    for assignment, audit in answer_batch.items():
        text = render(audit)
        assert audit.ok and text.endswith("every answer behaves"), text
        rows = {line.split()[0]: line for line in text.splitlines() if line.strip()}
        for name, counts in audit.counts().items():
            assert f"{counts.wrong} / {counts.wrong}" in rows[name] and counts.wrong >= 3, text
            assert f"{counts.right} / {counts.right}" in rows[name], text


def test_every_answer_cell_is_graded_by_a_check(answer_batch):
    assert {a: r.unchecked() for a, r in answer_batch.items() if r.unchecked()} == {}


def test_an_answer_cell_without_a_check_fails_the_audit():
    instructor = Outcome(Answer("x", INSTRUCTOR, None, "instructor"),
                         SubmissionResult("instructor", "x", GRADED, [CheckResult("f", "works", 1.0, 1.0)]))
    result = Audit("x", [instructor], answer_cells=frozenset({"f", "g", "slow"}), slow=frozenset({"slow"}))
    assert result.unchecked() == ["g"] and not result.ok
    assert "answer cells that no @graded check grades (grade_id): g" in render(result)
