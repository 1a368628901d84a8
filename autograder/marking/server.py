"""The marking page: written answers graded by hand, one question at a time, in a local tornado web app.

Every student's answer to the question comes in a stable random order (seeded by the question, against order
bias), with names hidden until asked for. Each change of a mark is posted at once and stored in one transaction
(marks.Store); the results, grades.csv and feedback pages follow when the server stops (marks.publish). The page
is served to this machine only and takes writes only with tornado's XSRF token.
"""
from __future__ import annotations

import hashlib
import html
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import mistune
import tornado.httpserver
import tornado.netutil
import tornado.web

from .. import rubric
from ..marks import Mark, Store, score, state
from ..pages import _plain
from ..result import SubmissionResult, load, load_all, results_path

STATIC = Path(__file__).resolve().parent / "static"
_markdown = mistune.create_markdown(escape=True, plugins=["math", "table", "strikethrough"])
MATH_NOTE = "Math shows as TeX: the page loads no math renderer (it works offline)."


@dataclass(frozen=True)
class Answer:
    student: str
    text: str

    @property
    def hash(self) -> str:
        return rubric.answer_hash(self.text)


def order(assignment: str, question: str, students: list[str]) -> list[str]:
    """A random order of ``students`` that is the same every time for this question."""
    return sorted(students, key=lambda s: hashlib.sha256(f"{assignment}/{question}/{s}".encode()).hexdigest())


class Marking:
    """What the handlers share: the grades folder, its results and its marks database."""

    def __init__(self, out_dir: Path, assignment: str | None = None, show_names: bool = False) -> None:
        self.out_dir, self.assignment, self.show_names = Path(out_dir), assignment, show_names
        self.store = Store(out_dir)
        self.store.seed()

    def results(self) -> list[SubmissionResult]:
        """Read anew for every page, so that a grading run's new answers show on reload."""
        return [r for r in load_all(self.out_dir) if self.assignment in (None, r.assignment)]

    def questions(self, results: list[SubmissionResult]) -> list[tuple[str, str, float]]:
        """(assignment, question, points) of every written answer of the assignments of ``results``."""
        return [(a, q, top) for a in sorted({r.assignment for r in results})
                for q, top in rubric.questions(a).items()]

    def answers(self, assignment: str, question: str, results: list[SubmissionResult] | None = None) -> list[Answer]:
        """Every answer to the question, in its order (``results``: those read for the request already)."""
        found = {r.student: r.answers[question] for r in (self.results() if results is None else results)
                 if r.assignment == assignment and question in (r.answers or {})}
        return [Answer(s, found[s]) for s in order(assignment, question, list(found))]

    def answer(self, student: str, assignment: str, question: str) -> Answer | None:
        """One student's answer, read from their results alone (a mark is posted per key press)."""
        if self.assignment not in (None, assignment) or not _plain(student) or not _plain(assignment):
            return None
        res = load(results_path(self.out_dir, student, assignment))
        return Answer(student, res.answers[question]) if res and question in (res.answers or {}) else None

    def question_data(self, assignment: str, question: str) -> dict:
        """Everything the page shows of one question."""
        top = rubric.questions(assignment)[question]
        items = self.store.rubrics().get((assignment, question), [])
        marks = self.store.marks()
        answers = self.answers(assignment, question)
        alike_ids = [rubric.alike_hash(a.text) for a in answers]
        alike = Counter(alike_ids)
        rows = []
        for a, alike_id in zip(answers, alike_ids):
            mark = marks.get((a.student, assignment, question))
            rows.append({"student": a.student, "answer": a.hash, "html": _markdown(a.text),
                         "words": len(a.text.split()), "alike": alike[alike_id],
                         "alikeId": alike_id, "state": state(mark, a.text),
                         "items": list(mark.items) if mark else [], "comment": mark.comment if mark else "",
                         "score": score(mark, items, top) if mark else None})
        return {"assignment": assignment, "question": question, "points": top, "showNames": self.show_names,
                "items": [{"id": i.id, "points": i.points, "text": i.text} for i in items], "answers": rows}


