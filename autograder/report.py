"""Plain-text tables for the terminal."""
from __future__ import annotations

from collections import defaultdict

from .result import GRADED, SubmissionResult


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def summary(results: list[SubmissionResult]) -> str:
    """Per assignment: how many were graded, and the mean score of each graded name."""
    parts = []
    by_assignment: dict[str, list[SubmissionResult]] = defaultdict(list)
    for r in results:
        by_assignment[r.assignment].append(r)
    for assignment, group in sorted(by_assignment.items()):
        bad = [r for r in group if r.status != GRADED]
        parts.append(f"\n{assignment}: {len(group)} submission(s), {len(bad)} not cleanly graded"
                     + (f" ({', '.join(f'{r.student}: {r.status}' for r in bad)})" if bad else ""))
        totals: dict[str, list[float]] = defaultdict(list)
        tops: dict[str, float] = {}
        for r in group:
            for name, (got, top) in r.scores().items():
                totals[name].append(got)
                tops[name] = top
        rows = [[name, f"{sum(v) / len(v):.2f} / {tops[name]:g}", sum(x >= tops[name] for x in v)]
                for name, v in totals.items()]
        parts.append(table(["graded name", "mean score", "full marks"], rows))
    return "\n".join(parts)
