"""Similarity's run time on generated submissions of 01_loss_functions, at several class sizes.

    .venv/bin/python -m benchmarks.similarity [--sizes 100,250,500] [--seed 0]

Each student's answer to each graded name is one of the stored answers (tests/answers/01_loss_functions.py, wrong
and right) or the instructor's, with local names renamed, comments and blank lines added and a few optional
statements; one student in 25 copies another's whole notebook with new names. Written answers are random sentences.
Many students thus share a base answer, which makes many candidate pairs: a hard case for the inverted index.
Prints a Markdown table: seconds (wall clock, and this process's CPU time, steadier on a shared machine) to read,
fingerprint and compare the notebooks and to write the report, and the pairs scored against all pairs.
"""
from __future__ import annotations

import argparse
import ast
import random
import re
import tempfile
import time
from pathlib import Path

from autograder import notebook
from autograder.assignment import find_jobs
from autograder.audit import load_answers, with_answers
from autograder import similarity
from autograder.similarity import submitted_similarity
from autograder.similarity_pages import write_similarity

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "01_loss_functions"
SOURCE = ROOT / "source" / ASSIGNMENT / "loss_functions.ipynb"
WORDS = ("loss gradient class probability softmax error model label wrong confident large small the a of and to "
         "is with when because log square mean output target prediction saturates learning slow fast penalty "
         "likelihood").split()
EXTRA = ("assert {0}.shape == {0}.shape", "{0} = {0}.float()", "eps = 1e-{1}", "print({0}.shape)",
         "{0} = {0}.contiguous()", "scale = {1}.0", "assert torch.isfinite({0}).all()")


def vary(code: str, rng: random.Random) -> str:
    """``code`` with its assigned local names renamed, comments and blank lines added, and optional statements."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    code = re.sub(r"\b\w+\b", lambda m: f"{m.group()}_{rng.randrange(99)}" if m.group() in local else m.group(), code)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    lines = code.splitlines()
    if functions:
        arg = functions[-1].args.args[0].arg
        at = functions[-1].body[0].lineno - 1
        extra = [" " * 4 + e.format(arg, rng.randrange(2, 9)) for e in EXTRA if rng.random() < 0.3]
        lines[at:at] = extra + [f"    # step {rng.randrange(9)}: " + " ".join(rng.sample(WORDS, 4))]
    return "\n".join(line + ("\n" if rng.random() < 0.1 else "") for line in lines)


def generate(n: int, dest: Path, seed: int) -> Path:
    """``dest/submitted`` with ``n`` students of 01."""
    rng = random.Random(seed)
    stored = load_answers(ASSIGNMENT)
    instructor = {c.grade_id: c.source for c in notebook.read(SOURCE) if c.solution and c.kind == "code"}
    pools = {name: [*stored.WRONG.get(name, {}).values(), *stored.RIGHT.get(name, {}).values(), code]
             for name, code in instructor.items()}
    pools = {name: [a for a in pool if isinstance(a, str)] for name, pool in pools.items()}
    students: dict[str, dict[str, str]] = {}
    for i in range(n):
        if students and rng.random() < 0.04:
            answers = {name: vary(code, rng) for name, code in rng.choice(list(students.values())).items()}
        else:
            answers = {name: vary(rng.choice(pool), rng) for name, pool in pools.items()}
            answers["why_cross_entropy"] = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(30, 80)))
        students[f"s{i:04d}"] = answers
    for student, answers in students.items():
        with_answers(SOURCE, answers, dest / "submitted" / student / ASSIGNMENT / SOURCE.name)
    return dest / "submitted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,250,500")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        submitted = generate(sizes[-1], Path(tmp), args.seed)
        print(f"generated {sizes[-1]} submissions in {time.monotonic() - started:.1f} s")
        jobs, _ = find_jobs(submitted)
        print("| students | read and compare: wall (CPU) s | write pages and CSV: wall (CPU) s "
              "| pairs scored / all pairs, all names | pairs >= 0.5 |")
        print("|---|---|---|---|---|")
        for size in sizes:
            for cache in (similarity.code_marks, similarity._cell_definitions):  # each size starts cold
                cache.cache_clear()
            started, cpu = time.monotonic(), time.process_time()
            results = submitted_similarity(jobs[:size], ROOT / "release", common=0.2, progress=False)
            compared = f"{time.monotonic() - started:.1f} ({time.process_time() - cpu:.1f})"
            started, cpu = time.monotonic(), time.process_time()
            write_similarity(results, Path(tmp) / f"out{size}", threshold=0.5, top=10)
            written = f"{time.monotonic() - started:.1f} ({time.process_time() - cpu:.1f})"
            names = results[0].names
            scored = sum(len(n.pairs) for n in names)
            above = sum(len(n.above(0.5)) for n in names)
            print(f"| {size} | {compared} | {written} | {scored} / {len(names) * size * (size - 1) // 2} "
                  f"| {above} |", flush=True)


if __name__ == "__main__":
    main()
