#!/usr/bin/env bash
# Gradescope runs this once, as root on Ubuntu, when it builds the autograder image.
# The zip is unpacked in /autograder/source, which is where this script lives.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

# the sandbox student code runs in: bubblewrap where the container allows namespaces, else the container
# mode (a user of its own per worker, confined by libseccomp's filter and Landlock)
apt-get install -y -qq bubblewrap libseccomp2

# Python >= 3.11: the image's own python3 when it is new enough (Ubuntu 24.04), else python3.11 (Ubuntu 22.04)
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PYTHON=python3
    apt-get install -y -qq python3-venv
else
    PYTHON=python3.11
    apt-get install -y -qq python3.11 python3.11-venv
fi

# the kit's pinned packages, in the venv run_autograder uses
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt

# MNIST under data/ (Gradescope has internet while building, not while grading); MNIST_MIRROR=DIR takes
# it from DIR/MNIST/raw instead
.venv/bin/python -m autograder data ${MNIST_MIRROR:+--mirror "$MNIST_MIRROR"}

# matplotlib's font list, which the sandbox's fork server reads instead of building its own (0.3 s a run)
.venv/bin/python -c 'import matplotlib.font_manager'
