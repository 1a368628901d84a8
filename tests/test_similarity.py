"""``python -m autograder similarity``: planted copies rank above independent solutions, the release's code is no
evidence, and the page shows each pair side by side with the shared parts marked."""
from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from autograder import notebook
from autograder.similarity import CODE, AssignmentSimilarity, Collection, Release, code_marks
from autograder.similarity_pages import write_similarity
from conftest import ROOT, with_answers

RELEASE = ROOT / "release" / "01_loss_functions" / "loss_functions.ipynb"
NAMES = ("mse_loss", "log_softmax", "cross_entropy_loss")

# ana's answers; bo, cy and di copy them (renamed, reordered with other comments, a cell split in two)
ANA = {
    "mse_loss": '''def _reduce(values, reduction):
    # apply the reduction the caller asked for
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction: {reduction}")
    if reduction == "none":
        return values
    total = values.sum()
    return total / values.numel() if reduction == "mean" else total


def mse_loss(pred, target, reduction="mean"):
    diff = pred - target
    squares = diff * diff
    return _reduce(squares, reduction)
''',
    "log_softmax": '''def _shifted(logits, dim):
    # subtract the max so that exp never overflows
    peak = logits.amax(dim=dim, keepdim=True).detach()
    return logits - peak


def log_softmax(logits, dim=-1):
    shift = _shifted(logits, dim)
    lse = shift.exp().sum(dim=dim, keepdim=True).log()
    out = shift - lse
    return out
''',
    "cross_entropy_loss": '''def _pick(rows, targets):
    return rows.gather(1, targets.view(-1, 1)).view(-1)


def cross_entropy_loss(logits, targets):
    # log-probabilities from my own log_softmax: <b>not bold</b>
    logp = log_softmax(logits, dim=1)
    n = logits.shape[0]
    chosen = _pick(logp, targets)
    return -chosen.sum() / n
''',
}
RENAMES = {"values": "vals", "total": "acc", "diff": "delta", "squares": "sq", "peak": "top", "shift": "z",
           "lse": "norm", "out": "result", "logp": "lp", "chosen": "picked", "rows": "table", "n": "count"}


def renamed(code: str) -> str:
    import re

    return re.sub(r"\b\w+\b", lambda m: RENAMES.get(m.group(), m.group()), code)


def reordered(code: str) -> str:
    """Independent statements swapped, comments changed, white space changed."""
    swaps = [("    diff = pred - target\n    squares = diff * diff\n",
              "    diff = (pred - target)\n    squares = diff*diff\n"),
             ("    if reduction not in (\"mean\", \"sum\", \"none\"):\n"
              "        raise ValueError(f\"unknown reduction: {reduction}\")\n"
              "    if reduction == \"none\":\n        return values\n    total = values.sum()\n",
              "    total = values.sum()  # sum first\n    if reduction not in (\"mean\", \"sum\", \"none\"):\n"
              "        raise ValueError(f\"unknown reduction: {reduction}\")\n"
              "    if reduction == \"none\":\n        return values\n"),
             ("    logp = log_softmax(logits, dim=1)\n    n = logits.shape[0]\n",
              "    n = logits.shape[0]\n    logp = log_softmax(logits, dim=1)\n"),
             ("    shift = _shifted(logits, dim)\n    lse = shift.exp().sum(dim=dim, keepdim=True).log()\n"
              "    out = shift - lse\n",
              "    shift = _shifted(logits, dim)\n    lse = shift.exp().sum(dim=dim, keepdim=True).log()\n"
              "    out = shift - lse   # log p\n"),
             ("    peak = logits.amax(dim=dim, keepdim=True).detach()\n    return logits - peak\n",
              "    peak = logits.amax(dim=dim, keepdim=True).detach()\n\n\n    return logits - peak\n")]
    for old, new in swaps:
        code = code.replace(old, new)
    return code.replace("# apply the reduction the caller asked for", "# the caller picks the reduction") \
        .replace("# subtract the max so that exp never overflows", "# stability") \
        .replace("# log-probabilities from my own log_softmax: <b>not bold</b>", "")