class Handler(tornado.web.RequestHandler):
    @property
    def marking(self) -> Marking:
        return self.application.settings["marking"]

    def prepare(self) -> None:
        """Answer this machine's names only: a web page elsewhere cannot reach the server by renaming itself."""
        if self.request.host_name not in ("127.0.0.1", "localhost"):
            raise tornado.web.HTTPError(403, reason="the marking page answers on 127.0.0.1 only")

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "
                                                   "connect-src 'self'; form-action 'none'; frame-ancestors 'none'")

    def question(self, assignment: str, question: str) -> float:
        """The question's points; 404 where the assignment has no such written answer."""
        top = rubric.questions(assignment).get(question)
        if top is None:
            raise tornado.web.HTTPError(404, reason=f"{assignment} has no written answer {question}")
        return top

    def body(self) -> dict:
        try:
            data = json.loads(self.request.body)
        except ValueError:
            raise tornado.web.HTTPError(400, reason="the body is not JSON") from None
        if not isinstance(data, dict):
            raise tornado.web.HTTPError(400, reason="the body is not a JSON object")
        return data


class Index(Handler):
    def get(self) -> None:
        results = self.marking.results()
        questions = self.marking.questions(results)
        if len(questions) == 1:
            return self.redirect(_url(*questions[0][:2]))
        marks = self.marking.store.marks()
        rows = []
        for a, q, top in questions:
            answers = self.marking.answers(a, q, results)
            done = sum(state(marks.get((x.student, a, q)), x.text) == "graded" for x in answers)
            rows.append(f'<tr><td>{_e(a)}</td><td><a href="{_e(_url(a, q))}">{_e(q)}</a></td><td>{top:g}</td>'
                        f"<td>{done} of {len(answers)} graded</td></tr>")
        self.write(_page("Written answers", "<table><tr><th>assignment</th><th>question</th><th>points</th>"
                                            f"<th>progress</th></tr>{''.join(rows)}</table>" if rows else
                         "<p>No written answers here: grade some submissions first.</p>"))


class Question(Handler):
    def get(self, assignment: str, question: str) -> None:
        self.question(assignment, question)
        data = json.dumps(self.marking.question_data(assignment, question)).replace("<", "\\u003c")
        self.write(_page(f"{assignment}: {question}", f"""
<div id="bar"><a href="/">all questions</a> <b>{_e(assignment)}: {_e(question)}</b>
 <span id="progress"></span> <span id="position"></span>
 <a href="{_e(_url(assignment, question))}/alike">word-for-word alike answers</a>
 <button id="names" type="button">show names (n)</button></div>
<main><section id="answer"><div id="who"></div><div id="flag"></div><div id="text"></div>
<p class="note">{MATH_NOTE}</p></section>
<aside><h2>Rubric <span id="score"></span></h2><ol id="items"></ol>
<label for="comment">Comment (c; Esc leaves it)</label><textarea id="comment" rows="5"></textarea>
<p class="keys">1-9 toggle an item, 0 marks with no item, j/&rarr; next, k/&larr; previous, u next ungraded,
 a the same mark for the ungraded alike answers, n names. Each change is saved at once.
 <span id="saved"></span></p></aside></main>
<script type="application/json" id="data">{data}</script>
<input type="hidden" id="xsrf" value="{_e(self.xsrf_token.decode())}">""", script=True))


