"""Static HTML from results.json files: a page per assignment and an index for the instructor, feedback for students.

Every page is built from ``result.load_all(out_dir)`` alone, so a student's page shows nothing that their
results.json does not. Every string from results.json is escaped, and the pages forbid scripts.
"""
from __future__ import annotations

import html
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

from . import lateness
from .report import band_counts, band_labels, by_assignment
from .result import ERROR, GRADED, UNGRADABLE, CheckResult, SubmissionResult, load_all, write_atomic

TOP_FAILURES = 5  # failure messages shown per graded name
CSS = """body{font:15px/1.45 system-ui,sans-serif;color:#222;max-width:62rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{text-align:left;vertical-align:top;padding:.3rem .7rem;
border-bottom:1px solid #ddd}pre{white-space:pre-wrap;margin:0;font:13px/1.4 ui-monospace,monospace}
.passed td:nth-child(3){color:#1a7f37}.failed td:nth-child(3){color:#b42318}
.pending td:nth-child(3){color:#9a6700}.total{font-size:1.3rem}
.name th{background:#f3f4f6}
svg rect{fill:#4c78a8}svg text{font:11px sans-serif;text-anchor:middle;fill:#444}svg line{stroke:#999}"""


def write_pages(out_dir: Path) -> list[Path]:
    """Write ``out_dir/report/`` (index and a page per assignment) and a feedback.html beside each results.json.

    Returns the paths written, the index first. Totals are after the late penalty of ``out_dir/late.toml``.
    """
    policy = lateness.load(out_dir)
    results = [r for r in load_all(out_dir) if _plain(r.student) and _plain(r.assignment)]
    groups = by_assignment(results)
    pages = {out_dir / "report" / "index.html": _index(groups, policy)}
    pages.update({out_dir / "report" / f"{a}.html": _assignment_page(a, group) for a, group in groups.items()})
    pages.update({out_dir / r.student / r.assignment / "feedback.html": _feedback_page(r, policy) for r in results})
    for path, text in pages.items():
        write_atomic(path, text)
    return list(pages)


def histogram(scores: list[tuple[float, float]], bands: int = 10) -> str:
    """An inline SVG bar chart of how many (score, max score) pairs fall in each of ``report.band_counts``'s bands."""
    counts, labels = band_counts(scores, bands), band_labels(bands)
    pitch, base, tallest = 44, 118, max(counts) or 1
    parts = []
    for i, (n, label) in enumerate(zip(counts, labels)):
        x, h, mid = i * pitch, round(100 * n / tallest), i * pitch + pitch // 2
        if n:
            parts.append(f'<rect x="{x + 4}" y="{base - h}" width="{pitch - 8}" height="{h}">'
                         f'<title>{_e(label)}: {n}</title></rect><text x="{mid}" y="{base - h - 4}">{n}</text>')
        parts.append(f'<text x="{mid}" y="{base + 16}">{_e(label)}</text>')
    width = pitch * len(counts)
    return (f'<svg class="histogram" width="{width}" height="{base + 22}" role="img" aria-label="score histogram">'
            f'{"".join(parts)}<line x1="0" y1="{base}" x2="{width}" y2="{base}"/></svg>')


def _index(groups: dict[str, list[SubmissionResult]], policy: lateness.Policy | None) -> str:
    items = "".join(f'<li><a href="{_href(a + ".html")}">{_e(a)}</a>: {len(g)} submission(s)</li>'
                    for a, g in groups.items())
    found = {(r.student, r.assignment): r for g in groups.values() for r in g}
    rows = []
    for student in sorted({s for s, _ in found}):
        cells = []
        for a in groups:
            r = found.get((student, a))
            late = None if r is None else lateness.assess(policy, r)
            cells.append("<td></td>" if r is None else
                         f'<td><a href="{_href("..", student, a, "feedback.html")}">{_total(r, policy)}'
                         f'</a>{"" if r.status == GRADED else " " + _e(r.status)}{_pending(r)}'
                         f'{f" ({late.days} d late)" if late and late.days else ""}</td>')
        rows.append(f"<tr><th>{_e(student)}</th>{''.join(cells)}</tr>")
    header = "".join(f"<th>{_e(a)}</th>" for a in groups)
    return _page("Grading report", f"<h2>Assignments</h2><ul>{items}</ul>\n<h2>Students</h2>"
                                   f"<table><tr><th>student</th>{header}</tr>\n{chr(10).join(rows)}</table>")


