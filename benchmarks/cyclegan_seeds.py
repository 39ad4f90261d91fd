"""Lecture 05 over training seeds: CycleGAN and pix2pix (T1 → T2) trained with their checkpoint
recipes under seeds 0 and 1 (``--seeds`` for others; seed 0 is the recipe's own: the shipped
checkpoints, which ``make checkpoints`` reproduces bit for bit), each judged on the 500 held-out registered pairs —
MAE and SSIM against the true partner, overall and per quarter of the brain — so that the
lecture's findings (the SSIM target, the gap to pix2pix, the block where CycleGAN falls behind)
are stated with their spread over training seeds, not from one run.

About 32 core-minutes per extra seed (CycleGAN 26, pix2pix 6), on one thread each. With
``--out DIR`` the per-seed results are written as they come (``seed{s}.json``) with the trained
weights (``{name}_seed{s}.pt``); a later run with the same ``--out`` evaluates weights it finds
there instead of training them again, so an interrupted run keeps what it finished. Besides the
scores, each seed gets the lesion test of the lecture: the share of the true T2 lesion signal
that each translator's output keeps (median over the lesion slices).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import torch

from course_lib import zoo
from course_lib.cyclegan import translate
from course_lib.data import LEVEL_BANDS
from course_lib.evaluation import lesion_signal, translation_scores
from course_lib.recipes import translation as recipes05

from ._models import recipe_model

SEEDS = (0, 1)
MODELS = {"CycleGAN": "cyclegan05", "pix2pix": "pix2pix05_t1_t2"}


def t1_to_t2_scores(generator: torch.nn.Module, t1: torch.Tensor, t2: torch.Tensor, band: torch.Tensor) -> dict:
    """Mean MAE and SSIM of G's translations of ``t1`` against their true partners ``t2``, and the
    mean SSIM per quarter of the brain (``band``: 0 inferior … 3 superior)."""
    scores = translation_scores(translate(generator, t1), t2)
    return {"mae": scores["mae"].mean().item(), "ssim": scores["ssim"].mean().item(),
            "ssim_by_band": [scores["ssim"][band == b].mean().item() for b in range(len(LEVEL_BANDS))]}


def one_seed(seed: int, out: Path | None) -> dict:
    test_t1, test_t2, meta = recipes05.translation05_test_data(return_meta=True)
    band = meta["band"]
    (t1_les, t2_les, mask), (t1_clean, t2_clean) = recipes05.lesion05_test_data()
    true_signal = lesion_signal(t2_les, t2_clean, mask)
    result = {"seed": seed}
    for label, name in MODELS.items():
        saved = out / f"{name}_seed{seed}.pt" if out and seed != 0 else None
        if saved is not None and saved.exists():
            model, seconds = zoo.RECIPES[name].build(), 0.0
            model.load_state_dict(torch.load(saved, weights_only=True))
            model.eval()
        else:
            model, seconds = recipe_model(name, from_checkpoints=(seed == 0), seed=seed)
            if saved is not None:
                torch.save(model.state_dict(), saved)
        signal = lesion_signal(translate(model.G, t1_les), translate(model.G, t1_clean), mask)
        result[label] = {**t1_to_t2_scores(model.G, test_t1, test_t2, band),
                         "lesion_signal_kept": (signal / true_signal).median().item(), "train_s": round(seconds, 1)}
    if out:
        (out / f"seed{seed}.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def _mean_sd(values: list[float]) -> dict:
    return {"mean": round(statistics.mean(values), 4), "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            "min": round(min(values), 4), "max": round(max(values), 4)}


def run(out: Path | None = None, seeds: tuple[int, ...] = SEEDS) -> dict:
    runs = [one_seed(seed, out) for seed in seeds]
    cyc = [r["CycleGAN"] for r in runs]
    pix = [r["pix2pix"] for r in runs]
    gaps = [[p["ssim_by_band"][b] - c["ssim_by_band"][b] for b in range(len(LEVEL_BANDS))] for c, p in zip(cyc, pix)]
    return {
        "seeds": list(seeds), "runs": runs,
        "cyclegan_ssim": _mean_sd([c["ssim"] for c in cyc]), "pix2pix_ssim": _mean_sd([p["ssim"] for p in pix]),
        "mae_ratio": _mean_sd([c["mae"] / p["mae"] for c, p in zip(cyc, pix)]),
        "lesion_signal_kept": {label: _mean_sd([r[label]["lesion_signal_kept"] for r in runs]) for label in MODELS},
        "ssim_gap_by_band": {name: _mean_sd([g[b] for g in gaps]) for b, name in enumerate(LEVEL_BANDS)},
        "targets": {
            "CycleGAN T1→T2 SSIM ≥ 0.90 on every seed": all(c["ssim"] >= 0.90 for c in cyc),
            "CycleGAN T1→T2 MAE ≤ 1.25 × pix2pix's on every seed": all(c["mae"] <= 1.25 * p["mae"] for c, p in zip(cyc, pix)),
            "largest per-block gap in the inferior block on every seed": all(g[0] == max(g) for g in gaps),
        },
    }
