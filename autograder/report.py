"""Plain-text tables for the terminal, and the score bands shared with the HTML pages."""
from __future__ import annotations

import textwrap
from collections import Counter, defaultdict
from statistics import median

from .result import GRADED, SubmissionResult

SLOWEST = 5   # slowest submissions named per assignment
LISTED = 20   # submissions not cleanly graded listed per assignment; the rest are counted


def table(header: list[str], rows: list[list[str]], wrap: int = 0) -> str:
    """Columns aligned, a row per line; a cell's own line breaks (a tensor's repr in a message) are joined, so
    that no cell breaks the layout. With ``wrap``, the last column is wrapped at that width, its further lines
    indented under it."""
    rows = [[" ".join(str(c).split()) for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    if wrap:
        widths[-1] = min(widths[-1], wrap)
    indent = " " * (sum(widths[:-1]) + 2 * (len(widths) - 1))

    def lines(r: list[str]) -> str:
        last = (textwrap.wrap(r[-1], widths[-1], break_on_hyphens=False) if wrap else [r[-1]]) or [""]
        first = "  ".join(c.ljust(w) for c, w in zip([*r[:-1], last[0]], widths)).rstrip()
        return "\n".join([first, *(indent + more for more in last[1:])])
    return "\n".join([lines(rows[0]), lines(["-" * w for w in widths]), *map(lines, rows[1:])])


def band_labels(n: int) -> list[str]:
    """Labels of ``band_counts``'s bands: zero, ``n`` equal bands below full marks, full marks."""
    return ["0", *(f"<{100 * (i + 1) // n}%" for i in range(n)), "full"]


def band_counts(scores: list[tuple[float, float]], n: int) -> list[int]:
    """How many (score, max score) pairs are zero, in each of ``n`` equal bands below full marks, or full marks."""
    counts = [0] * (n + 2)
    for got, top in scores:
        counts[0 if got <= 0 else n + 1 if got >= top else 1 + min(n - 1, int(got / top * n))] += 1
    return counts


def by_assignment(results: list[SubmissionResult]) -> dict[str, list[SubmissionResult]]:
    groups: dict[str, list[SubmissionResult]] = defaultdict(list)
    for r in results:
        groups[r.assignment].append(r)
    return dict(sorted(groups.items()))


def first_line(text: str, width: int = 70) -> str:
    """The first line of ``text``, shortened, with control characters (terminal escapes) replaced."""
    line = "".join(c if c.isprintable() else "?" for c in (text.strip().splitlines() or ["(no message)"])[0])
    return line if len(line) <= width else line[:width - 3] + "..."


def summary(results: list[SubmissionResult]) -> str:
    """Per assignment: statuses, each graded name's score distribution, the slowest, integrity flags and the not
    cleanly graded."""
    parts = []
    for assignment, group in by_assignment(results).items():
        statuses = Counter(r.status for r in group)
        parts.append(f"\n{assignment}: {len(group)} submission(s): "
                     + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())))
        waiting = Counter(name for r in group for name in r.pending)
        if waiting:
            parts.append("written answers to grade by hand (python -m autograder mark): "
                         + ", ".join(f"{name} {n} pending" for name, n in waiting.items()))
        scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for r in group:
            for name, pair in r.scores().items():
                scores[name].append(pair)
        scores["(total)"] = [(r.score, r.max_score) for r in group]
        rows = []
        for name, pairs in scores.items():
            got = [g for g, _ in pairs]
            spread = "/".join(f"{round(x, 2):g}" for x in (min(got), median(got), max(got)))
            rows.append([name, f"{sum(got) / len(got):.2f} / {max(t for _, t in pairs):g}", spread,
                         *band_counts(pairs, 4)])
        parts.append(table(["graded name", "mean score", "min/med/max", *band_labels(4)], rows))
        slow = sorted(group, key=lambda r: r.seconds, reverse=True)[:SLOWEST]
        parts.append("slowest: " + ", ".join(f"{first_line(r.student, 40)} {r.seconds:.1f} s" for r in slow))
        flagged = [[first_line(r.student, 40), first_line(flag, 110)] for r in group for flag in r.flags]
        if flagged:
            parts.append("integrity flags (code that may have tampered with the from-scratch watch; instructors only):")
            parts.append(table(["student", "flag"], flagged[:LISTED]))
            if len(flagged) > LISTED:
                parts.append(f"... and {len(flagged) - LISTED} more (see the HTML report)")
        bad = [r for r in group if r.status != GRADED]
        if bad:
            parts.append("not cleanly graded:")
            parts.append(table(["student", "status", "first line of output"],
                               [[first_line(r.student, 40), r.status, first_line(r.output)] for r in bad[:LISTED]]))
            if len(bad) > LISTED:
                parts.append(f"... and {len(bad) - LISTED} more (see grades.csv)")
    return "\n".join(parts)
