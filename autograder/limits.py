"""Resource limits for student code, with the defaults documented in the README."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    cell_seconds: float = 60.0       # one notebook cell
    notebook_seconds: float = 300.0  # all cells of one notebook together
    call_seconds: float = 10.0       # one call of a graded name by a check
    memory_mb: int = 6144            # address space per process, and memory of the whole tree where cgroups allow
    processes: int = 256             # processes and threads of the whole tree (cgroup, or RLIMIT_NPROC for non-root)
    tmp_mb: int = 256                # size of the sandbox's /tmp
    output_bytes: int = 1 << 20      # stdout and stderr kept from the student's process
    file_mb: int = 64                # largest file the student's process may write
    threads: int = 1                 # torch/OpenMP threads in the student's process
    train_seconds: float = 300.0     # training the student's MNIST model (05_mnist_classifier)
    train_threads: int = 1           # torch threads while training it: fixed, as the trained weights depend on it
