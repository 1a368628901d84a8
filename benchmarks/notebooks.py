"""Each instructor notebook's run time top to bottom, as a student runs it: quiet, and with one core kept busy.

    .venv/bin/python -m benchmarks.notebooks [--repeat K] [--only NN_name,...] [--no-load]

Every notebook runs in a Jupyter kernel (nbclient), in an empty folder, with MNIST reachable through
MNIST_ROOT. "loaded" runs it again while another process spins on one core, as a student's laptop does
while something else works. Targets: under 60 s quiet on 2 cores, under twice that loaded, no error.
Progress goes to stderr; a Markdown table goes to stdout. Timings are only meaningful on an otherwise
quiet machine.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from typing import Iterator

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
QUIET_TARGET_S = 60.0


def execute(path: Path, env: dict[str, str], timeout: float = 600) -> tuple[float, list[str]]:
    """Run ``path`` top to bottom in a fresh kernel in an empty folder, going on after errors; its seconds and
    each failing cell's error as ``"code cell N: Name: message"``."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": folder}})
        started = time.perf_counter()
        client.execute(env=env)
        seconds = time.perf_counter() - started
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    errors = [f"code cell {n}: {out.ename}: {out.evalue}"
              for n, cell in enumerate(code, 1) for out in cell.outputs if out.output_type == "error"]
    return seconds, errors


def student_env(**extra: str) -> dict[str, str]:
    """The environment of a student's kernel: ours, without the grader's variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    return {**env, "MPLBACKEND": "Agg", **extra}


@contextmanager
def one_core_busy() -> Iterator[None]:
    """Another job spinning on one core while the block runs."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook and condition (the median is shown)")
    parser.add_argument("--only", help="comma-separated assignments, e.g. 03_training_loop,05_mnist_classifier")
    parser.add_argument("--no-load", action="store_true", help="quiet runs only")
    args = parser.parse_args()
    notebooks = sorted(p for p in (ROOT / "source").glob("[0-9][0-9]_*/*.ipynb")
                       if not args.only or p.parent.name in args.only.split(","))
    env = student_env(MNIST_ROOT=str(ROOT / "data"))
    conditions = {"quiet": None} if args.no_load else {"quiet": None, "loaded": one_core_busy}
    rows = []
    for path in notebooks:
        row = {"notebook": path.parent.name, "errors": []}
        for condition, load in conditions.items():
            times = []
            for _ in range(args.repeat):
                print(f"{path.parent.name} ({condition}) ...", file=sys.stderr, flush=True)
                if load:
                    with load():
                        seconds, errors = execute(path, env)
                else:
                    seconds, errors = execute(path, env)
                times.append(seconds)
                row["errors"] += errors
            row[condition] = median(times)
        rows.append(row)
    print(f"CPUs: {len(os.sched_getaffinity(0))}; runs per cell: {args.repeat}\n")
    print("| notebook | " + " | ".join(f"{c} (s)" for c in conditions) + " | errors | target met |")
    print("|---|" + "---|" * (len(conditions) + 2))
    for row in rows:
        met = row["quiet"] < QUIET_TARGET_S and row.get("loaded", 0) < 2 * QUIET_TARGET_S and not row["errors"]
        print(f"| {row['notebook']} | " + " | ".join(f"{row[c]:.1f}" for c in conditions)
              + f" | {len(row['errors'])} | {'yes' if met else 'NO'} |")
    for row in rows:
        for error in row["errors"]:
            print(f"{row['notebook']}: {error.splitlines()[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
