"""Every check bites: wrong answers lose marks on their name only; right ones keep full marks."""
import pytest

from conftest import scores


def cases(answer_batch, kind):
    return [(key, name) for key, (k, name, _) in answer_batch["expected"].items() if k == kind]


def may_lose(answer_batch, key) -> set[str]:
    """The names a wrong answer may cost: its own, the cells it replaced, and names built on those."""
    _, name, cells = answer_batch["expected"][key]
    own = {name} | cells
    return own | {n for n, built_on in answer_batch["depends"][key[1]].items() if own & set(built_on)}


def test_every_submission_has_a_result(answer_batch):
    missing = set(answer_batch["expected"]) - set(answer_batch["results"])
    assert not missing


def test_right_answers_keep_full_marks(answer_batch):
    for key, _ in cases(answer_batch, "right"):
        res = answer_batch["results"][key]
        lost = {n: s for n, s in scores(res).items() if s[0] < s[1]}
        assert not lost, (key, lost, [t["output"] for t in res["tests"] if t["score"] < t["max_score"]])
        assert res["extra_data"]["status"] == "graded"


def test_release_notebook_scores_zero_everywhere(answer_batch):
    for key, _ in cases(answer_batch, "release"):
        res = answer_batch["results"][key]
        assert res["extra_data"]["status"] == "graded"
        by_name = scores(res)
        assert by_name and all(got == 0 for got, _ in by_name.values()), (key, by_name)
        assert all("not implemented yet" in t["output"] for t in res["tests"]), key


def test_wrong_answers_lose_marks_on_their_name_only(answer_batch):
    for key, name in cases(answer_batch, "wrong"):
        by_name = scores(answer_batch["results"][key])
        assert by_name[name][0] < by_name[name][1], f"{key}: no marks lost on {name}"
        others = {n: s for n, s in by_name.items() if n not in may_lose(answer_batch, key) and s[0] < s[1]}
        assert not others, f"{key}: also lost marks on {others}"


def test_failures_say_what_is_wrong(answer_batch):
    for key in answer_batch["expected"]:
        for test in answer_batch["results"][key]["tests"]:
            if test["score"] < test["max_score"]:
                assert len(test["output"]) > 20 and "internal error" not in test["output"], (key, test)


@pytest.mark.parametrize("minimum", [3])
def test_at_least_three_wrong_answers_per_name(answer_batch, minimum):
    by_assignment: dict = {}
    for (student, assignment), (kind, name, _) in answer_batch["expected"].items():
        if kind == "wrong":
            by_assignment.setdefault(assignment, {}).setdefault(name, 0)
            by_assignment[assignment][name] += 1
    for assignment, counts in by_assignment.items():
        res = answer_batch["results"][("instructor", assignment)]
        for name in scores(res):
            assert counts.get(name, 0) >= minimum, (assignment, name, counts.get(name, 0))
