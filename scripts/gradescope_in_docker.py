"""Run a Gradescope bundle end to end in real Docker containers with Docker's default security options.

As root, on a machine with ``docker.io`` and ``debootstrap`` (``apt-get install docker.io debootstrap``):

    .venv/bin/python scripts/gradescope_in_docker.py [--assignment 01_loss_functions] [--work DIR]

1. starts ``dockerd`` if none answers;
2. builds a Debian bookworm image with debootstrap from this machine's apt mirror (no image registry needed);
3. builds the assignment's bundle and runs its ``setup.sh`` in a container, as Gradescope does; pip reaches the
   package index as this machine's does (its pip settings, file indexes, proxy variables and CA bundle are
   passed in) and MNIST comes from ``MNIST_MIRROR`` if set;
4. runs ``run_autograder`` in a fresh container per submission, with Docker's default seccomp profile and
   capabilities: the instructor's answers, the release, and a hostile release that reads the hidden checks,
   opens network sockets and leaves a detached process that rewrites results.json 3 s later; each container
   waits 8 s after ``run_autograder`` before the results are read;
5. runs the hostile one again with ``--security-opt seccomp=unconfined``, where bubblewrap can create
   namespaces but cannot mount /proc, and the instructor's and the hostile one with ``systempaths=unconfined``
   as well, where bubblewrap works;

and prints a row per run: the mode line, the score right after run_autograder and 8 s later, what the attack
found, the seconds and the container's peak memory (page cache included); each run's whole output is kept in
``WORK/submissions/``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.assignment import Assignment  # noqa: E402
from autograder.bundle import build  # noqa: E402

BASE = "kit-bookworm"
ATTACK = '''
import os, socket, subprocess, sys

_found = []
try:
    _found.append("READ THE CHECKS: " + open("/autograder/source/{checks}").read()[:80])
except OSError as exc:
    _found.append(f"checks: {{exc.strerror}}")
for _addr in [("1.1.1.1", 53), ("127.0.0.1", 9), ("172.17.0.1", 2375)]:
    try:
        socket.create_connection(_addr, timeout=2).close()
        _found.append(f"CONNECTED to {{_addr}}")
    except OSError as exc:
        _found.append(f"{{_addr[0]}}: {{exc.strerror}}")
_forge = ("import json, time; time.sleep(3); "
          "open('/autograder/results/results.json', 'w').write(json.dumps({{'score': 999, 'tests': []}}))")
subprocess.Popen([sys.executable, "-c", _forge], start_new_session=True, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
_found.append("forger started")

def {name}(*args, **kwargs):
    raise RuntimeError("ATTACK " + "; ".join(_found))
'''
RUN = ("/autograder/source/run_autograder; "
       "echo PEAK=$(cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null || "
       "cat /sys/fs/cgroup/memory.peak 2>/dev/null); "
       "cp /autograder/results/results.json /tmp/first.json; sleep 8; "
       "echo FIRST; cat /tmp/first.json; echo; echo AFTER; cat /autograder/results/results.json")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def docker(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], check=check, text=True, **kwargs)


def start_dockerd(work: Path) -> None:
    if docker("info", check=False, capture_output=True).returncode == 0:
        return
    log("starting dockerd")
    subprocess.Popen(["dockerd"], stdout=open(work / "dockerd.log", "w"), stderr=subprocess.STDOUT,
                     start_new_session=True)
    for _ in range(60):
        if docker("info", check=False, capture_output=True).returncode == 0:
            return
        time.sleep(1)
    sys.exit(f"dockerd did not start; see {work / 'dockerd.log'}")


def apt_mirror() -> str:
    """This machine's Debian mirror, from its apt sources."""
    for path in sorted(Path("/etc/apt").glob("sources.list.d/*.sources")) + [Path("/etc/apt/sources.list")]:
        text = path.read_text() if path.exists() else ""
        for url in re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            if url.rstrip("/").endswith("/debian"):
                return url
    return "http://deb.debian.org/debian"


def base_image(work: Path) -> None:
    if docker("image", "inspect", BASE, check=False, capture_output=True).returncode == 0:
        return
    rootfs = work / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    log(f"debootstrap bookworm from {apt_mirror()}")
    subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), apt_mirror()], check=True,
                   stdout=subprocess.DEVNULL)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    docker("import", "-", BASE, stdin=tar.stdout, stdout=subprocess.DEVNULL)
    tar.wait()
    shutil.rmtree(rootfs)


def pip_settings() -> list[str]:
    """docker run options that let pip inside reach the package index as this machine's pip does."""
    options: list[str] = []
    for key, value in os.environ.items():
        if (key.startswith("PIP_") and key != "PIP_CERT") or key.lower() in ("http_proxy", "https_proxy", "no_proxy",
                                                                             "all_proxy"):
            options += ["-e", f"{key}={value}"]
    files = [Path("/etc/pip.conf"), Path("/etc/xdg/pip")]
    for path in files:
        if path.exists():
            options += ["-v", f"{path}:{path}:ro"]
            text = path.read_text() if path.is_file() else ""
            for folder in sorted(set(re.findall(r"file://(/\S+?)/simple", text))):
                options += ["-v", f"{folder}:{folder}:ro"]
    for key in ("PIP_FIND_LINKS",):
        if os.path.isdir(os.environ.get(key, "")):
            options += ["-v", f"{os.environ[key]}:{os.environ[key]}:ro"]
    ca = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    if os.path.isfile(ca):
        inside = "/run/host-ca.crt"  # beside the image's own bundle, which its ca-certificates package rewrites
        options += ["-v", f"{ca}:{inside}:ro", "-e", f"PIP_CERT={inside}", "-e", f"SSL_CERT_FILE={inside}"]
    return options


