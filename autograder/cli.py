"""``python -m autograder``: grade, merge, release, demo, check, audit, report, export, mark, bundle, data,
sandbox."""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from .assignment import ALL_WARM_UP, Job, Selection, find_jobs, warm_up
from .limits import Limits
from .modes import NONE, UNSAFE_FLAG, mode, refusal
from .resume import unfinished
from .shards import Shard

if TYPE_CHECKING:
    from .sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(**{f.name: getattr(args, f.name) for f in fields(Limits)})


def _shard(text: str) -> Shard:
    """``--shard I/N``."""
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _workers(text: str) -> int:
    """``-j``: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _add_limits(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("limits on student code")
    for f in fields(Limits):
        group.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default,
                           metavar="N", help=f"default {f.default}")


def _sandbox(args: argparse.Namespace, workers: int, imports: tuple[str, ...] = ALL_WARM_UP,
             private: tuple[Path, ...] = ()) -> Sandbox:
    """The command's sandbox, not started yet: its workers import ``imports`` before student code, at most
    ``workers`` of them run at once, and ``private`` folders are hidden from them."""
    from .sandbox import Sandbox

    return Sandbox(_limits(args), imports, workers, private)


def _start_sandbox(sandbox: Sandbox) -> None:
    """Print the sandbox mode and start its fork server, which imports torch while the grader does too."""
    from .sandbox import describe_mode

    print(describe_mode(), file=sys.stderr)
    sandbox.start()


def _sandbox_works(sandbox: Sandbox) -> bool:
    """Refuse to grade with a sandbox that cannot start: every student would get 0 for it."""
    problem = sandbox.selftest()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
    return problem is None


def _policy_works(out: Path) -> bool:
    """Refuse a late policy (``out/late.toml``) that cannot be used before any work, saying where and why."""
    from .lateness import PolicyError, load

    try:
        load(out)
    except PolicyError as exc:
        print(f"error: the late policy: {exc}", file=sys.stderr)
        return False
    return True


def _submissions(submitted: Path) -> list[Job]:
    """The submissions under ``submitted``, each skipped folder warned about; none, saying why, where there are
    none (a command then exits with 2)."""
    if not submitted.is_dir():
        print(f"error: {submitted} is not a folder of submissions", file=sys.stderr)
        return []
    jobs, warnings = find_jobs(submitted)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if not jobs:
        print(f"error: no submissions found under {submitted} (expected STUDENT/ASSIGNMENT/NOTEBOOK.ipynb)",
              file=sys.stderr)
    return jobs


def cmd_grade(args: argparse.Namespace) -> int:
    jobs = _submissions(args.submitted)
    if not jobs or not _policy_works(args.out):
        return 2
    if args.shard:
        students = {j.student for j in jobs}
        jobs = [j for j in jobs if args.shard.holds(j.student)]
        print(f"shard {args.shard}: {len({j.student for j in jobs})} of the {len(students)} students "
              f"({len(jobs)} submission(s))", file=sys.stderr)
        if not jobs:  # a small course has empty shards: nothing to do is no error
            args.out.mkdir(parents=True, exist_ok=True)
            return 0
    selection = Selection(frozenset(args.only.split(",")) if args.only else None,
                          frozenset(args.skip.split(",")) if args.skip else frozenset())
    pending = jobs if args.regrade else unfinished(jobs, args.out, _limits(args), selection)
    if pending and mode().name == NONE and not args.unsafe_no_sandbox:
        print(refusal(), file=sys.stderr)
        return 3
    with _sandbox(args, min(args.jobs, len(pending)), warm_up(j.assignment for j in pending),
                  (args.out, args.submitted)) as sandbox:
        if pending:  # else no student code runs, and no sandbox is needed
            args.out.mkdir(parents=True, exist_ok=True)
            _start_sandbox(sandbox)
        from . import report
        from .grade import grade_batch, warm
        from .pages import write_pages

        if pending:
            warm(pending)  # while the sandbox starts
            if not _sandbox_works(sandbox):
                return 3
        results = grade_batch(jobs, args.out, sandbox, selection, args.jobs, progress=not args.quiet,
                              pending=pending)
    print(report.summary(results))
    print(f"results: {args.out}/<student>/<assignment>/results.json and {args.out / 'grades.csv'}")
    print(f"report: {write_pages(args.out)[0]} (a feedback.html beside each results.json)")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from .pages import write_pages
    from .shards import MergeConflict, merge

    if missing := [str(s) for s in args.sources if not s.is_dir()]:
        print(f"error: not a folder of results: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not _policy_works(args.out):
        return 2
    try:
        merged = merge(args.sources, args.out)
    except MergeConflict as exc:
        print(f"error: refusing to merge: {exc}", file=sys.stderr)
        return 2
    for source, count in merged.copied.items():
        print(f"{source}: {count} submission(s) copied")
    print(f"results: {len(merged.results)} in {args.out} and {args.out / 'grades.csv'}")
    print(f"report: {write_pages(args.out)[0]}")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from .sandbox import describe_mode

    print(describe_mode())
    if mode().name == NONE:
        print(refusal())
        return 3
    for problem in mode().problems:  # why a better mode was not chosen
        print(f"  not used: {problem}")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from .release import release

    for path in release(args.assignments, ROOT):
        print(f"released {path.relative_to(ROOT)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .release import demo_submissions

    submitted = demo_submissions(ROOT, args.out / "submitted")
    print(f"the demo's submissions: {submitted}", file=sys.stderr)
    code = main(["grade", str(submitted), "--out", str(args.out), "-j", str(args.jobs)])
    print(f"grade the written answers by hand: .venv/bin/python -m autograder mark {args.out}, then open "
          "http://127.0.0.1:8765/ (keys 1-9 toggle rubric items, j/k next and previous)")
    return code


def cmd_check(args: argparse.Namespace) -> int:
    with _sandbox(args, 1) as sandbox:
        _start_sandbox(sandbox)
        from .selfcheck import check_notebook

        if not _sandbox_works(sandbox):
            return 3
        return check_notebook(args.notebook, sandbox)


def cmd_audit(args: argparse.Namespace) -> int:
    with _sandbox(args, args.jobs) as sandbox:
        _start_sandbox(sandbox)
        from .audit import audit, render

        if not _sandbox_works(sandbox):
            return 3
        try:
            outcome = audit(args.assignment, answers_dir=args.answers, workers=args.jobs, skip_slow=args.skip_slow,
                            progress=True, sandbox=sandbox)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(render(outcome))
    return 0 if outcome.ok else 1


def cmd_data(args: argparse.Namespace) -> int:
    from .data import prepare

    prepare(args.root, args.mirror)
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from .bundle import build

    for assignment in args.assignments:
        try:
            path = build(assignment, args.out, tuple(args.visibility))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"built {path} (upload it as the assignment's autograder on Gradescope)")
    return 0


def _has_results(out: Path) -> bool:
    if any(out.glob("*/*/results.json")):
        return True
    print(f"error: no results under {out} (expected STUDENT/ASSIGNMENT/results.json)", file=sys.stderr)
    return False


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_csv
    from .marks import publish

    if not _has_results(args.out) or not _policy_works(args.out):
        return 2
    publish(args.out)
    dest = export_csv(args.out, args.to or args.out / f"{args.style}.csv", args.style)
    print(f"wrote {dest} ({args.style} gradebook import)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .marks import publish
    from .pages import write_pages

    if not _has_results(args.out) or not _policy_works(args.out):
        return 2
    publish(args.out)
    print(write_pages(args.out)[0])
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    from .rubric import RubricError

    if not _has_results(args.out) or not _policy_works(args.out):
        return 2
    try:
        return _mark(args)
    except RubricError as exc:
        print(f"error: a rubric cannot be used: {exc}", file=sys.stderr)
        return 2


def _mark(args: argparse.Namespace) -> int:
    from .marks import publish
    from .pages import write_pages

    if args.export_to or args.import_from:
        from .marksheet import export_marks, import_marks

        if args.import_from:
            errors = import_marks(args.out, args.import_from)
            for error in errors:
                print(f"error: {args.import_from}: {error}", file=sys.stderr)
            if errors:
                print(f"error: nothing imported ({len(errors)} bad row(s))", file=sys.stderr)
                return 2
            print(f"imported the marks of {args.import_from}")
            publish(args.out)
            write_pages(args.out)
        if args.export_to:
            print(f"wrote {export_marks(args.out, args.export_to)} mark(s) to {args.export_to}")
        return 0
    from .marking.server import serve

    serve(args.out, args.port, args.assignment, args.show_names)
    publish(args.out)
    print(f"results, grades.csv and feedback pages updated with the marks: {write_pages(args.out)[0]}")
    return 0


def cmd_similarity(args: argparse.Namespace) -> int:
    from .similarity import submitted_similarity
    from .similarity_pages import write_similarity

    jobs = _submissions(args.submitted)
    if not jobs:
        return 2
    try:
        results = submitted_similarity(jobs, args.release, args.common, progress=not args.quiet)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = write_similarity(results, args.out, args.threshold, args.top)
    for r in results:
        above = {n.name: len(n.above(args.threshold)) for n in r.names}
        print(f"{r.assignment}: {r.students} submission(s), pairs at or above {args.threshold:g}: "
              + ", ".join(f"{name} {count}" for name, count in above.items()))
    print(f"pairs: {paths[0]}; pages: {', '.join(str(p) for p in paths[1:]) or 'none'}")
    print("evidence for a person to look at, not a verdict: read both answers before asking anyone about them")
    return 0


def _fraction(text: str) -> float:
    """``--threshold`` and ``--common``: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, not {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade nbgrader's submitted/<student>/<assignment>/ folders")
    p.add_argument("submitted", type=Path, help="the submitted/ folder")
    p.add_argument("--out", type=Path, required=True, help="where results.json files and grades.csv go")
    p.add_argument("--only", help="regrade just these graded names (comma-separated)")
    p.add_argument("--skip", help="grade all but these graded names, e.g. test_accuracy for a quick pass")
    p.add_argument("-j", "--jobs", type=_workers, default=1, help="submissions graded at once (default 1)")
    p.add_argument("--regrade", action="store_true",
                   help="grade every submission again (by default a run resumes: results from the same notebook "
                        "contents, grading code and options are kept)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--shard", type=_shard, metavar="I/N",
                   help="grade only shard I of N (I from 0): the students whose id hashes to I; merge the shards' "
                        "--out folders with `merge` (see docs/scale.md)")
    p.add_argument(UNSAFE_FLAG, action="store_true",
                   help="grade even where no sandbox works, with process limits alone: student code can then read "
                        "the hidden checks, reach the network and forge results (each result says so)")
    _add_limits(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("merge", help="merge the --out folders of grade --shard runs into one, as one run writes it")
    p.add_argument("sources", nargs="+", type=Path, metavar="OUT", help="the shards' --out folders")
    p.add_argument("--out", type=Path, required=True,
                   help="where the merged results, grades.csv and report go (may be a shared folder the shards "
                        "wrote into: then grades.csv and the report are rebuilt from all its results)")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("release", help="regenerate release/ from source/ with nbgrader")
    p.add_argument("assignments", nargs="*", help="assignment names (default: all in source/)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("demo", help="grade the demo's submissions: the instructor's notebooks (ada), the release (ben) "
                                    "and samples/submitted")
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="where they and their results go "
                                                                       "(default out/demo)")
    p.add_argument("-j", "--jobs", type=_workers, default=2, help="submissions graded at once (default 2)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("check", help="run a notebook's visible tests in the sandbox and show a table")
    p.add_argument("notebook", type=Path)
    _add_limits(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("audit", help="grade the stored wrong and right answers: does every check still bite?")
    p.add_argument("assignment", metavar="ASSIGNMENT", help="e.g. 01_loss_functions")
    p.add_argument("--answers", type=Path, help="the folder of answers modules (default tests/answers)")
    p.add_argument("-j", "--jobs", type=_workers, default=1, help="submissions graded at once (default 1)")
    p.add_argument("--skip-slow", action="store_true", help="leave out the names in SLOW (test_accuracy trains)")
    _add_limits(p)
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("sandbox", help="print the sandbox mode student code gets here; if none, why and the fixes")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("data", help="put MNIST in torchvision's layout under data/")
    p.add_argument("--mirror", type=Path, help="a folder holding MNIST/raw/*.gz (default: download)")
    p.add_argument("--root", type=Path, default=ROOT / "data")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("bundle", help="build a Gradescope autograder zip per assignment")
    p.add_argument("assignments", nargs="+", metavar="ASSIGNMENT", help="assignment names, e.g. 01_loss_functions")
    p.add_argument("--out", type=Path, default=Path("out/gradescope"),
                   help="where the zips go (default out/gradescope)")
    p.add_argument("--visibility", action="append", default=[], metavar="[NAME=]VIS",
                   help="when Gradescope shows the tests to students: visible (default), hidden, after_due_date or "
                        "after_published, for every test or (NAME=VIS) a graded name's; repeatable, e.g. "
                        "--visibility after_published --visibility mse_loss=visible")
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser("export", help="write an LMS gradebook CSV (Canvas or Moodle) from results.json files")
    p.add_argument("out", type=Path, metavar="OUT", help="the folder grade --out wrote")
    p.add_argument("--style", choices=["canvas", "moodle"], default="canvas", help="the LMS's import format")
    p.add_argument("--to", type=Path, metavar="FILE", help="the CSV to write (default OUT/<style>.csv)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", help="rebuild the HTML report, students' feedback pages and grades.csv from "
                                      "results.json files (after a change to the late policy)")
    p.add_argument("out", type=Path, metavar="OUT", help="the folder grade --out wrote")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("mark", help="grade written answers by hand in a local web page; export or import the marks")
    p.add_argument("out", type=Path, metavar="GRADES_DIR", help="the folder grade --out wrote")
    p.add_argument("--assignment", help="only this assignment's written answers")
    p.add_argument("--port", type=int, default=8765, help="the page's port on 127.0.0.1 (default 8765, 0: any free)")
    p.add_argument("--show-names", action="store_true", help="show students' names (hidden by default)")
    p.add_argument("--export", dest="export_to", type=Path, metavar="FILE", help="write every mark to a CSV file")
    p.add_argument("--import", dest="import_from", type=Path, metavar="FILE",
                   help="apply the marks of a CSV file (all rows, or none if any is bad)")
    p.set_defaults(func=cmd_mark)

    p = sub.add_parser("similarity", help="pairs of students whose answers are alike, per graded name: an HTML page "
                                          "per assignment and a CSV, evidence for a person to look at")
    p.add_argument("submitted", type=Path, help="the submitted/ folder")
    p.add_argument("--out", type=Path, required=True, help="where the pages and pairs.csv go")
    p.add_argument("--threshold", type=_fraction, default=0.5,
                   help="the score from which a pair is listed, 0 to 1 (default 0.5)")
    p.add_argument("--common", type=_fraction, default=0.2,
                   help="a fingerprint shared by more than this part of the students (and more than 5) is a "
                        "common idiom and does not count (default 0.2)")
    p.add_argument("--release", type=Path, default=ROOT / "release",
                   help="the release, whose code and text are boilerplate (default release/)")
    p.add_argument("--top", type=_workers, default=10, help="pairs shown per graded name (default 10)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_similarity)

    args = parser.parse_args(argv)
    return args.func(args)
