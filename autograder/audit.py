"""Check the checks: grade an assignment's stored wrong and right answers and see which checks still bite.

``tests/answers/NN_name.py`` holds, per graded name, realistic wrong answers (``WRONG``) and correct
alternatives (``RIGHT``), each either one cell's source or a dict ``{grade_id: source}``. ``SLOW`` names
(test_accuracy trains a model) are graded in a second pass, for the instructor's notebook, the release and
the answers aimed at them only; ``DEPENDS`` maps a name to the names it is built on, whose wrong answers
may cost it too. Used by ``python -m autograder audit`` and by the kit's own tests.
"""
from __future__ import annotations

import importlib.util
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import nbformat

from . import report
from .assignment import Assignment, Selection, all_assignments, find_jobs
from .limits import Limits
from .notebook import read as read_notebook
from .result import GRADED, CheckResult, SubmissionResult

if TYPE_CHECKING:
    from .sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "tests" / "answers"
MINIMUM_WRONG = 3  # wrong answers each graded name needs
NOT_IMPLEMENTED = "not implemented yet"
INSTRUCTOR, RELEASE, WRONG, RIGHT = "instructor", "release", "wrong", "right"


@dataclass(frozen=True)
class Answer:
    """One submission of an audit: the instructor's notebook, the release, or a stored answer."""

    assignment: str
    kind: str                         # INSTRUCTOR, RELEASE, WRONG or RIGHT
    name: str | None                  # the graded name a stored answer is aimed at
    label: str                        # the answer's key in the answers module
    replaced: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)  # grade_id: source

    @property
    def cells(self) -> frozenset[str]:
        """The grade_ids of the cells it replaces."""
        return frozenset(self.replaced)

    @property
    def student(self) -> str:
        """Its student id in the graded batch."""
        return self.kind if self.name is None else f"{self.kind}--{self.name}--{slug(self.label)}"

    def __str__(self) -> str:
        return self.label if self.name is None else f"{self.kind} {self.name}: {self.label!r}"


@dataclass
class Outcome:
    """An answer and its grade (None where the batch left no result)."""

    answer: Answer
    result: SubmissionResult | None

    @property
    def status(self) -> str | None:
        return self.result.status if self.result else None

    @property
    def scores(self) -> dict[str, tuple[float, float]]:
        """Per graded name: (score, max score)."""
        return self.result.scores() if self.result else {}

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that did not give full marks (a written answer waiting for a grader is none)."""
        return [c for c in self.result.scored if c.score < c.max_score] if self.result else []


@dataclass(frozen=True)
class Counts:
    """Per graded name: wrong answers that bite, right ones that keep full marks, and the two notebooks."""

    wrong_biting: int
    wrong: int
    right_keeping: int
    right: int
    instructor: tuple[float, float] | None  # (score, max score) of the instructor's notebook
    release: tuple[float, float] | None


@dataclass
class Audit:
    """The graded answers of one assignment."""

    assignment: str
    outcomes: list[Outcome]
    depends: dict[str, frozenset[str]] = field(default_factory=dict)
    minimum_wrong: int = MINIMUM_WRONG
    answer_cells: frozenset[str] = frozenset()  # grade_ids of the source notebook's code answer cells
    slow: frozenset[str] = frozenset()

    def of_kind(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.answer.kind == kind]

    def names(self) -> list[str]:
        """The graded names: the instructor's, in check order, then any other a stored answer aims at."""
        names = [n for o in self.of_kind(INSTRUCTOR) for n in o.scores]
        return names + sorted({o.answer.name for o in self.outcomes if o.answer.name} - set(names))

    def counts(self) -> dict[str, Counts]:
        """Per graded name, the counts the audit prints."""
        instructor, release = (next(iter(self.of_kind(k)), None) for k in (INSTRUCTOR, RELEASE))
        out = {}
        for name in self.names():
            wrong = [o for o in self.of_kind(WRONG) if o.answer.name == name]
            right = [o for o in self.of_kind(RIGHT) if o.answer.name == name]
            out[name] = Counts(sum(behaves(o, self.depends) for o in wrong), len(wrong),
                               sum(behaves(o, self.depends) for o in right), len(right),
                               instructor.scores.get(name) if instructor else None,
                               release.scores.get(name) if release else None)
        return out

    def misbehaving(self) -> list[tuple[Outcome, list[str]]]:
        """Each answer that does not behave, with why."""
        return [(o, why) for o in self.outcomes if (why := problems(o, self.depends))]

    def thin(self) -> dict[str, int]:
        """Graded names with fewer than ``minimum_wrong`` wrong answers, and how many they have."""
        return {n: c.wrong for n, c in self.counts().items() if c.wrong < self.minimum_wrong}

    def unchecked(self) -> list[str]:
        """Answer cells (nbgrader grade_ids) that no ``@graded`` check grades: their answers would earn nothing."""
        instructor = next(iter(self.of_kind(INSTRUCTOR)), None)
        if instructor is None or instructor.result is None:
            return []
        return sorted(self.answer_cells - set(instructor.scores) - self.slow)

    @property
    def ok(self) -> bool:
        return not self.misbehaving() and not self.thin() and not self.unchecked()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def cells_of(name: str, answer: str | Mapping[str, str]) -> dict[str, str]:
    """The cells an answer replaces: a source replaces the cell of ``name``; a dict {grade_id: source}
    replaces several (for a name with no cell of its own, such as test_accuracy)."""
    return dict(answer) if isinstance(answer, Mapping) else {name: answer}


