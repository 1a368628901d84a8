"""Put MNIST under ``data/MNIST`` in torchvision's own layout, from a mirror folder or by download."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def prepare(root: Path, mirror: Path | None = None) -> None:
    """Copy ``mirror/MNIST/raw/*.gz`` into ``root/MNIST/raw`` if given; then let torchvision verify and extract."""
    from torchvision import datasets

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    if mirror is not None:
        source = mirror / "MNIST" / "raw"
        missing = [f for f in FILES if not (source / f).exists()]
        if missing:
            raise SystemExit(f"error: {source} lacks {', '.join(missing)}")
        for name in FILES:
            if not (raw / name).exists():
                shutil.copyfile(source / name, raw / name)
    for train in (True, False):
        ds = datasets.MNIST(str(root), train=train, download=True)
        print(f"MNIST {'train' if train else 'test'}: {len(ds)} images in {raw}", file=sys.stderr)
