"""Load a *locally provided* MedMNIST ``.npz`` file (the course never downloads it).

MedMNIST (Yang et al., 2023) distributes each dataset as one ``.npz`` with the keys
``train_images``, ``train_labels``, ``val_images``, ``val_labels``, ``test_images`` and
``test_labels``; images are uint8, (N, H, W) for grey-scale or (N, H, W, 3) for colour,
labels (N, 1) for multi-class or (N, L) for multi-label sets.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import torch

__all__ = ["load_medmnist_npz"]

SPLITS = ("train", "val", "test")


def load_medmnist_npz(path: str | Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, C, H, W) float32 in [0, 1] and labels of one ``split`` of a MedMNIST file.

    Labels are int64, shape (N,) for single-label files ((N, 1) in the file) and (N, L) for
    multi-label ones. A missing file, a file that is not an ``.npz``, a missing key or
    inconsistent arrays raise ``ValueError`` saying what was expected.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a path (a str or os.PathLike) to a MedMNIST .npz file, got {type(path).__name__}")
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"expected a MedMNIST .npz file at {path}, but there is no such file "
                         "(the course does not download MedMNIST; put the file there yourself)")
    if not zipfile.is_zipfile(path):  # np.load would otherwise try to unpickle it
        raise ValueError(f"{path} is not a readable .npz archive (expected a zip of .npy arrays)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = set(archive.files)
            wanted = (f"{split}_images", f"{split}_labels")
            missing = [k for k in wanted if k not in keys]
            if missing:
                raise ValueError(f"{path} is not a MedMNIST file: keys {missing} are missing "
                                 f"(expected train/val/test _images and _labels, found {sorted(keys)})")
            images, labels = archive[wanted[0]], archive[wanted[1]]
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"{path} is not a readable .npz archive ({err})") from err
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3)):
        raise ValueError(f"{split}_images must be uint8 of shape (N, H, W) or (N, H, W, 1|3), "
                         f"got {images.dtype} {images.shape}")
    if labels.ndim not in (1, 2) or len(labels) != len(images) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{split}_labels must be integers of shape (N,) or (N, L) with N = {len(images)}, "
                         f"got {labels.dtype} {labels.shape}")
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    x = x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2)
    y = torch.from_numpy(labels.astype(np.int64))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return x.contiguous(), y