def with_answers(source: Path, answers: Mapping[str, str], dest: Path,
                 extra_cells: Iterable[tuple[int, str]] = ()) -> None:
    """Write ``source`` to ``dest`` with the cells named in ``answers`` replaced; insert ``extra_cells``
    (position, code)."""
    nb = nbformat.read(source, as_version=4)
    found = set()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
            found.add(grade_id)
    if found != set(answers):
        raise ValueError(f"no cell for {sorted(set(answers) - found)} in {source}")
    for position, code in extra_cells:
        nb.cells.insert(position, nbformat.v4.new_code_cell(code))
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def load_answers(assignment: str, answers_dir: Path = ANSWERS) -> ModuleType:
    """Import ``answers_dir/<assignment>.py``."""
    path = answers_dir / f"{assignment}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no stored answers for {assignment}: {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"answers_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def may_lose(answer: Answer, depends: Mapping[str, Iterable[str]]) -> set[str]:
    """The names a wrong answer may cost: its own, the cells it replaced, and names built on those."""
    own = {answer.name} | set(answer.cells)
    return own | {n for n, built_on in depends.items() if own & set(built_on)}


def unhelpful(outcome: Outcome) -> list[CheckResult]:
    """Failed checks whose message is too short to act on, or an internal error of the grader."""
    return [c for c in outcome.failed if len(c.output) <= 20 or "internal error" in c.output]


def problems(outcome: Outcome, depends: Mapping[str, Iterable[str]]) -> list[str]:
    """Why an answer does not behave (empty when it does). A wrong answer must lose marks on its name and
    on no name outside ``may_lose``; a right answer and the instructor's notebook must keep full marks,
    graded; the release must score zero everywhere with "not implemented yet"; no failure may be unhelpful."""
    answer, scores = outcome.answer, outcome.scores
    if outcome.result is None:
        return ["no result"]
    why = []
    lost = sorted(n for n, (got, top) in scores.items() if got < top)
    if answer.kind == WRONG:
        if answer.name not in lost:
            why.append(f"no marks lost on {answer.name}")
        if spill := [n for n in lost if n not in may_lose(answer, depends)]:
            why.append(f"also lost marks on {', '.join(spill)}")
    elif answer.kind in (RIGHT, INSTRUCTOR):
        if outcome.status != GRADED:
            why.append(f"status {outcome.status}, not {GRADED}")
        if lost:
            why.append(f"lost marks on {', '.join(lost)}")
    elif answer.kind == RELEASE:
        if outcome.status != GRADED:
            why.append(f"status {outcome.status}, not {GRADED}")
        if not scores:
            why.append("no checks ran")
        if scored := sorted(n for n, (got, _) in scores.items() if got != 0):
            why.append(f"scored on {', '.join(scored)}")
        if any(NOT_IMPLEMENTED not in c.output for c in outcome.result.scored):
            why.append(f'a check does not say "{NOT_IMPLEMENTED}"')
    if bad := unhelpful(outcome):
        why.append(f"unhelpful messages on {', '.join(sorted({c.name for c in bad}))}")
    return why