def split(code: str) -> tuple[str, str]:
    """The cell split in two: its helper, then its graded function."""
    helper, _, graded = code.partition("\n\n\n")
    return helper, graded


INDEPENDENT = {
    "eli": {
        "mse_loss": '''def mse_loss(pred, target, reduction="mean"):
    err = (pred - target) ** 2
    if reduction == "mean":
        return err.mean()
    elif reduction == "sum":
        return err.sum()
    elif reduction == "none":
        return err
    raise ValueError("reduction must be mean, sum or none")
''',
        "log_softmax": '''def log_softmax(logits, dim=-1):
    m, _ = logits.max(dim=dim, keepdim=True)
    z = logits - m
    return z - torch.log(torch.sum(torch.exp(z), dim=dim, keepdim=True))
''',
        "cross_entropy_loss": '''def cross_entropy_loss(logits, targets):
    lp = log_softmax(logits, dim=1)
    return -lp[torch.arange(len(targets)), targets].mean()
'''},
    "fay": {
        "mse_loss": '''def mse_loss(pred, target, reduction="mean"):
    ops = {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}
    if reduction not in ops:
        raise ValueError(reduction)
    return ops[reduction]((pred - target).pow(2))
''',
        "log_softmax": '''def log_softmax(logits, dim=-1):
    return logits - torch.logsumexp(logits, dim=dim, keepdim=True)
''',
        "cross_entropy_loss": '''def cross_entropy_loss(logits, targets):
    m = logits.max(dim=1, keepdim=True).values
    lse = (logits - m).exp().sum(1).log() + m.squeeze(1)
    return (lse - logits[range(logits.shape[0]), targets]).mean()
'''},
    "gus": {
        "mse_loss": '''def mse_loss(pred, target, reduction="mean"):
    sq = torch.square(pred - target)
    match reduction:
        case "mean":
            return sq.mean()
        case "sum":
            return sq.sum()
        case "none":
            return sq
    raise ValueError(f"{reduction!r} is not a reduction")
''',
        "log_softmax": '''def log_softmax(logits, dim=-1):
    c = logits.max(dim, keepdim=True).values
    norm = c + (logits - c).exp().sum(dim, keepdim=True).log()
    return logits - norm
''',
        "cross_entropy_loss": '''def cross_entropy_loss(logits, targets):
    onehot = torch.zeros_like(logits).scatter(1, targets.unsqueeze(1), 1.0)
    return -(onehot * log_softmax(logits, 1)).sum(1).mean()
'''},
}
WRITTEN = {
    "ana": "Cross-entropy punishes a confident wrong class with a loss that grows without bound, and its gradient "
           "through the softmax stays large when the model is wrong, while MSE on probabilities saturates.",
    "eli": "MSE treats the outputs as numbers on a line, but classes have no order; the likelihood view says we "
           "should maximise the log-probability of the right label, which is exactly cross-entropy.",
    "fay": "With sigmoid or softmax outputs the squared error has flat regions, so learning stalls; the log in "
           "the cross-entropy cancels the exponential and keeps gradients useful.",
}


def _compare(notebooks: dict[str, list[notebook.Cell] | str], release: Release) -> AssignmentSimilarity:
    collection = Collection("01_loss_functions", release)
    for student, cells in notebooks.items():
        collection.add(student, cells)
    return collection.compare(common=0.2)


def _answers(code: dict[str, str], why: str = "") -> dict[str, str]:
    return code | ({"why_cross_entropy": why} if why else {})


