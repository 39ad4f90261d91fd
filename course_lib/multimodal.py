"""The multimodal autoencoder (lecture 02; Ngiam et al., 2011): a two-channel autoencoder of
registered (T1, T2) pairs, trained with *modality dropout* — a third of each batch shows only T1,
a third only T2 — so that it learns to fill in a missing modality from the present one.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .autoencoders import reconstruction_loss
from . import _validate
from .training import History, adam_with_schedule, fit, map_batches, modes_restored_on_error, train_step

__all__ = ["MODALITY_GROUPS", "modality_dropout", "train_multimodal_autoencoder", "predict_missing"]

MODALITY_GROUPS = ("only T1", "only T2", "both")


def modality_dropout(t1: torch.Tensor, t2: torch.Tensor, generator: torch.Generator | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A multimodal training batch (Ngiam et al., 2011): one third of the samples show only T1,
    one third only T2, one third both; the target is always the full pair.

        input_b  = (t1_b · m1_b, t2_b · m2_b),   (m1_b, m2_b) = (1, 0), (0, 1) or (1, 1)
        target_b = (t1_b, t2_b)

    The thirds are exact (⌊B/3⌋ samples each show only T1 and only T2, the rest both) and
    dealt to the samples by a random permutation; a missing modality is a channel of zeros.
    Returns (inputs (B, 2, H, W), targets (B, 2, H, W), group (B,) indexing ``MODALITY_GROUPS``).
    Raises ValueError for an empty batch or non-finite images.
    """
    _check_pairs(t1, t2, "t1", "t2")
    _validate.generator(generator)
    return _modality_dropout(t1, t2, generator)


def _check_images(value: torch.Tensor, name: str) -> None:
    """One modality: a non-empty, finite float batch of single-channel images (B, 1, H, W) with values."""
    _validate.tensor(value, name, shape=("B", 1, "H", "W"), what="batch of single-channel images", nonempty=True,
                     finite=True)


def _check_pairs(t1: torch.Tensor, t2: torch.Tensor, name1: str, name2: str) -> None:
    """Registered (T1, T2) pairs: two such batches of one shape, on one device."""
    _check_images(t1, name1)
    _check_images(t2, name2)
    _validate.same_shape(t1, t2, (name1, name2), "registered pairs: t1[i] goes with t2[i]")
    _validate.same_device([t1, t2], [name1, name2])


def _modality_dropout(t1: torch.Tensor, t2: torch.Tensor, generator: torch.Generator | None
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`modality_dropout` on checked pairs (the trainer checks its data once, up front)."""
    b, third = len(t1), len(t1) // 3
    group = torch.full((b,), 2, dtype=torch.long)
    order = torch.randperm(b, generator=generator)
    group[order[:third]], group[order[third : 2 * third]] = 0, 1
    group = group.to(t1.device)
    keep_t1 = (group != 1).to(t1.dtype).view(-1, 1, 1, 1)
    keep_t2 = (group != 0).to(t2.dtype).view(-1, 1, 1, 1)
    targets = torch.cat([t1, t2], dim=1)
    return torch.cat([t1 * keep_t1, t2 * keep_t2], dim=1), targets, group


def train_multimodal_autoencoder(model: nn.Module, t1: torch.Tensor, t2: torch.Tensor, *, epochs: int,
                                 lr: float = 3e-3, batch_size: int = 64, seed: int = 0,
                                 progress: bool = True, device: str | torch.device = "cpu") -> History:
    """Train a two-channel autoencoder on (T1, T2) pairs with :func:`modality_dropout` batches:

        L = (1/B) Σ_b ‖(t1_b, t2_b) − f_θ(g_φ(input_b))‖²,

    so that it learns to fill in a missing modality from the present one. Adam with the same
    one-cycle schedule as :func:`train_autoencoder`; the dropout pattern is seeded by ``seed``.
    The model trains on ``device`` (moved there; each batch of pairs follows it). Raises
    ValueError before training for non-finite images.
    """
    _validate.module(model, "model", what="a two-channel autoencoder")
    _check_pairs(t1, t2, "t1", "t2")
    _validate.dtype_like(t1, "t1", model)
    _validate.dtype_like(t2, "t2", model)
    epochs = _validate.epochs(epochs)
    lr = _validate.number(lr, "lr", minimum=0, open_minimum=True)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    seed = _validate.seed(seed)
    model.to(_validate.device(device))
    optimizer, schedule = adam_with_schedule(model.parameters(), lr, schedule="one_cycle",
                                             total_steps=epochs * math.ceil(len(t1) / batch_size))
    rng = torch.Generator().manual_seed(seed)

    def loss_fn(m: nn.Module, pair: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        inputs, targets, _ = _modality_dropout(*pair, rng)
        return reconstruction_loss(m(inputs), targets)

    def step(pair: tuple[torch.Tensor, torch.Tensor]) -> float:
        loss = train_step(model, optimizer, pair, loss_fn)
        schedule.step()
        return loss

    with modes_restored_on_error(model):
        return fit(step, (t1, t2), epochs=epochs, batch_size=batch_size, seed=seed, progress=progress,
                   desc="multimodal autoencoder", device=device)


@torch.no_grad()
def predict_missing(model: nn.Module, present: torch.Tensor, which: str, batch_size: int = 256) -> torch.Tensor:
    """The multimodal AE's guess of the missing modality: feed ``present`` (T1 if ``which`` is
    "t1", else T2) with the other channel zeroed, return the other output channel (B, 1, H, W),
    computed on the model's device and returned on ``present``'s. Raises ValueError for an empty
    batch or non-finite images."""
    _validate.module(model, "model", what="a two-channel autoencoder")
    if _validate.shapes_only(present, "present", model):
        _validate.tensor(present, "present", shape=("B", 1, "H", "W"), what="batch of single-channel images",
                         nonempty=True)
    else:
        _check_images(present, "present")
        _validate.values(present, "present")  # a model with values cannot take a meta tensor
    _validate.dtype_like(present, "present", model)
    if not isinstance(which, str) or which not in ("t1", "t2"):
        raise ValueError(f"which must name the present modality, 't1' or 't2', got {_validate.describe(which)}")
    _validate.positive_int(batch_size, "batch_size")
    model.eval()
    zeros = torch.zeros_like(present)
    inputs = torch.cat([present, zeros] if which == "t1" else [zeros, present], dim=1)
    out = map_batches(model, inputs, batch_size, _validate.device_of(model))
    return out[:, 1:] if which == "t1" else out[:, :1]
