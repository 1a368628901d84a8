"""The fast data path for training in the sandbox: normalised tensors prepared once, batches by slicing.

``loader`` is what the grader hands to a student's ``train_model``: an
iterable of ``(images, labels)`` batches like a ``DataLoader``, without a
per-sample PIL conversion each epoch.
"""
from __future__ import annotations

from typing import Iterator

import torch

MEAN, STD = 0.1307, 0.3081  # MNIST's, used for every model the grader trains


def normalise(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) to float32 (N, 1, 28, 28), as ToTensor then Normalize((MEAN,), (STD,)), bit for bit.

    One new tensor, changed in place: 0.1 s for MNIST's training set, against 0.29 s with a new one per step.
    """
    return images_u8.unsqueeze(1).float().div_(255.0).sub_(MEAN).div_(STD)


class TensorLoader:
    """Shuffled mini-batches of in-memory tensors; a new order every epoch, reproducible by seed."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, seed: int = 0):
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.dataset = torch.utils.data.TensorDataset(images, labels)  # len(loader.dataset) works as for a DataLoader

    def __len__(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(len(self.labels), generator=self.generator)
        images, labels = self.images[order], self.labels[order]  # one gather; batches are then views
        for start in range(0, len(order), self.batch_size):
            yield images[start:start + self.batch_size], labels[start:start + self.batch_size]