def _notebooks(tmp_path: Path) -> Path:
    """submitted/ with ana, her three copiers, three independent students, two untouched releases and a file that
    is no notebook."""
    graded_at = {c.grade_id: c.index for c in notebook.read(RELEASE)}
    students = {
        "ana": (_answers(ANA, WRITTEN["ana"]), []),
        "bo": (_answers({n: renamed(c) for n, c in ANA.items()},
                        WRITTEN["ana"].replace("grows without bound", "is unbounded")), []),
        "cy": (_answers({n: reordered(c) for n, c in ANA.items()}), []),
        # each helper in a cell of its own, above its graded cell, with IPython's magics
        "di": (_answers({n: "%%time\n" + split(c)[1] for n, c in ANA.items()}),
               sorted(((graded_at[n], "%matplotlib inline\n!pip install torch\n" + split(c)[0])
                       for n, c in ANA.items()), reverse=True)),
        **{s: (_answers(code, WRITTEN.get(s, "")), []) for s, code in INDEPENDENT.items()},
    }
    submitted = tmp_path / "submitted"
    for student, (answers, extra) in students.items():
        with_answers(RELEASE, answers, submitted / student / "01_loss_functions" / RELEASE.name, extra)
    for student in ("ben1", "ben2"):  # the untouched release
        with_answers(RELEASE, {}, submitted / student / "01_loss_functions" / RELEASE.name)
    (submitted / "eve" / "01_loss_functions").mkdir(parents=True)
    (submitted / "eve" / "01_loss_functions" / RELEASE.name).write_text("not a notebook")
    return submitted


@pytest.fixture(scope="module")
def submitted(tmp_path_factory) -> Path:
    return _notebooks(tmp_path_factory.mktemp("similarity"))


@pytest.fixture(scope="module")
def result(submitted):
    cells = {p.parent.parent.name: p for p in submitted.glob("*/01_loss_functions/*.ipynb")}
    notebooks = {}
    for student, path in cells.items():
        try:
            notebooks[student] = notebook.read(path)
        except notebook.NotebookError as exc:
            notebooks[student] = str(exc)
    return _compare(notebooks, Release.of(notebook.read(RELEASE)))


COPIES = {("ana", "bo"), ("ana", "cy"), ("ana", "di")}


@pytest.mark.parametrize("name", NAMES)
def test_planted_copies_rank_above_independent_solutions(result, name):
    pairs = {(p.a.student, p.b.student): p.score for p in next(n for n in result.names if n.name == name).pairs}
    copies = {pair: pairs.get(pair, 0.0) for pair in COPIES}
    independent = {pair: score for pair, score in pairs.items() if set(pair) & set(INDEPENDENT)}
    assert min(copies.values()) >= 0.5 > max(independent.values(), default=0), (copies, independent)
    assert next(n for n in result.names if n.name == name).clusters(0.5) == [["ana", "bo", "cy", "di"]]


def test_written_answers_compared_as_text(result):
    why = next(n for n in result.names if n.name == "why_cross_entropy")
    assert why.kind == "text" and [(p.a.student, p.b.student) for p in why.above(0.5)] == [("ana", "bo")]


def test_untouched_release_and_unreadable_files(result):
    """The release's stubs are boilerplate: the two untouched releases pair with nobody, and are not counted as
    answers; a file that is no notebook is listed with the reason."""
    for n in result.names:
        assert not {"ben1", "ben2"} & {s for p in n.pairs for s in (p.a.student, p.b.student)}
    assert {n.name: n.answers for n in result.names}["mae_loss"] == 0
    assert "not a notebook file" in result.unread["eve"] and result.students == 10


def test_code_given_by_the_stub_is_no_evidence():
    """Where the release's stub holds the instructor's own answer, students who keep it, even renamed, are not
    similar: the shared code is the release's."""
    source = notebook.read(ROOT / "source" / "01_loss_functions" / "loss_functions.ipynb")
    release = Release.of(source)  # a release whose stubs are the instructor's answers
    renamed_cells = [replace(c, source=renamed(c.source)) if c.kind == "code" else c for c in source]
    found = _compare({"s1": source, "s2": source, "s3": renamed_cells}, release)
    assert all(not n.pairs for n in found.names), [(n.name, n.pairs[:1]) for n in found.names if n.pairs]


def test_fingerprints_ignore_names_comments_white_space_and_order():
    a = "x = (p - t) ** 2\ny = x.sum()  # total\nreturn_value = y / x.numel()\n"
    b = "total = y = None\nq = x.numel()\nerr = (pred -  target)**2\ns = err.sum()\n"
    assert set(code_marks(a)) >= {m for m in code_marks("e = (a - b) ** 2\nz = e.sum()\n")}
    assert set(code_marks(a)) & set(code_marks(b)) == set(code_marks("e = (a - b) ** 2\nz = e.sum()\n"))


