"""Resource limits for student code, with the defaults documented in the README."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace


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
    train_threads: int = field(default=0, metadata={"help": "0: this machine's CPUs, shared among the -j jobs"})
    # torch threads while training it; more threads than CPUs makes OpenMP spin: two 2-thread trainings on
    # 2 CPUs ran 12x slower than two 1-thread ones

    def for_jobs(self, jobs: int) -> Limits:
        """These limits for one of ``jobs`` submissions graded at once: train_threads 0 becomes its CPU share."""
        if self.train_threads:
            return self
        return replace(self, train_threads=max(1, len(os.sched_getaffinity(0)) // jobs))
