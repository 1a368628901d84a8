"""Seconds for one epoch of batches over MNIST's training set: the grader's loader over normalised tensors (05's
accuracy cell builds the same) vs a DataLoader that runs the PIL transform on every image.

    .venv/bin/python -m benchmarks.data_path [--batch-size 128] [--threads 1]

Both sides yield normalised float32 (128, 1, 28, 28) batches with labels; no model runs.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from autograder.data import DEFAULT_ROOT, mnist
from autograder.harness.training import MEAN, STD, normalise, shuffled_batches


def epoch_seconds(loader) -> float:
    started = time.perf_counter()
    for images, labels in loader:
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    naive = DataLoader(datasets.MNIST(str(DEFAULT_ROOT), train=True, transform=transform),
                       batch_size=args.batch_size, shuffle=True)
    started = time.perf_counter()
    images, labels = mnist(train=True)
    fast = shuffled_batches(normalise(images), labels, args.batch_size)
    prepare = time.perf_counter() - started

    naive_s, fast_s = epoch_seconds(naive), epoch_seconds(fast)
    print(f"DataLoader(MNIST(transform=ToTensor+Normalize)): {naive_s:7.2f} s per epoch")
    print(f"grader's DataLoader over normalised tensors: {fast_s:7.2f} s per epoch "
          f"(+ {prepare:.2f} s once to load and normalise)")
    print(f"ratio: {naive_s / fast_s:.0f}x per epoch; {2 * naive_s / (prepare + 2 * fast_s):.0f}x for 2 epochs "
          "including preparation")


if __name__ == "__main__":
    main()
