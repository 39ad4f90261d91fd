"""Stacked autoencoders (lecture 02): greedy layer-wise pretraining, one stage at a time on the
codes of the frozen stages below (Bengio et al., 2007; Vincent et al., 2010), and what it is for —
fine-tuning the pretrained encoder as a classifier when only a few labels exist.

The stack is a :class:`~course_lib.denoising.FullyConvolutionalAutoencoder` with several stages;
what makes it *stacked* is how it is trained, not its architecture.

Every function checks its arguments first: images must fit the stack (channels, a size divisible by
stride^depth), labels must be int64 class labels (0 or 1 for :func:`label_efficiency`), and the
trainers and evaluators refuse NaN/±inf images (ValueError) before any training.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .autoencoders import _batch_size, _squared_error
from .denoising import FullyConvolutionalAutoencoder, _check_stack_images
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
    Raises ValueError for NaN/±inf in h.
    """
    _validate.module(stack, "stack", FullyConvolutionalAutoencoder)
    _check_level(stack, level)
    _check_stack_images(h, "h", stack.channels[level], stack.stride, finite=True)
    _validate.for_module(h, "h", stack, model_name="the stack")
    _check_corrupt(corrupt)
    return _stage_loss(stack, level, h, corrupt)


def _stage_loss(stack: FullyConvolutionalAutoencoder, level: int, h: torch.Tensor,
                corrupt: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """stage_loss without the checks, for pretrain_stage's steps (its data were checked up front)."""
    noisy = h if corrupt is None else corrupt(h)
    return _squared_error(stack.decoders[level](stack.encoders[level](noisy)), h)


def _check_level(stack: FullyConvolutionalAutoencoder, level: object) -> int:
    return _validate.integer(level, "level", minimum=0, maximum=stack.depth - 1, why="a stage of the stack, 0-based")


def _check_corrupt(corrupt: object) -> None:
    if corrupt is not None:
        _validate.function(corrupt, "corrupt", what="None or a function of a batch of codes → corrupted codes")


def _check_training(lr: object, batch_size: object, seed: object) -> int:
    _validate.number(lr, "lr", minimum=0, open_minimum=True, why="Adam's learning rate")
    batch_size = _batch_size(batch_size)
    _validate.seed(seed)
    return batch_size


def pretrain_stage(stack: FullyConvolutionalAutoencoder, level: int, x: torch.Tensor, *,
                   corrupt: Callable[[torch.Tensor], torch.Tensor] | None = None, epochs: int = 5,
                   lr: float = 3e-3, batch_size: int = 64, seed: int = 0, progress: bool = True,
                   device: str | torch.device = "cpu") -> History:
    """One stage of greedy layer-wise pretraining (Bengio et al., 2007; Vincent et al., 2010).

    The stages below ``level`` are frozen: their codes h_level = enc_level ∘ … ∘ enc_1(x) are
    computed once, without gradients. Then only stage ``level``'s encoder and decoder are
    trained, with Adam, to minimise :func:`stage_loss` on those codes — every other parameter
    of the stack keeps its value. The stack trains on ``device`` (moved there, with the codes).
    Returns the per-epoch loss history. Raises ValueError for NaN/±inf in x before training.
    """
    _validate.module(stack, "stack", FullyConvolutionalAutoencoder)
    _check_level(stack, level)
    stack._check_images(x, "x", on_device=False, finite=True)
    _check_corrupt(corrupt)
    _validate.epochs(epochs)
    batch_size = _check_training(lr, batch_size, seed)
    device = _validate.device(device)
    stack.to(device)
    codes = map_batches(lambda chunk: stack.encode(chunk, depth=level), x, 256, device)
    stage = nn.ModuleList([stack.encoders[level], stack.decoders[level]])
    optimizer = torch.optim.Adam(stage.parameters(), lr=lr)

    def step(batch: torch.Tensor) -> float:
        return train_step(stage, optimizer, batch, lambda _, h: _stage_loss(stack, level, h, corrupt))

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
        _validate.module(stack, "stack", FullyConvolutionalAutoencoder)
        n_classes = _validate.classes(n_classes)
        self.encoders = stack.encoders
        self.head = nn.Linear(stack.channels[-1], n_classes)
        # What an input must look like: the stack's images (its encode's rule).
        self._in_channels, self._factor = stack.channels[0], stack.stride**stack.depth

    def _check_images(self, x: torch.Tensor, name: str, *, on_device: bool, finite: bool = False) -> None:
        _check_stack_images(x, name, self._in_channels, self._factor, finite=finite)
        if on_device:
            _validate.for_module(x, name, self, model_name="the classifier")
        else:
            _validate.values(x, name)
            _validate.dtype_like(x, name, self, model_name="the classifier")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_images(x, "x", on_device=True)
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
    Raises ValueError for NaN/±inf in x, or labels outside the classifier's classes, before training.
    """
    _check_classified(model, x, y)
    steps = _validate.steps(steps)
    batch_size = _check_training(lr, batch_size, seed)
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


def _check_classified(model: object, x: object, y: object) -> None:
    """A classifier, finite images (N, C, H, W) in its dtype (not necessarily on its device: batches
    are moved there) and N int64 labels on x's device, below the classifier's number of classes
    where it is known (a StackClassifier)."""
    _validate.module(model, "model", what="a classifier of images")
    if isinstance(model, StackClassifier):
        model._check_images(x, "x", on_device=False, finite=True)
        n_classes = model.head.out_features
    else:
        _validate.values(_validate.tensor(x, "x", shape=("N", "C", "H", "W"), what="batch of images",
                                          nonempty=True, finite=True), "x")
        _validate.dtype_like(x, "x", model, model_name="the classifier")
        n_classes = None
    _validate.labels(y, "y", n_classes=n_classes, length=len(x))
    _validate.same_device([x, y], ["x", "y"])


@torch.no_grad()
def classifier_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256) -> float:
    """The fraction of ``x`` whose most probable class is ``y`` (computed on the model's device).
    Raises ValueError for NaN/±inf in x."""
    _check_classified(model, x, y)
    batch_size = _batch_size(batch_size)
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
    Raises ValueError for NaN/±inf images, labels other than 0 and 1 (the classifier has two
    classes), an n in ``n_labels`` larger than the pool, or a negative seed.
    """
    _validate.module(pretrained, "pretrained", FullyConvolutionalAutoencoder)
    for name, x, y in (("x_pool", x_pool, y_pool), ("x_test", x_test, y_test)):
        pretrained._check_images(x, name, on_device=False, finite=True)
        _validate.labels(y, "y" + name[1:], n_classes=2, length=len(x))
        _validate.same_device([x, y], [name, "y" + name[1:]])
    n_labels = _int_sequence(n_labels, "n_labels")
    for i, n in enumerate(n_labels):
        _validate.integer(n, f"n_labels[{i}]", minimum=1, maximum=len(x_pool),
                          why=f"labelled images drawn from the pool of {len(x_pool)}")
    seeds = _int_sequence(seeds, "seeds")
    for j, seed in enumerate(seeds):
        _validate.seed(seed, f"seeds[{j}]")
    _validate.steps(steps)
    _validate.number(lr, "lr", minimum=0, open_minimum=True, why="Adam's learning rate")
    _validate.device(device)
    results = {"pretrained": torch.zeros(len(n_labels), len(seeds)), "scratch": torch.zeros(len(n_labels), len(seeds))}
    with single_threaded():  # small networks: see single_threaded
        _fine_tune_all(pretrained, x_pool, y_pool, x_test, y_test, n_labels, seeds, steps, lr, device, results)
    return results


def _int_sequence(value: object, name: str) -> Sequence:
    """A non-empty sequence (a list, tuple or range; not a str), its items checked by the caller."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a sequence of ints (a list, tuple or range), got {_validate.describe(value)}")
    if len(value) == 0:
        raise ValueError(f"{name} must hold at least one int, got an empty {type(value).__name__}")
    return value


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