class Alike(Handler):
    def get(self, assignment: str, question: str) -> None:
        self.question(assignment, question)
        groups: dict[str, list[tuple[int, Answer]]] = {}
        for n, a in enumerate(self.marking.answers(assignment, question), 1):  # n: its place on the grading page
            groups.setdefault(rubric.alike_hash(a.text), []).append((n, a))
        shown = self.marking.show_names or self.get_argument("names", "") == "1"
        parts = []
        for group in sorted((g for g in groups.values() if len(g) > 1), key=len, reverse=True):
            who = ", ".join(_e(a.student) if shown else f"answer {n}" for n, a in group)
            parts.append(f"<section><h2>{len(group)} answers alike: {who}</h2>{_markdown(group[0][1].text)}</section>")
        self.write(_page(f"{assignment}: {question}, word-for-word alike answers",
                         f'<p><a href="{_e(_url(assignment, question))}">back to grading</a> '
                         f'(<a href="?names=1">show names</a>). Alike: the same words, case, spacing and '
                         f'punctuation at word edges aside.</p>' + ("".join(parts) or "<p>No two answers alike.</p>")))


class MarkApi(Handler):
    def post(self) -> None:
        """Store one mark: {student, assignment, question, answer (the hash shown), items, comment}."""
        data = self.body()
        assignment, question, student = (str(data.get(k, "")) for k in ("assignment", "question", "student"))
        top = self.question(assignment, question)
        current = self.marking.answer(student, assignment, question)
        if current is None:
            raise tornado.web.HTTPError(404, reason=f"no answer of {student} to {question}")
        if data.get("answer") != current.hash:
            raise tornado.web.HTTPError(409, reason="the answer changed since the page was loaded: reload it")
        items = self.marking.store.rubrics().get((assignment, question), [])
        applied = data.get("items", [])
        if not isinstance(applied, list) or not set(applied) <= {i.id for i in items}:
            raise tornado.web.HTTPError(400, reason="unknown rubric items")
        mark = Mark(student, assignment, question, current.hash, tuple(i.id for i in items if i.id in applied),
                    str(data.get("comment", "")))
        self.marking.store.put([mark])
        self.write({"score": score(mark, items, top), "state": "graded"})


class PointsApi(Handler):
    def post(self) -> None:
        """Change a rubric item's points: {assignment, question, item, points}; answer every answer's new score."""
        data = self.body()
        assignment, question = str(data.get("assignment", "")), str(data.get("question", ""))
        self.question(assignment, question)
        points = data.get("points")
        if not isinstance(points, (int, float)) or isinstance(points, bool) or points != points:
            raise tornado.web.HTTPError(400, reason="points must be a number")
        if not self.marking.store.set_points(assignment, question, str(data.get("item", "")), float(points)):
            raise tornado.web.HTTPError(404, reason="no such rubric item")
        rows = self.marking.question_data(assignment, question)["answers"]
        self.write({"scores": {r["student"]: r["score"] for r in rows}})


def make_app(marking: Marking) -> tornado.web.Application:
    return tornado.web.Application([
        (r"/", Index),
        (r"/q/([^/]+)/([^/]+)", Question),
        (r"/q/([^/]+)/([^/]+)/alike", Alike),
        (r"/api/mark", MarkApi),
        (r"/api/points", PointsApi),
    ], static_path=str(STATIC), xsrf_cookies=True, marking=marking)


def _url(assignment: str, question: str) -> str:
    return f"/q/{assignment}/{question}"


def _e(text: object) -> str:
    return html.escape(str(text))


def _page(title: str, body: str, script: bool = False) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            '<link rel="stylesheet" href="/static/page.css"></head>\n<body>\n'
            f"{'' if script else f'<h1>{_e(title)}</h1>'}{body}\n"
            + ('<script src="/static/page.js"></script>' if script else "") + "</body></html>\n")


def serve(out_dir: Path, port: int, assignment: str | None = None, show_names: bool = False) -> None:
    """Serve the marking page on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM)."""
    import asyncio
    import signal

    async def run() -> None:
        marking = Marking(out_dir, assignment, show_names)
        sockets = tornado.netutil.bind_sockets(port, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(make_app(marking))
        server.add_sockets(sockets)
        print(f"grading page: http://127.0.0.1:{sockets[0].getsockname()[1]}/ (Ctrl-C to stop; the results are "
              "updated then)", flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()
        server.stop()
        marking.store.close()

    asyncio.run(run())
