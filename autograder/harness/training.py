"""The data path on which the grader trains a student's MNIST model, the one 05's notebook uses too.

05's accuracy cell builds exactly these tensors and this loader, so the accuracy a student sees before
submitting is the accuracy the grader measures (tests/test_parity.py holds them together).
"""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

MEAN, STD = 0.1307, 0.3081  # MNIST's, used for every model the grader trains


def normalise(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) to float32 (N, 1, 28, 28), as ToTensor then Normalize((MEAN,), (STD,)), bit for bit.

    One new tensor, changed in place: 0.1 s for MNIST's training set, against 0.29 s with a new one per step.
    """
    return images_u8.unsqueeze(1).float().div_(255.0).sub_(MEAN).div_(STD)


def shuffled_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, seed: int = 0) -> DataLoader:
    """A plain ``DataLoader`` of in-memory tensors, a new order every epoch from a generator seeded with ``seed``.

    Over tensors it costs 0.2 s an epoch of MNIST; a per-image PIL transform would cost seconds.
    """
    return DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))
