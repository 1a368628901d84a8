"""Grading in shards (``grade --shard I/N``) and ``merge``: the same files as one run, or a clear refusal."""
import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, TEST_LIMITS

from autograder.shards import Shard

STUDENTS = {"ada": ("01_loss_functions", "02_autograd"), "cleo": ("01_loss_functions",), "eve": ("01_loss_functions",)}
TIMING = ("execution_time", "peak_memory_mb")  # what differs between two runs of the same grading


def test_a_shard_is_a_stable_partition_by_the_ids_hash():
    ids = [f"s{i:04d}" for i in range(300)] + ["ada", "cleo", "eve", "ünï cödé"]
    for count in (1, 2, 3, 7):
        owners = [[i for i in range(count) if Shard(i, count).holds(s)] for s in ids]
        assert all(len(o) == 1 for o in owners)  # every student in exactly one shard
        sizes = [sum(o == [i] for o in owners) for i in range(count)]
        assert min(sizes) > 0.6 * len(ids) / count
    # the same on every machine and in every process: a fixed function of the id (not Python's salted hash())
    assert [s for s in ("ada", "cleo", "eve") if Shard(0, 2).holds(s)] == ["ada", "cleo"]
    code = "from autograder.shards import Shard; print([Shard(1, 3).holds(f's{i}') for i in range(50)])"
    runs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           env={"PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1 and runs.pop().strip() == str([Shard(1, 3).holds(f"s{i}") for i in range(50)])


@pytest.mark.parametrize("text", ["2/2", "-1/2", "1", "a/b", "0/0"])
def test_a_wrong_shard_is_refused_with_the_rule(text, tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path), "--out", str(tmp_path / "o"),
                           "--shard", text], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--shard" in done.stderr, done.stderr
    assert "0 to" in done.stderr or "I/N" in done.stderr or "at least 1" in done.stderr, done.stderr


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    """ada hands in the instructor's 01 and 02, cleo and eve samples/submitted's 01 (eve's is no notebook)."""
    dest = tmp_path_factory.mktemp("shards") / "submitted"
    for student, assignments in STUDENTS.items():
        for a in assignments:
            source = ROOT / "source" / a if student == "ada" else ROOT / "samples" / "submitted" / student / a
            shutil.copytree(source, dest / student / a, ignore=shutil.ignore_patterns(".*"))
    return dest


def start(submitted, out, *extra):
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "-q",
                             "-j", "1", *TEST_LIMITS, *extra], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc):
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-2000:] + err[-3000:]
    return err