def behaves(outcome: Outcome, depends: Mapping[str, Iterable[str]]) -> bool:
    """Whether a wrong answer bites (on its name, nowhere it may not), a right one keeps full marks, the
    instructor's notebook gets full marks and the release zero."""
    return not problems(outcome, depends)


def collect(assignment: str, answers_dir: Path = ANSWERS, skip_slow: bool = False
            ) -> tuple[list[Answer], frozenset[str], dict[str, frozenset[str]]]:
    """The answers of an assignment, its ``SLOW`` names and its ``DEPENDS``. With ``skip_slow``, the
    answers aimed at a slow name are left out."""
    module = load_answers(assignment, answers_dir)
    slow = frozenset(getattr(module, "SLOW", ()))
    depends = {n: frozenset(on) for n, on in getattr(module, "DEPENDS", {}).items()}
    answers = [Answer(assignment, INSTRUCTOR, None, "the instructor's notebook"),
               Answer(assignment, RELEASE, None, "the release notebook")]
    seen = set()
    for kind, table in ((WRONG, module.WRONG), (RIGHT, getattr(module, "RIGHT", {}))):
        for name, variants in table.items():
            if skip_slow and name in slow:
                continue
            for label, source in variants.items():
                answer = Answer(assignment, kind, name, label, cells_of(name, source))
                if answer.student in seen:
                    raise ValueError(f"{assignment}: two {kind} answers for {name} share the id {answer.student}")
                seen.add(answer.student)
                answers.append(answer)
    return answers, slow, depends


def run(assignments: Sequence[str], work: Path | None = None, *, answers_dir: Path | None = None,
        limits: Limits = Limits(), workers: int = 1, skip_slow: bool = False, progress: bool = False,
        root: Path = ROOT, sandbox: Sandbox | None = None) -> dict[str, Audit]:
    """Build and grade every stored answer of ``assignments`` in one batch, in ``work`` (an empty folder;
    default a temporary one), and return an ``Audit`` per assignment. The answers run in ``sandbox``, under
    its limits; by default in one of the audit's own, under ``limits``, closed when it ends."""
    from .grade import grade_batch  # torch: imported only when grading
    from .sandbox import Sandbox

    if sandbox is None:
        with Sandbox(limits) as own:
            return run(assignments, work, answers_dir=answers_dir, workers=workers, skip_slow=skip_slow,
                       progress=progress, root=root, sandbox=own)
    if work is None:
        with tempfile.TemporaryDirectory(prefix="audit-") as tmp:
            return run(assignments, Path(tmp), answers_dir=answers_dir, workers=workers, skip_slow=skip_slow,
                       progress=progress, root=root, sandbox=sandbox)
    known = all_assignments()
    if missing := [a for a in assignments if a not in known]:
        raise FileNotFoundError(f"no hidden checks for {', '.join(missing)}")
    submitted, out = work / "submitted", work / "out"
    answers: list[Answer] = []
    depends: dict[str, dict[str, frozenset[str]]] = {}
    slow: dict[str, frozenset[str]] = {}
    answer_cells: dict[str, frozenset[str]] = {}
    for assignment in assignments:
        notebook = Assignment(assignment).notebook
        source = root / "source" / assignment / notebook
        found, slow[assignment], depends[assignment] = collect(assignment, answers_dir or ANSWERS, skip_slow)
        answer_cells[assignment] = frozenset(c.grade_id for c in read_notebook(source)
                                             if c.kind == "code" and c.solution and c.grade_id)
        for answer in found:
            dest = submitted / answer.student / assignment / notebook
            if answer.kind in (INSTRUCTOR, RELEASE):
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source if answer.kind == INSTRUCTOR else root / "release" / assignment / notebook,
                                dest)
            else:
                with_answers(source, answer.replaced, dest)
        answers += found
    jobs, _ = find_jobs(submitted, known)
    slow_names = frozenset().union(*slow.values())
    results = {(r.student, r.assignment): r for r in grade_batch(
        jobs, out, sandbox, Selection(skip=slow_names), workers, progress)}
    if slow_names and not skip_slow:
        aimed = {(a.student, a.assignment) for a in answers
                 if slow[a.assignment] and (a.name is None or a.name in slow[a.assignment])}
        again = [j for j in jobs if (j.student, j.assignment.id) in aimed]
        results |= {(r.student, r.assignment): r for r in grade_batch(
            again, out, sandbox, Selection(only=slow_names), workers, progress)}
    return {a: Audit(a, [Outcome(x, results.get((x.student, a))) for x in answers if x.assignment == a],
                     depends[a], answer_cells=answer_cells[a], slow=slow[a]) for a in assignments}


