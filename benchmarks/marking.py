"""Marking written answers in the page by keyboard: the seconds for N answers and the response time per mark.

    .venv/bin/python -m benchmarks.marking [--answers 200]

Makes a grades folder of N synthetic answers to 01's written question, serves ``python -m autograder mark`` on
it, and drives the page in headless Chromium (Playwright's client, Debian's chromium): per answer, key 1 (a rubric
item, posted at once) then j (the next answer), waiting for the page to say "saved". Then it posts N marks straight
to the page's endpoint, as the page does, and reports the median and 95th percentile of their round trips.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from autograder import marks, result
from autograder.result import GRADED, CheckResult, SubmissionResult
from autograder.rubric import answer_hash

A, Q = "01_loss_functions", "why_cross_entropy"
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def grades_folder(out: Path, n: int) -> None:
    for i in range(n):
        text = (f"Answer {i}: cross-entropy is the negative log-likelihood of the true class, and its gradient "
                f"$p - y$ stays large when the model is confidently wrong. " * (1 + i % 4))
        result.save(SubmissionResult(f"s{i:03d}", A, GRADED, [CheckResult("mse_loss", "a check", 1, 2)],
                                     answers={Q: text}), out)
    marks.publish(out)


def by_keyboard(url: str, n: int) -> tuple[float, list[float]]:
    """Seconds to mark ``n`` answers with keys 1 and j, and each mark's time from key to "saved"."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{url}q/{A}/{Q}")
        saved, each = page.locator("#saved"), []
        started = time.perf_counter()
        for i in range(n):
            before = time.perf_counter()
            page.keyboard.press("1")
            expect(saved).to_have_text("saved")
            each.append(time.perf_counter() - before)
            page.keyboard.press("j")
        total = time.perf_counter() - started
        expect(page.locator("#progress")).to_have_text(f"{n} of {n} graded")
        browser.close()
    return total, each


def by_endpoint(url: str, grades: Path, n: int) -> list[float]:
    """Each round trip of ``n`` marks posted to /api/mark with the page's XSRF token."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{url}q/{A}/{Q}").read().decode()
    token = re.search(r'id="xsrf" value="([^"]+)"', page).group(1)
    answers = {r.student: answer_hash(r.answers[Q]) for r in result.load_all(grades)}
    times = []
    for i, (student, answer) in enumerate(sorted(answers.items())[:n]):
        body = json.dumps({"student": student, "assignment": A, "question": Q, "answer": answer,
                           "items": ["likelihood", "gradient"][: 1 + i % 2], "comment": f"comment {i}"}).encode()
        request = urllib.request.Request(f"{url}api/mark", body, {"Content-Type": "application/json",
                                                                   "X-XSRFToken": token})
        before = time.perf_counter()
        opener.open(request).read()
        times.append(time.perf_counter() - before)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        grades = Path(tmp) / "grades"
        grades_folder(grades, args.answers)
        server = subprocess.Popen([sys.executable, "-m", "autograder", "mark", str(grades), "--port", "0"], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
        try:
            url = server.stdout.readline().split()[2]
            total, each = by_keyboard(url, args.answers)
            posts = by_endpoint(url, grades, args.answers)
        finally:
            server.terminate()
            server.wait()
    ms = lambda xs, q: 1000 * statistics.quantiles(xs, n=20)[q]  # noqa: E731
    print(f"{args.answers} answers by keyboard (2 keys each: 1, j): {total:.1f} s, {total / args.answers:.3f} s an "
          f"answer; key to 'saved' median {1000 * statistics.median(each):.1f} ms, "
          f"95th percentile {ms(each, 18):.1f} ms")
    print(f"{len(posts)} marks posted to /api/mark: median {1000 * statistics.median(posts):.1f} ms, "
          f"95th percentile {ms(posts, 18):.1f} ms")


if __name__ == "__main__":
    main()