@pytest.fixture(scope="module")
def similarity_run(submitted) -> tuple[subprocess.CompletedProcess, Path]:
    """``python -m autograder similarity`` on the submissions, and the folder it wrote."""
    out = submitted.parent / "similar"
    run = subprocess.run([sys.executable, "-m", "autograder", "similarity", str(submitted), "--out", str(out), "-q"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    return run, out


def test_cli_writes_pairs_csv_and_pages(similarity_run):
    run, out = similarity_run
    assert run.returncode == 0, run.stderr
    assert "not a verdict" in run.stdout
    rows = list(csv.DictReader((out / "pairs.csv").open()))
    assert {(r["name"], r["student_a"], r["student_b"]) for r in rows if r["name"] == "mse_loss"} == \
        {("mse_loss", a, b) for a, b in [*COPIES, ("bo", "cy"), ("bo", "di"), ("cy", "di")]}
    assert all(float(r["score"]) >= 0.5 for r in rows) and {r["kind"] for r in rows} == {CODE, "text"}
    page = (out / "01_loss_functions.html").read_text()
    assert "not a verdict" in page and "AI-written" in page and "&lt;b&gt;not bold&lt;/b&gt;" in page
    assert "<b>not bold" not in page and "not a notebook file" in page


def test_page_shows_pairs_side_by_side_with_highlights(similarity_run, page):
    out = similarity_run[1]
    page.goto((out / "01_loss_functions.html").as_uri())
    section = page.locator("section#cross_entropy_loss")
    first = section.locator("details.pair").first
    assert first.get_attribute("open") is not None
    sides = first.locator(".sides > .side")
    assert sides.count() == 2
    left, right = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
    assert left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) < 2  # side by side
    for i in range(2):
        marks = sides.nth(i).locator("mark")
        assert marks.count() >= 2 and "gather" in " ".join(marks.all_inner_texts())
    assert "<b>not bold</b>" in section.inner_text()  # the student's text, shown, not run as HTML
    assert page.locator("script").count() == 0 and "not a verdict" in page.locator(".notice").inner_text()
    assert "Cluster of 4: ana, bo, cy, di" in section.inner_text()


def test_bad_input_says_why(submitted, tmp_path, capsys):
    from autograder.cli import main

    assert main(["similarity", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    assert "is not a folder of submissions" in capsys.readouterr().err
    assert main(["similarity", str(submitted), "--out", str(tmp_path / "o"), "--release", str(tmp_path), "-q"]) == 2
    assert "no release notebook" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["similarity", str(submitted), "--out", str(tmp_path / "o"), "--threshold", "2"])
    assert "expected a number from 0 to 1" in capsys.readouterr().err


def test_odd_code_is_compared_and_shown_without_a_crash(tmp_path):
    """Broken and odd cells: a syntax error, a form feed, a lone surrogate, deep nesting, a graded cell deleted."""
    odd = ["def mse_loss(pred, target, reduction='mean'):\n    return (pred - target\n",
           "x = 1\x0c\ndef mae_loss(pred, target, reduction='mean'):\n    return (pred - target).abs().mean()\n",
           "def log_softmax(logits, dim=-1):\n    s = '\ud800'\n    return logits \ud800 s\n",
           "y = " + "(" * 150 + "1" + ")" * 150 + "\n", "%%bash\necho hi\n", ""]
    cells = [notebook.Cell(i, "code", source, None) for i, source in enumerate(odd)]
    found = _compare({"odd": cells, "odd\udcff": cells, "none": []}, Release.of(notebook.read(RELEASE)))
    answers = {n.name: n.answers for n in found.names}
    assert answers["mae_loss"] == 2 and answers["cross_entropy_loss"] == 0
    write_similarity([found], tmp_path, threshold=0.5, top=10)
    html = (tmp_path / "01_loss_functions.html").read_text()
    assert "odd?" in (tmp_path / "pairs.csv").read_text() and "odd?" in html
