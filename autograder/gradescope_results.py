"""The results.json that the Gradescope bundle hands to Gradescope: the graded one, or every check at 0 where
nothing could be graded (so that the maximum still shows), with the tests' visibility the instructor chose when
building the bundle.

``python -m autograder.gradescope_results RESULTS ...`` is what the bundle's ``run_autograder`` calls.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from .result import ERROR, UNGRADABLE, VISIBILITY, SubmissionResult, load, write_atomic


def parse_visibility(rules: list[str]) -> dict[str, str]:
    """``VIS`` (every test) or ``NAME=VIS`` (the tests of one graded name), VIS one of Gradescope's ``VISIBILITY``;
    by graded name, "" for every test. ValueError with what is wrong."""
    parsed = {}
    for rule in rules:
        name, _, value = rule.rpartition("=")
        if value not in VISIBILITY or (name and not re.fullmatch(r"\w+", name)):
            raise ValueError(f"visibility {rule!r}: expected VIS or NAME=VIS, NAME a graded name and VIS one of "
                             f"{', '.join(VISIBILITY)}")
        parsed[name] = value
    return parsed


def apply_visibility(res: SubmissionResult, rules: dict[str, str]) -> SubmissionResult:
    """Each test's visibility: its graded name's rule, else the rule for every test, else as it is."""
    for check in res.checks:
        check.visibility = rules.get(check.name, rules.get("", check.visibility))
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope_results", description=__doc__)
    parser.add_argument("path", type=Path, help="the results.json to write")
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--graded", type=Path, help="the results.json that grade wrote")
    parser.add_argument("--status", choices=(UNGRADABLE, ERROR), default=ERROR,
                        help="without --graded: why nothing was graded")
    parser.add_argument("--message", default="The autograder could not run on your submission; your instructor can "
                                             "see why in its output.", help="without --graded: what the student reads")
    parser.add_argument("--sandbox", default="none",
                        help="the sandbox mode, as `python -m autograder sandbox` names it")
    parser.add_argument("--visibility", action="append", default=[], metavar="[NAME=]VIS",
                        help=f"the tests' visibility on Gradescope, {', '.join(VISIBILITY)}: for all tests, or for "
                             "one graded name's (repeatable)")
    args = parser.parse_args(argv)
    rules = parse_visibility(args.visibility)
    res = load(args.graded) if args.graded else None
    if res is None:
        from .assignment import all_assignments
        from .grade import not_graded

        res = not_graded(all_assignments()[args.assignment], args.message, args.status, args.sandbox)
    write_atomic(args.path, json.dumps(apply_visibility(res, rules).to_gradescope(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