def audit(assignment: str, work: Path | None = None, **options) -> Audit:
    """``run`` for one assignment."""
    return run([assignment], work, **options)[assignment]


def _score(pair: tuple[float, float] | None) -> str:
    return "-" if pair is None else f"{pair[0]:g} / {pair[1]:g}"


def render(result: Audit) -> str:
    """The audit as the command prints it: a table per graded name, then what does not behave."""
    rows = [[name, f"{c.wrong_biting} / {c.wrong}", f"{c.right_keeping} / {c.right}",
             ("yes " if c.instructor and c.instructor[0] >= c.instructor[1] else "NO ") + _score(c.instructor),
             ("yes " if c.release and c.release[0] == 0 else "NO ") + _score(c.release)]
            for name, c in result.counts().items()]
    wrong, right = result.of_kind(WRONG), result.of_kind(RIGHT)
    lines = [f"{result.assignment}: {len(wrong)} wrong and {len(right)} right answers",
             report.table(["graded name", "wrong answers losing marks", "right answers keeping full marks",
                           "instructor full marks", "release zero"], rows)]
    for kind in (INSTRUCTOR, RELEASE):
        for o in result.of_kind(kind):
            why = problems(o, result.depends)
            lines.append(f"{o.answer.label}: " + ("; ".join(why) if why else
                                                  "full marks on every name" if kind == INSTRUCTOR else
                                                  f'zero on every name, "{NOT_IMPLEMENTED}" everywhere'))
    if unchecked := result.unchecked():
        lines.append("answer cells that no @graded check grades (grade_id): " + ", ".join(unchecked))
    if thin := result.thin():
        lines.append(f"fewer than {result.minimum_wrong} wrong answers: "
                     + ", ".join(f"{n} ({k})" for n, k in thin.items()))
    bad = result.misbehaving()
    lines.append(f"\n{len(bad)} answer(s) do not behave:" if bad else "\nevery answer behaves")
    for o, why in bad:
        lines.append(f"- {o.answer}: {'; '.join(why)}")
        if o.result and o.status != GRADED and o.result.output:
            lines.append(f"    {o.status}: {' '.join(o.result.output.split())[:300]}")
        shown = [c for c in o.failed if o.answer.kind != RELEASE or NOT_IMPLEMENTED not in c.output]
        for c in shown[:8]:
            lines.append(f"    {c.label}: {' '.join(c.output.split())[:300]}")
        if len(shown) > 8:
            lines.append(f"    ... and {len(shown) - 8} more failed checks")
    return "\n".join(lines)
