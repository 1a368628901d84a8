"""``python -m autograder``: the command line (cli.py), ended without the interpreter's teardown."""
import os
import sys

from .cli import main

code = main()
if (sandbox := sys.modules.get("autograder.sandbox")) is not None:
    sandbox.close_slots()  # and their cgroups, which os._exit would leave behind
# Every file is written and closed by now, and the fork server ends with this process either way, while
# tearing down torch's modules would take 0.4 to 0.7 s of every run.
try:
    sys.stdout.flush()
    sys.stderr.flush()
finally:
    os._exit(code)
