"""Similarity of submissions per graded name: which pairs of students share code or written text that few others
have. Evidence for a person to look at, never a verdict (the page says so); nothing here guesses who wrote what.

Code is fingerprinted with copydetect's tokeniser (pygments: names become ``V``/``F``/``O``, strings ``S``,
comments and white space go) and its winnowing, applied per statement, so that k-grams never straddle two
statements and reordering them keeps every fingerprint; renamed variables, changed comments and white space change
none. A student's code for a name is its definition wherever it stands in the notebook, with the helpers it calls,
so code moved or split between cells is still found. Written answers are compared as sets of word n-grams.

Fingerprints of the release (the stubs, given code, the questions) are boilerplate and never count, and so are those
that more than ``common`` of the students share: a common idiom is no evidence. Pairs are found through an inverted
index of fingerprints: only students who share one are ever paired, and a fingerprint held by many is dropped
before it can make pairs quadratic.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
from copydetect.utils import filter_code, winnow
from tqdm import tqdm

from . import notebook
from .assignment import Assignment, Job
from .notebook import Cell, python_source, runnable

K = 10          # characters of copydetect's filtered code per k-gram ("V=(V-V)**2" is one)
WINDOW = 3      # winnowing window, in k-grams
MIN_STATEMENT = 6  # a statement of fewer filtered characters ("returnV") has no fingerprint of its own
WORDS = 3       # words per n-gram of a written answer
MIN_SHARED = 2  # fingerprints a pair must share to be listed
MIN_COMMON = 5  # a fingerprint of at most this many students is never common
CODE, TEXT = "code", "text"

Span = tuple[int, int]
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Answer:
    """One student's answer for one graded name: the text shown, and where each fingerprint stands in it."""

    student: str
    text: str
    marks: Mapping[int, tuple[Span, ...]]


@dataclass(frozen=True)
class Pair:
    """Two students' answers and the fingerprints they share, neither boilerplate nor common."""

    a: Answer
    b: Answer
    shared: frozenset[int]
    counted: Mapping[str, int]  # per student: fingerprints counted (all but boilerplate)

    def share(self, answer: Answer) -> float:
        """The part of ``answer``'s counted fingerprints that the other answer has too."""
        return len(self.shared) / max(self.counted[answer.student], 1)

    @property
    def score(self) -> float:
        """The mean of both shares: 1 for answers that are each other's copy, in ranking order."""
        return (self.share(self.a) + self.share(self.b)) / 2

    def spans(self, answer: Answer) -> list[Span]:
        """Where the shared fingerprints stand in ``answer``, overlapping spans merged."""
        return merged(span for mark in self.shared for span in answer.marks.get(mark, ()))


@dataclass
class NameSimilarity:
    """Every pair of one graded name that shares a fingerprint, most similar first."""

    name: str
    kind: str  # CODE or TEXT
    answers: int  # students compared: those with an answer beyond the release's
    pairs: list[Pair] = field(default_factory=list)

    def above(self, threshold: float) -> list[Pair]:
        return [p for p in self.pairs if p.score >= threshold]

    def clusters(self, threshold: float) -> list[list[str]]:
        """Groups of three or more students joined by pairs at or above ``threshold`` (connected components)."""
        parent: dict[str, str] = {}

        def root(s: str) -> str:
            while parent.setdefault(s, s) != s:
                s = parent[s]
            return s

        for p in self.above(threshold):
            parent[root(p.a.student)] = root(p.b.student)
        groups: dict[str, list[str]] = defaultdict(list)
        for s in parent:
            groups[root(s)].append(s)
        return sorted((sorted(g) for g in groups.values() if len(g) >= 3), key=lambda g: (-len(g), g))


