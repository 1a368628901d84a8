"""Similarity's report: an HTML page per assignment (the most similar pairs per graded name side by side, their
shared parts highlighted, and clusters) and a CSV of the pairs at or above the threshold.

Everything taken from a submission is escaped, and the pages, like the grading report's, forbid scripts.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .pages import _e, _href, _page, _plain
from .result import write_atomic
from .similarity import CODE, Answer, AssignmentSimilarity, NameSimilarity, Pair

NOTICE = ("This page is evidence for a person to look at, not a verdict. A high score says that two answers share "
          "code or text that the release did not give and that few other students wrote; it does not say who "
          "wrote it, or that anyone copied. Short exercises have few ways to be written, and students share "
          "lectures, hints and study groups: read both answers, and the rest of the two notebooks, before you ask "
          "anyone about them. Nothing here tries to tell AI-written work from a student's: the published "
          "detectors are not credible (OpenAI withdrew its own classifier, which found 26% of AI-written text at "
          "9% false positives).")
STYLE = """<style>.notice{background:#fff7e6;border-left:4px solid #d97706;padding:.6rem 1rem}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:1rem}.side{min-width:0;overflow-x:auto}
.side pre{background:#f8f9fa;padding:.5rem}mark{background:#fde68a}
details{margin:.5rem 0 1rem}summary{cursor:pointer}</style>"""
CSV_HEADER = ["assignment", "name", "kind", "student_a", "student_b", "score", "share_a", "share_b", "shared"]


def write_similarity(results: list[AssignmentSimilarity], out_dir: Path, threshold: float,
                     top: int) -> list[Path]:
    """Write ``out_dir/<assignment>.html`` per assignment and ``out_dir/pairs.csv``; the paths written, CSV first.
    A lone surrogate (JSON's "\\ud800", a folder name that is not UTF-8) is written as "?"."""
    paths = [out_dir / "pairs.csv"]
    write_atomic(paths[0], pairs_csv(results, threshold).encode("utf-8", "replace"))
    for r in results:
        if _plain(r.assignment):
            paths.append(out_dir / f"{r.assignment}.html")
            write_atomic(paths[-1], assignment_page(r, threshold, top).encode("utf-8", "replace"))
    return paths


def pairs_csv(results: list[AssignmentSimilarity], threshold: float) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEADER)
    for r in results:
        for n in r.names:
            for p in n.above(threshold):
                writer.writerow([r.assignment, n.name, n.kind, p.a.student, p.b.student, f"{p.score:.3f}",
                                 f"{p.share(p.a):.3f}", f"{p.share(p.b):.3f}", len(p.shared)])
    return buf.getvalue()


def assignment_page(r: AssignmentSimilarity, threshold: float, top: int) -> str:
    rows = "".join(f'<tr><th><a href="#{_href(n.name)}">{_e(n.name)}</a></th><td>{n.kind}</td><td>{n.answers}</td>'
                   f"<td>{len(n.above(threshold))}</td><td>{_pct(n.pairs[0].score) if n.pairs else ''}</td>"
                   f"<td>{len(n.clusters(threshold))}</td></tr>" for n in r.names)
    body = [f'<p class="notice">{_e(NOTICE)}</p>', STYLE,
            f"<p>{r.students} submission(s). A pair's score is the mean of the two answers' shares of fingerprints "
            "that they both have: of the code, winnowed k-grams of each statement with names, comments and white "
            f"space ignored; of a written answer, runs of three words. What the release gives (stubs, docstrings, "
            f"questions) and what many students share does not count. Threshold: {_pct(threshold)}.</p>",
            "<table><tr><th>graded name</th><th>kind</th><th>answers compared</th><th>pairs at or above the "
            f"threshold</th><th>highest score</th><th>clusters of 3 or more</th></tr>{rows}</table>"]
    if r.unread:
        body.append("<h2>Not compared</h2><table>" + "".join(
            f"<tr><th>{_e(s)}</th><td>{_e(why)}</td></tr>" for s, why in sorted(r.unread.items())) + "</table>")
    body += [_name_section(n, threshold, top) for n in r.names]
    return _page(f"{r.assignment}: similarity", "\n".join(body))


def _name_section(n: NameSimilarity, threshold: float, top: int) -> str:
    parts = [f'<section id="{_e(n.name)}"><h2>{_e(n.name)} ({n.kind})</h2>']
    for cluster in n.clusters(threshold):
        parts.append(f'<p class="cluster">Cluster of {len(cluster)}: {_e(", ".join(cluster))}</p>')
    above = n.above(threshold)
    if not above:
        best = f" (the highest is {_pct(n.pairs[0].score)})" if n.pairs else ""
        parts.append(f"<p>No pair at or above the threshold{best}.</p>")
    for i, p in enumerate(above[:top]):
        parts.append(_pair(p, n.kind, open_=i == 0))
    if len(above) > top:
        parts.append(f"<p>{len(above) - top} more pair(s) at or above the threshold: see pairs.csv.</p>")
    return "\n".join(parts) + "</section>"


def _pair(p: Pair, kind: str, open_: bool) -> str:
    sides = "".join(f'<div class="side"><h3>{_e(a.student)}: {_pct(p.share(a))} shared</h3>'
                    f'<pre class="{kind}">{highlighted(a, p)}</pre></div>' for a in (p.a, p.b))
    units = "fingerprints" if kind == CODE else "runs of words"
    return (f'<details class="pair"{" open" if open_ else ""}><summary>{_e(p.a.student)} and '
            f"{_e(p.b.student)}: {_pct(p.score)} ({len(p.shared)} shared {units})"
            f'</summary><div class="sides">{sides}</div></details>')


def highlighted(answer: Answer, pair: Pair) -> str:
    """The answer's text, escaped, with the parts it shares with the other answer of ``pair`` marked."""
    out, at = [], 0
    for start, end in pair.spans(answer):
        out += [_e(answer.text[at:start]), f"<mark>{_e(answer.text[start:end])}</mark>"]
        at = end
    return "".join(out) + _e(answer.text[at:])


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"