def merge(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "merge", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def files(out):
    """grades.csv, each results.json but for its timings, the report and feedback pages, and which submissions
    printed anything, by path."""
    found = {}
    for path in sorted(out.rglob("*")):
        name = path.relative_to(out).as_posix()
        if path.name == "results.json":
            data = json.loads(path.read_text())
            for key in TIMING:
                data.pop(key, None), data["extra_data"].pop(key, None)
            found[name] = data
        elif path.suffix in (".csv", ".html"):
            found[name] = path.read_text()
        elif path.name == "output.txt":  # what the student's code printed: its timings differ from run to run
            found[name] = path.stat().st_size > 0
    return found


@pytest.fixture(scope="module")
def runs(submitted, tmp_path_factory):
    """One run, two shards into folders of their own and two into one shared folder, the four shards at once."""
    base = tmp_path_factory.mktemp("runs")
    procs = [start(submitted, base / "one")]
    procs += [start(submitted, base / f"shard{i}", "--shard", f"{i}/2") for i in range(2)]
    procs += [start(submitted, base / "shared", "--shard", f"{i}/2") for i in range(2)]
    errs = [finish(p) for p in procs]
    assert "shard 0/2: 2 of the 3 students (3 submission(s))" in errs[1], errs[1][-2000:]
    assert "shard 1/2: 1 of the 3 students (1 submission(s))" in errs[2], errs[2][-2000:]
    return base


def test_two_shards_merge_into_exactly_the_files_of_one_run(runs):
    one = files(runs / "one")
    assert {k for k in one if k.endswith("results.json")} == {f"{s}/{a}/results.json"
                                                             for s, a_s in STUDENTS.items() for a in a_s}
    for i in range(2):
        assert not (runs / f"shard{i}" / "eve" if i == 0 else runs / "shard1" / "ada").exists()
    done = merge(runs / "shard0", runs / "shard1", "--out", runs / "merged")
    assert done.returncode == 0, done.stderr
    assert "3 submission(s) copied" in done.stdout and "1 submission(s) copied" in done.stdout, done.stdout
    merged = files(runs / "merged")
    assert merged.keys() == one.keys()
    assert merged == one
    assert (runs / "merged" / "grades.csv").read_bytes() == (runs / "one" / "grades.csv").read_bytes()
    again = merge(runs / "shard0", runs / "shard1", "--out", runs / "merged")  # idempotent
    assert again.returncode == 0 and files(runs / "merged") == one, again.stderr


def test_shards_sharing_one_folder_are_rebuilt_into_the_files_of_one_run(runs):
    """Each shard keeps only its own students' results; merge OUT --out OUT rebuilds grades.csv and the pages
    from all of them, whichever shard finished last."""
    done = merge(runs / "shared", "--out", runs / "shared")
    assert done.returncode == 0, done.stderr
    assert files(runs / "shared") == files(runs / "one")


def test_merge_refuses_a_submission_graded_differently(runs, tmp_path):
    for i in range(2):
        shutil.copytree(runs / f"shard{i}", tmp_path / f"shard{i}")
    stale = tmp_path / "shard1" / "ada" / "01_loss_functions"
    shutil.copytree(tmp_path / "shard0" / "ada" / "01_loss_functions", stale)
    data = json.loads((stale / "results.json").read_text())
    data["tests"][0]["score"] = 0
    (stale / "results.json").write_text(json.dumps(data))
    done = merge(tmp_path / "shard0", tmp_path / "shard1", "--out", tmp_path / "merged")
    assert done.returncode == 2 and "refusing to merge: ada/01_loss_functions was graded differently" in done.stderr
    assert str(tmp_path / "shard0") in done.stderr and str(tmp_path / "shard1") in done.stderr
    assert not (tmp_path / "merged").exists()


def test_merge_refuses_shards_graded_with_other_code_or_options(runs, tmp_path):
    for i in range(2):
        shutil.copytree(runs / f"shard{i}", tmp_path / f"shard{i}")
    path = tmp_path / "shard1" / "eve" / "01_loss_functions" / "results.json"
    data = json.loads(path.read_text())
    data["extra_data"]["grading"] = "0" * 16  # as another kit, --skip or sandbox mode writes
    path.write_text(json.dumps(data))
    done = merge(tmp_path / "shard0", tmp_path / "shard1", "--out", tmp_path / "merged")
    assert done.returncode == 2, done.stderr
    assert "01_loss_functions was graded in different ways" in done.stderr and "0" * 16 in done.stderr
    assert "--regrade" in done.stderr and not (tmp_path / "merged").exists()
    (tmp_path / "shard1" / "late.toml").write_text("penalty_per_day = 10\n")  # a policy --out does not have
    path.write_text(json.dumps({**data, "extra_data": {**data["extra_data"], "grading": ""}}))
    late = merge(tmp_path / "shard0", tmp_path / "shard1", "--out", tmp_path / "merged")
    assert late.returncode == 2 and "is not the late policy of" in late.stderr, late.stderr
    missing = merge(tmp_path / "nowhere", "--out", tmp_path / "merged")
    assert missing.returncode == 2 and "not a folder of results" in missing.stderr


def test_an_empty_shard_grades_nothing_and_succeeds(submitted, tmp_path):
    """A small course leaves shards empty (here 0/3): that is no error, and no sandbox starts."""
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(tmp_path / "o"),
                           "--shard", "0/3"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "shard 0/3: 0 of the 3 students" in done.stderr, done.stderr
    assert "sandbox:" not in done.stderr and not any((tmp_path / "o").iterdir())