def merged(spans: Iterable[Span]) -> list[Span]:
    out: list[list[int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def _hash(text: str) -> int:
    """A stable 63-bit hash: copydetect's ``hash()`` of a str is salted per process, and the same submissions
    must give the same report on every run."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()  # JSON allows "\ud800"
    return int.from_bytes(digest, "little") >> 1


def _statements(code: str) -> list[int]:
    """Per line of ``code`` (from 0), the line where its statement starts: a compound statement's header and a
    simple statement over several lines are one unit; code that does not parse is taken line by line."""
    starts = list(range(code.count("\n") + 1))
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return starts
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            body = getattr(node, "body", None)
            end = body[0].lineno - 1 if isinstance(body, list) and body and isinstance(body[0], ast.stmt) \
                else node.end_lineno or node.lineno
            for line in range(node.lineno, min(end, len(starts)) + 1):
                starts[line - 1] = node.lineno - 1
    return starts


@functools.lru_cache(maxsize=4096)
def code_marks(code: str) -> Mapping[int, tuple[Span, ...]]:
    """The fingerprints of ``code`` and where each stands: copydetect's filtered k-grams, winnowed within each
    statement; a short statement is one fingerprint, a very short one none. Cached: answers copied whole, and
    the release's cells, recur."""
    filtered, offsets = filter_code(code, "answer.py", "python")
    if not filtered:
        return {}
    index = np.arange(len(filtered))
    raw = index + offsets[:, 1][np.clip(np.searchsorted(offsets[:, 0], index), 0, len(offsets) - 1)] \
        if len(offsets) else index
    line_starts = np.cumsum([0] + [len(line) + 1 for line in code.split("\n")])  # lines as ast counts them
    units = np.array(_statements(code))[np.searchsorted(line_starts, raw, side="right") - 1]
    ends = np.append(raw[1:], len(code))
    marks: dict[int, list[Span]] = defaultdict(list)

    def span(first: int, last: int) -> Span:
        """Filtered characters ``first`` to ``last`` in ``code``, widened to whole words (a k-gram may start
        inside ``return``)."""
        start, end = int(raw[first]), int(raw[first]) + len(code[raw[first]:ends[last]].rstrip())
        while 0 < start < end and _WORD.match(code, start - 1) and _WORD.match(code, start):
            start -= 1
        while end < len(code) and _WORD.match(code, end - 1) and _WORD.match(code, end):
            end += 1
        return start, end

    bounds = np.flatnonzero(np.diff(units)) + 1
    for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(filtered)]):
        text = filtered[start:stop]
        if len(text) < MIN_STATEMENT:
            continue
        if len(text) <= K:
            marks[_hash(text)].append(span(start, stop - 1))
            continue
        hashes = np.array([_hash(text[i:i + K]) for i in range(len(text) - K + 1)], dtype=np.int64)
        for value, i in zip(*winnow(hashes, WINDOW, remove_duplicates=False)):
            marks[int(value)].append(span(start + i, start + i + K - 1))
    return {m: tuple(s) for m, s in marks.items()}


def text_marks(text: str) -> dict[int, tuple[Span, ...]]:
    """The word n-grams of a written answer, case and punctuation ignored, and where each stands."""
    words = list(re.finditer(r"\w+", text.lower()))
    marks: dict[int, list[Span]] = defaultdict(list)
    for i in range(len(words) - WORDS + 1):
        gram = words[i:i + WORDS]
        marks[_hash(" ".join(w.group() for w in gram))].append((gram[0].start(), gram[-1].end()))
    return {m: tuple(s) for m, s in marks.items()}


def _names(node: ast.stmt) -> set[str]:
    """The names a top-level statement defines: a function, a class, or assigned names."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


@dataclass(frozen=True)
class _Definition:
    order: tuple[int, int]  # cell, place in the cell
    source: str
    uses: frozenset[str]


def _python(source: str) -> str:
    """A code cell's ``source`` as Python: IPython's transformation as grading does it, or, under a cell magic such
    as ``%%time``, its body (which the magic runs)."""
    first, _, body = source.lstrip().partition("\n")
    return python_source(Cell(0, "code", body if first.startswith("%%") else source, None))


@functools.lru_cache(maxsize=4096)
def _cell_definitions(source: str) -> tuple[tuple[int, frozenset[str], str, frozenset[str]], ...]:
    """The top-level definitions of a code cell's ``source``: place, names, code, names used. Cached: most cells of a
    class's notebooks are the release's, unchanged, and IPython's transformation of a cell takes milliseconds."""
    code = _python(source)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    lines = code.split("\n")  # as ast counts them: splitlines() also splits at a form feed
    found = []
    for place, node in enumerate(tree.body):
        if names := _names(node):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            found.append((place, frozenset(names), "\n".join(lines[first - 1:node.end_lineno]),
                          frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name))))
    return tuple(found)


def _definitions(cells: list[Cell]) -> dict[str, _Definition]:
    """Every top-level definition of the code cells, the last one of each name as Python would bind it."""
    found: dict[str, _Definition] = {}
    for cell in runnable(cells):
        for place, names, source, uses in _cell_definitions(cell.source):
            for name in names:
                found[name] = _Definition((cell.index, place), source, uses)
    return found


def answer_code(cells: list[Cell], defines: Mapping[str, frozenset[str]], given: frozenset[str]) -> dict[str, str]:
    """Per graded name, the student's code for it wherever it stands: the definitions of the names its release cell
    defines (``defines``), with the helpers they use that the student wrote (not ``given`` by the release), in
    notebook order; the cell of that grade_id where none is found."""
    definitions = _definitions(cells)
    cell_of = {c.grade_id: c for c in runnable(cells) if c.grade_id}
    code = {}
    for grade_id, names in defines.items():
        todo, seen = [n for n in sorted(names) if n in definitions], set(names)
        parts = set()
        while todo:
            d = definitions[todo.pop()]
            parts.add(d)
            new = {u for u in d.uses if u in definitions and u not in given and u not in seen}
            seen |= new
            todo += sorted(new)
        if parts:
            code[grade_id] = "\n\n".join(d.source for d in sorted(parts, key=lambda d: d.order))
        elif grade_id in cell_of:
            code[grade_id] = _python(cell_of[grade_id].source).strip()
    return code