def setup_image(assignment: str, work: Path) -> tuple[str, float]:
    """The image after the bundle's setup.sh, and the seconds setup.sh took."""
    image = f"kit-gradescope-{assignment.replace('_', '-')}"
    source = work / "autograder" / "source"
    shutil.rmtree(source, ignore_errors=True)
    with zipfile.ZipFile(build(assignment, work)) as zf:
        zf.extractall(source)
        for info in zf.infolist():
            os.chmod(source / info.filename, (info.external_attr >> 16) & 0o777)
    mnist = os.environ.get("MNIST_MIRROR")
    name = "kit-setup"
    docker("rm", "-f", name, check=False, capture_output=True)
    docker("create", "--name", name, *pip_settings(),
           *(["-v", f"{os.path.realpath(mnist)}:/mnist:ro", "-e", "MNIST_MIRROR=/mnist"] if mnist else []),
           BASE, "bash", "/autograder/source/setup.sh", stdout=subprocess.DEVNULL)
    docker("cp", str(source.parent), f"{name}:/")  # as /autograder/source
    log(f"running setup.sh in {BASE} (pip installs torch: minutes)")
    started = time.monotonic()
    done = docker("start", "-a", name, check=False, capture_output=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"setup.sh failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    docker("commit", name, image, stdout=subprocess.DEVNULL)
    docker("rm", name, stdout=subprocess.DEVNULL)
    return image, seconds


def submissions(assignment: str, work: Path) -> dict[str, Path]:
    """The instructor's notebook, the release, and the release with the attack: one folder each."""
    [notebook] = (ROOT / "source" / assignment).glob("*.ipynb")
    release = ROOT / "release" / assignment / notebook.name
    folders = {}
    for label, path in (("instructor", notebook), ("release", release), ("hostile", release)):
        folder = work / "submissions" / label
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        nb = nbformat.read(path, as_version=4)
        if label == "hostile":
            name = next(c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
            nb.cells.append(nbformat.v4.new_code_cell(ATTACK.format(checks=Assignment(assignment).files[0].relative_to(ROOT).as_posix(), name=name)))
        nbformat.write(nb, folder / notebook.name)
        folders[label] = folder
    return folders


def grade(image: str, label: str, folder: Path, options: list[str]) -> dict:
    name = f"kit-run-{label}"
    docker("rm", "-f", name, check=False, capture_output=True)
    docker("create", "--name", name, *options, image, "bash", "-c", RUN, stdout=subprocess.DEVNULL)
    docker("cp", str(folder), f"{name}:/autograder/submission")
    started = time.monotonic()
    done = docker("start", "-a", name, check=False, capture_output=True)
    seconds = time.monotonic() - started - 8  # the wait for a forger
    docker("rm", name, stdout=subprocess.DEVNULL)
    text = done.stdout
    (folder.parent / f"{name}{''.join('-' + o.split('=')[0] for o in options if o != '--security-opt')}.log"
     ).write_text(text + done.stderr)
    first = json.loads(text.split("FIRST\n", 1)[1].split("\nAFTER\n", 1)[0])
    after = json.loads(text.split("\nAFTER\n", 1)[1])
    attack = [t["output"] for t in first.get("tests", []) if "ATTACK" in t.get("output", "")]
    peak = re.search(r"PEAK=(\d+)", text)
    return {"submission": label, "mode": text.splitlines()[0], "score": first["score"],
            "max": sum(t["max_score"] for t in first.get("tests", [])), "status": first["extra_data"]["status"],
            "after 8 s": after["score"], "attack": attack[0].split("ATTACK ", 1)[1] if attack else "",
            "seconds": round(seconds, 1), "peak MB": round(int(peak.group(1)) / 2**20) if peak else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="01_loss_functions")
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/kit-docker"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: it starts dockerd and debootstraps an image")
    args.work.mkdir(parents=True, exist_ok=True)
    start_dockerd(args.work)
    started = time.monotonic()
    base_image(args.work)
    log(f"base image {BASE} ready ({time.monotonic() - started:.0f} s)")
    image, setup_seconds = setup_image(args.assignment, args.work)
    log(f"setup.sh took {setup_seconds:.0f} s")
    rows = []
    folders = submissions(args.assignment, args.work)
    for label, folder in folders.items():
        rows.append(grade(image, label, folder, []))  # Docker's default security options
        log(json.dumps(rows[-1]))
    unconfined = ["--security-opt", "seccomp=unconfined"]
    for label, options in (("hostile", unconfined),
                           ("instructor", [*unconfined, "--security-opt", "systempaths=unconfined"]),
                           ("hostile", [*unconfined, "--security-opt", "systempaths=unconfined"])):
        rows.append(grade(image, label, folders[label], options))
        rows[-1]["submission"] += ", " + ", ".join(o for o in options if o != "--security-opt")
        log(json.dumps(rows[-1]))
    print(f"docker {docker('version', '--format', '{{.Server.Version}}', capture_output=True).stdout.strip()}, "
          f"image {BASE} (debootstrap bookworm), setup.sh {setup_seconds:.0f} s")
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