def _assignment_page(assignment: str, group: list[SubmissionResult]) -> str:
    statuses = Counter(r.status for r in group)
    body = [f'<p><a href="index.html">all assignments</a></p><p>{len(group)} submission(s): '
            + ", ".join(f"{statuses[s]} {s}" for s in (GRADED, UNGRADABLE, ERROR)) + "</p>",
            "<h2>Total score</h2>", histogram([(r.score, r.max_score) for r in group])]
    waiting = Counter(name for r in group for name in r.pending)
    if waiting:
        body.insert(1, "<p>Written answers still to grade by hand (<code>python -m autograder mark</code>): "
                    + ", ".join(f"{_e(name)} {n} of {len(group)}" for name, n in waiting.items()) + "</p>")
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
    failures: dict[str, Counter[str]] = defaultdict(Counter)
    for r in group:
        for name, pair in r.scores().items():
            scores[name].append(pair)
        if r.status != UNGRADABLE:  # an unreadable file fails every check with the same reason
            for c in r.scored:
                if c.score < c.max_score:
                    failures[c.name][c.output.strip() or "(no message)"] += 1
    for name, pairs in scores.items():
        mean = sum(g for g, _ in pairs) / len(pairs)
        body += [f"<h2>{_e(name)}</h2><p>mean {mean:.2f} / {_n(max(t for _, t in pairs))}</p>", histogram(pairs)]
        if failures[name]:
            rows = "".join(f"<tr><td>{n}</td><td><pre>{_e(message)}</pre></td></tr>"
                           for message, n in failures[name].most_common(TOP_FAILURES))
            body.append(f"<table><tr><th>failed checks</th><th>most frequent messages</th></tr>{rows}</table>")
    flagged = "".join(f"<tr><th>{_e(r.student)}</th><td><pre>{_e(flag)}</pre></td></tr>"
                      for r in group for flag in r.flags)
    if flagged:
        body.append("<h2>Integrity flags</h2><p>Code that may have tampered with the from-scratch watch, and tampering "
                    "the watch saw (the name loses marks for what it saw). Students never see these.</p>"
                    f"<table><tr><th>student</th><th>flag</th></tr>{flagged}</table>")
    return _page(assignment, "\n".join(body))


def _feedback_page(r: SubmissionResult, policy: lateness.Policy | None) -> str:
    status = "" if r.status == GRADED else f" ({_e(r.status)})"
    late = lateness.assess(policy, r)
    before = f" ({_n(r.score)} before the late penalty)" if late and late.penalty else ""
    body = [f'<p class="total">Total: {_total(r, policy)}{status}{before}{_pending(r)}</p>']
    if late:
        body.append(f'<p class="late">{_e(_lateness(late, policy))}</p>')
    if r.output.strip():
        body.append(f"<h2>Notes</h2><pre>{_e(r.output)}</pre>")
    rows, scores = [], r.scores()
    for name in dict.fromkeys(c.name for c in r.checks):
        got, top = scores.get(name, (0.0, 0.0))
        total = "pending" if name in r.pending else f"{_n(got)} / {_n(top)}"
        rows.append(f'<tr class="name"><th colspan="3">{_e(name)}</th><th>{total}</th></tr>')
        rows += [f'<tr class="{_state(c)}"><td>{_e(c.title)}</td><td><pre>{_e(c.output)}</pre></td><td>{_state(c)}</td>'
                 f"<td>{_points(c)}</td></tr>" for c in r.checks if c.name == name]
    body.append("<h2>Checks</h2><table><tr><th>check</th><th>message</th><th>result</th><th>score</th></tr>\n"
                + "\n".join(rows) + "</table>")
    return _page(f"{r.assignment}: feedback for {r.student}", "\n".join(body))


def _total(r: SubmissionResult, policy: lateness.Policy | None) -> str:
    """The score after any late penalty, of the points possible."""
    final = lateness.final_score(policy, r)
    return f"{_n(r.score if final is None else final)} / {_n(r.max_score)}"


def _lateness(late: lateness.Late, policy: lateness.Policy) -> str:
    """When the submission came against its due time, and what that cost, for the student."""
    when = lambda t: t.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M %Z")  # noqa: E731
    due = f"due {when(late.due)}" + (f", with an extension of {_n(late.extension_days)} day(s)"
                                     if late.extension else "")
    if late.submitted is None:
        return f"No submission time was recorded ({due}): no late penalty."
    if not late.days:
        return f"Handed in {when(late.submitted)}, on time ({due})."
    cost = f"{_n(late.percent)}% of the points off, -{_n(late.penalty)}" if late.percent else "no penalty"
    return f"Handed in {when(late.submitted)}, {late.days} day(s) late ({due}): {cost}."


def _page(title: str, body: str) -> str:
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head>\n"
            f"<body>\n<h1>{_e(title)}</h1>\n{body}\n</body></html>\n")


def _state(c: CheckResult) -> str:
    return "pending" if c.pending else "passed" if c.score >= c.max_score else "failed"


def _points(c: CheckResult) -> str:
    return f"pending / {_n(c.max_score)}" if c.pending else f"{_n(c.score)} / {_n(c.max_score)}"


def _pending(r: SubmissionResult) -> str:
    """Said beside a total that leaves out written answers not graded yet."""
    return f", {_e(', '.join(r.pending))} pending" if r.pending else ""


def _plain(name: str) -> bool:
    """A single path component: a results.json naming another place gets no page."""
    return name not in ("", ".", "..") and not set(name) & set("/\\\0")


def _href(*parts: str) -> str:
    return _e("/".join(quote(p, safe="") for p in parts))


def _e(text: object) -> str:
    return html.escape(str(text))


def _n(x: float) -> str:
    return f"{round(x, 2):g}"