def written_answers(cells: list[Cell]) -> dict[str, str]:
    return {c.grade_id: c.source.strip() for c in cells if c.is_written_answer and c.grade_id}


def compare(name: str, kind: str, answers: list[Answer], boilerplate: frozenset[int],
            common: float) -> NameSimilarity:
    """The pairs of ``answers`` that share at least ``MIN_SHARED`` fingerprints that are neither ``boilerplate`` nor
    held by more than ``common`` of the students (and more than ``MIN_COMMON``), found through an inverted index."""
    counted = {a.student: len(a.marks.keys() - boilerplate) for a in answers}
    answers = sorted((a for a in answers if counted[a.student]), key=lambda a: a.student)  # pairs in name order
    holders: dict[int, list[int]] = defaultdict(list)
    for i, a in enumerate(answers):
        for mark in a.marks.keys() - boilerplate:
            holders[mark].append(i)
    cap = max(MIN_COMMON, math.ceil(common * len(answers)))
    together: Counter[tuple[int, int]] = Counter()
    for held in holders.values():
        if 1 < len(held) <= cap:
            together.update(combinations(held, 2))
    result = NameSimilarity(name, kind, len(answers))
    for (i, j), n in together.items():
        if n >= MIN_SHARED:
            a, b = answers[i], answers[j]
            shared = frozenset(m for m in a.marks.keys() & b.marks.keys() if 1 < len(holders.get(m, ())) <= cap)
            result.pairs.append(Pair(a, b, shared, {a.student: counted[a.student], b.student: counted[b.student]}))
    result.pairs.sort(key=lambda p: (-p.score, p.a.student, p.b.student))
    return result


@dataclass
class AssignmentSimilarity:
    """One assignment's similarity, name by name in the release's order, and the notebooks that could not be read."""

    assignment: str
    students: int
    names: list[NameSimilarity]
    unread: dict[str, str]  # student: why


@dataclass(frozen=True)
class Release:
    """What the release gives every student: the names each answer cell defines, every name its code defines, and
    the fingerprints of its code and markdown (boilerplate)."""

    defines: dict[str, frozenset[str]]
    written: tuple[str, ...]
    given: frozenset[str]
    boilerplate: dict[str, frozenset[int]]  # by kind

    @classmethod
    def of(cls, cells: list[Cell]) -> "Release":
        defines = {c.grade_id: frozenset().union(*(names for _, names, _, _ in _cell_definitions(c.source)))
                   for c in runnable(cells) if c.solution and c.grade_id}
        code = frozenset(m for c in runnable(cells) for m in code_marks(_python(c.source)))
        text = frozenset(m for c in cells if c.kind == "markdown" for m in text_marks(c.source))
        return cls(defines, tuple(written_answers(cells)), frozenset(_definitions(cells)), {CODE: code, TEXT: text})


@dataclass
class Collection:
    """One assignment's answers, fingerprinted notebook by notebook as they are read, then compared at once."""

    assignment: str
    release: Release
    answers: dict[str, list[Answer]] = field(default_factory=lambda: defaultdict(list))  # by graded name
    unread: dict[str, str] = field(default_factory=dict)  # student: why
    students: int = 0

    def add(self, student: str, cells: list[Cell] | str) -> None:
        """A student's notebook: its cells, or why it could not be read."""
        self.students += 1
        if isinstance(cells, str):
            self.unread[student] = cells
            return
        for name, source in answer_code(cells, self.release.defines, self.release.given).items():
            self.answers[name].append(Answer(student, source, code_marks(source)))
        for name, source in written_answers(cells).items():
            self.answers[name].append(Answer(student, source, text_marks(source)))

    def compare(self, common: float) -> AssignmentSimilarity:
        kinds = {**dict.fromkeys(self.release.defines, CODE), **dict.fromkeys(self.release.written, TEXT)}
        names = [compare(n, kind, self.answers[n], self.release.boilerplate[kind], common)
                 for n, kind in kinds.items()]
        return AssignmentSimilarity(self.assignment, self.students, names, self.unread)


def submitted_similarity(jobs: list[Job], release_root: Path, common: float,
                         progress: bool = True) -> list[AssignmentSimilarity]:
    """The submissions ``jobs`` compared assignment by assignment, each against its release in
    ``release_root/<assignment>/``; raises ``FileNotFoundError`` where a release notebook is missing."""
    collections: dict[Assignment, Collection] = {}
    for assignment in sorted({j.assignment for j in jobs}, key=lambda a: a.id):
        path = release_root / assignment.id / assignment.notebook
        if not path.is_file():
            raise FileNotFoundError(f"no release notebook {path}: run `python -m autograder release {assignment.id}`")
        collections[assignment] = Collection(assignment.id, Release.of(notebook.read(path)))
    for job in tqdm(jobs, desc="fingerprinting", unit="notebook", disable=not progress):
        try:
            cells: list[Cell] | str = notebook.read(job.path)
        except notebook.NotebookError as exc:
            cells = str(exc)
        collections[job.assignment].add(job.student, cells)
    return [c.compare(common) for c in collections.values()]
