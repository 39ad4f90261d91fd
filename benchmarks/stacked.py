"""Lecture 02: greedy layer-wise pretraining with few labels — held-out accuracy of "lesion
present?" for the greedily pretrained stack fine-tuned with a classifier head vs the same network
from random initialisation, 20/50/100/500 labels, 10 seeds, mean ± sd.

By default the stack is pretrained anew with its checkpoint recipe; ``--from-checkpoints`` uses
the shipped one. The fine-tuning always runs here.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from course_lib import zoo
from course_lib.autoencoders import label_efficiency

from ._models import recipe_model

N_LABELS, SEEDS = (20, 50, 100, 500), tuple(range(10))


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    stack, pretrain_s = recipe_model("sae02_stack", from_checkpoints)
    x_pool, y_pool = zoo.sae02_labelled_data("train")
    x_test, y_test = zoo.sae02_labelled_data("test")
    start = time.perf_counter()
    accuracy = label_efficiency(stack, x_pool, y_pool, x_test, y_test, n_labels=N_LABELS, seeds=SEEDS)
    finetune_s = time.perf_counter() - start
    majority = max(y_test.float().mean().item(), 1 - y_test.float().mean().item())
    if out:
        for name, values in accuracy.items():
            np.save(out / f"accuracy_{name}.npy", values.numpy())  # (len(N_LABELS), len(SEEDS))
        np.save(out / "n_labels.npy", np.array(N_LABELS))
    summary = {name: {str(n): {"mean": round(values[i].mean().item(), 4), "sd": round(values[i].std().item(), 4)}
                      for i, n in enumerate(N_LABELS)} for name, values in accuracy.items()}
    return {
        "accuracy": summary,
        "majority_class_accuracy": round(majority, 4),
        "seeds": len(SEEDS),
        "pretrain_s": round(pretrain_s, 1),
        "finetune_s_per_run": round(finetune_s / (2 * len(N_LABELS) * len(SEEDS)), 2),
        # The issue sets no accuracy target ("report honestly whatever the measurement shows");
        # these record the two findings the lecture states, so a change that reverses them shows up.
        "targets": {
            "≥ 5 seeds per point": len(SEEDS) >= 5,
            "with 500 labels, pretrained above scratch (lecture's finding)":
                accuracy["pretrained"][-1].mean().item() > accuracy["scratch"][-1].mean().item(),
        },
    }
