"""Stacked autoencoders (lecture 02): greedy layer-wise pretraining, one stage at a time on the
codes of the frozen stages below (Bengio et al., 2007; Vincent et al., 2010), and what it is for —
fine-tuning the pretrained encoder as a classifier when only a few labels exist.

The stack is a :class:`~course_lib.denoising.FullyConvolutionalAutoencoder` with several stages;
what makes it *stacked* is how it is trained, not its architecture.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .autoencoders import reconstruction_loss
from .denoising import FullyConvolutionalAutoencoder
from . import _validate
from .training import (History, LossWatch, fit, located, map_batches, modes_restored_on_error, single_threaded,
                       train_step)

__all__ = ["stage_loss", "pretrain_stage", "StackClassifier", "train_classifier", "classifier_accuracy",
           "label_efficiency"]


def stage_loss(stack: FullyConvolutionalAutoencoder, level: int, h: torch.Tensor,
               corrupt: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """The loss of stage ``level`` (0-based) as a (denoising) autoencoder of its input codes h:

        L_ℓ = (1/B) Σ_b ‖h_b − dec_ℓ(enc_ℓ(h̃_b))‖²,   h̃ = corrupt(h)  (h̃ = h without corruption)

    ``h`` are the codes the frozen stages below produce (the images themselves for level 0).
    """
    noisy = h if corrupt is None else corrupt(h)
    return reconstruction_loss(stack.decoders[level](stack.encoders[level](noisy)), h)


def pretrain_stage(stack: FullyConvolutionalAutoencoder, level: int, x: torch.Tensor, *,
                   corrupt: Callable[[torch.Tensor], torch.Tensor] | None = None, epochs: int = 5,
                   lr: float = 3e-3, batch_size: int = 64, seed: int = 0, progress: bool = True,
                   device: str | torch.device = "cpu") -> History:
    """One stage of greedy layer-wise pretraining (Bengio et al., 2007; Vincent et al., 2010).

    The stages below ``level`` are frozen: their codes h_level = enc_level ∘ … ∘ enc_1(x) are
    computed once, without gradients. Then only stage ``level``'s encoder and decoder are
    trained, with Adam, to minimise :func:`stage_loss` on those codes — every other parameter
    of the stack keeps its value. The stack trains on ``device`` (moved there, with the codes).
    Returns the per-epoch loss history.
    """
    _validate.integer(level, "level", minimum=0, maximum=stack.depth - 1, why="a stage of the stack, 0-based")
    device = _validate.device(device)
    stack.to(device)
    codes = map_batches(lambda chunk: stack.encode(chunk, depth=level), x, 256, device)
    stage = nn.ModuleList([stack.encoders[level], stack.decoders[level]])
    optimizer = torch.optim.Adam(stage.parameters(), lr=lr)

    def step(batch: torch.Tensor) -> float:
        return train_step(stage, optimizer, batch, lambda _, h: stage_loss(stack, level, h, corrupt))

    return fit(step, codes, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress,
               desc=f"pretraining stage {level + 1}", device=device)


class StackClassifier(nn.Module):
    """A classifier on top of a stack's encoder: p(y | x) = softmax(V · pool(h_L) + c).

    ``pool`` is the global maximum of each channel of h_L over the image: a lesion is a small,
    local feature that may sit anywhere, and the maximum keeps a strong response from one place
    that an average over the whole slice would dilute. The encoder stages are the stack's own
    modules (shared, not copied), so fine-tuning updates the pretrained weights.
    """

    def __init__(self, stack: FullyConvolutionalAutoencoder, n_classes: int = 2) -> None:
        super().__init__()
        self.encoders = stack.encoders
        self.head = nn.Linear(stack.channels[-1], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.encoders:
            x = stage(x)
        return self.head(x.amax(dim=(-2, -1)))


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int = 200, lr: float = 1e-3,
                     batch_size: int = 32, seed: int = 0, device: str | torch.device = "cpu") -> list[float]:
    """Fine-tune ``model`` (all its parameters) on labelled images with the cross-entropy, Adam.

    A fixed number of steps, not epochs: with 20 labels or 500 the network gets the same number
    of updates, so a difference in accuracy comes from the data, not from training longer.
    Minibatches are drawn with replacement when there are fewer labels than ``batch_size``.
    The model trains on ``device`` (moved there; each minibatch follows it). Returns the loss of every step.
    """
    if x.ndim != 4 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"expected images (N, C, H, W) and labels (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    model.to(_validate.device(device))
    rng = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    watch = LossWatch()
    losses = []
    with modes_restored_on_error(model):
        model.train()
        for step in range(1, steps + 1):
            idx = torch.randint(len(x), (min(batch_size, len(x)),), generator=rng) if len(x) < batch_size \
                else torch.randperm(len(x), generator=rng)[:batch_size]
            with located(f"step {step}"):
                loss = train_step(model, optimizer, (x[idx].to(device), y[idx].to(device)),
                                  lambda m, batch: nn.functional.cross_entropy(m(batch[0]), batch[1]))
            losses.append(watch.check(loss, epoch=1, step=step)["loss"])
    return losses


@torch.no_grad()
def classifier_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256) -> float:
    """The fraction of ``x`` whose most probable class is ``y`` (computed on the model's device)."""
    model.eval()
    predictions = map_batches(lambda chunk: model(chunk).argmax(1), x, batch_size, _validate.device_of(model))
    return (predictions == y).float().mean().item()


def label_efficiency(pretrained: FullyConvolutionalAutoencoder, x_pool: torch.Tensor, y_pool: torch.Tensor,
                     x_test: torch.Tensor, y_test: torch.Tensor, *, n_labels: Sequence[int], seeds: Sequence[int],
                     steps: int = 200, lr: float = 3e-3, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Held-out accuracy of the stack fine-tuned from its pretrained weights vs the same network
    from random initialisation, for each number of labels n and seed: {"pretrained", "scratch"}
    → tensors (len(n_labels), len(seeds)).

    For seed s, the n labelled images are the first n of a permutation of the pool drawn with
    seed s (so n = 20 ⊂ n = 50 ⊂ …), and the random initialisation is torch.manual_seed(s).
    Both networks get the same images and the same :func:`train_classifier` budget, on ``device``.
    """
    if len(x_pool) != len(y_pool) or max(n_labels) > len(x_pool):
        raise ValueError(f"the pool has {len(x_pool)} images and {len(y_pool)} labels; need them equal and at least "
                         f"max(n_labels) = {max(n_labels)}")
    results = {"pretrained": torch.zeros(len(n_labels), len(seeds)), "scratch": torch.zeros(len(n_labels), len(seeds))}
    with single_threaded():  # small networks: see single_threaded
        _fine_tune_all(pretrained, x_pool, y_pool, x_test, y_test, n_labels, seeds, steps, lr, device, results)
    return results


def _fine_tune_all(pretrained, x_pool, y_pool, x_test, y_test, n_labels, seeds, steps, lr, device, results) -> None:
    for j, seed in enumerate(seeds):
        order = torch.randperm(len(x_pool), generator=torch.Generator().manual_seed(seed))
        for i, n in enumerate(n_labels):
            chosen = order[:n]
            for start, results_of in (("pretrained", results["pretrained"]), ("scratch", results["scratch"])):
                torch.manual_seed(seed)
                stack = (copy.deepcopy(pretrained) if start == "pretrained"
                         else FullyConvolutionalAutoencoder(pretrained.channels, stride=pretrained.stride))
                model = StackClassifier(stack)
                train_classifier(model, x_pool[chosen], y_pool[chosen], steps=steps, lr=lr, seed=seed, device=device)
                results_of[i, j] = classifier_accuracy(model, x_test, y_test)
