"""Lecture 05: T1 ↔ T2 translation on held-out registered pairs — MAE, PSNR and SSIM against the
true partner for identity (input as output), histogram matching, the naive one-sided GANs,
CycleGAN (trained unpaired) and pix2pix (trained on pairs, the same budget); and the lesion
test: what the translators do to white-matter lesions they never saw in training.

By default every translator is trained anew with its checkpoint recipe (the same code, data and
seed as ``make checkpoints``); ``--from-checkpoints`` evaluates the shipped ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from course_lib.cyclegan import histogram_match, translate
from course_lib.data import LEVEL_BANDS
from course_lib.evaluation import lesion_signal, translation_scores
from course_lib.recipes import translation as recipes05

from ._models import recipe_model

# direction → (CycleGAN generator, index of the source and of the target in a (t1, t2) pair, pix2pix recipe)
DIRECTIONS = {"t1_to_t2": ("G", 0, 1, "pix2pix05_t1_t2"), "t2_to_t1": ("F", 1, 0, "pix2pix05_t2_t1")}


def _translators(from_checkpoints: bool) -> tuple[dict, dict]:
    trained, seconds = {}, {}
    for name in ("naive05", "cyclegan05", "pix2pix05_t1_t2", "pix2pix05_t2_t1"):
        trained[name], seconds[name] = recipe_model(name, from_checkpoints)
    return trained, seconds


def _outputs(trained: dict, x: torch.Tensor, direction: str, references: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every method's translation of the source slices ``x`` in ``direction``."""
    g_name, _, _, pix2pix = DIRECTIONS[direction]
    return {
        "identity": x,
        "histogram_matching": histogram_match(x, references[direction]),
        "naive_gan": translate(getattr(trained["naive05"], g_name), x),
        "cyclegan": translate(getattr(trained["cyclegan05"], g_name), x),
        "pix2pix": translate(trained[pix2pix].G, x),
    }


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    trained, seconds = _translators(from_checkpoints)
    x_train, y_train = recipes05.cyclegan05_train_data()
    references = {"t1_to_t2": y_train, "t2_to_t1": x_train}  # histogram matching sees only the unpaired sets
    *test, meta = recipes05.translation05_test_data(return_meta=True)
    band = meta["band"]  # which quarter of the brain, inferior to superior, each held-out slice is from
    table = {}
    for direction, (_, src, dst, _) in DIRECTIONS.items():
        outputs = _outputs(trained, test[src], direction, references)
        table[direction] = {}
        for method, images in outputs.items():
            scores = translation_scores(images, test[dst])
            table[direction][method] = {"mae": round(scores["mae"].mean().item(), 4),
                                        "psnr_db": round(scores["psnr"].mean().item(), 2),
                                        "ssim": round(scores["ssim"].mean().item(), 4),
                                        "ssim_by_band": {name: round(scores["ssim"][band == b].mean().item(), 4)
                                                         for b, name in enumerate(LEVEL_BANDS) if (band == b).any()}}
            if out:
                np.save(out / f"{direction}_{method}.npy", images.numpy())
    if out:
        np.save(out / "test_t1.npy", test[0].numpy())
        np.save(out / "test_t2.npy", test[1].numpy())
        np.save(out / "test_band.npy", band.numpy())

    # Lesions: the same held-out slices rendered with and without white-matter lesions.
    (t1_les, t2_les, mask), (t1_clean, t2_clean) = recipes05.lesion05_test_data()
    lesion = {"input_t1": lesion_signal(t1_les, t1_clean, mask), "true_t2": lesion_signal(t2_les, t2_clean, mask)}
    for method, g in (("naive_gan", trained["naive05"].G), ("cyclegan", trained["cyclegan05"].G),
                      ("pix2pix", trained["pix2pix05_t1_t2"].G)):
        with_lesion, without_lesion = translate(g, t1_les), translate(g, t1_clean)
        lesion[method] = lesion_signal(with_lesion, without_lesion, mask)
        if out:
            np.save(out / f"lesion_{method}_with.npy", with_lesion.numpy())
            np.save(out / f"lesion_{method}_without.npy", without_lesion.numpy())
    if out:
        for name, images in (("lesion_t1_with", t1_les), ("lesion_t1_without", t1_clean), ("lesion_t2_with", t2_les),
                             ("lesion_t2_without", t2_clean), ("lesion_mask", mask)):
            np.save(out / f"{name}.npy", images.numpy())
    # The share of the true T2 lesion signal each translator reproduces (median over lesion slices).
    truth = lesion["true_t2"]
    kept = {m: round((lesion[m] / truth).median().item(), 3) for m in ("naive_gan", "cyclegan", "pix2pix")}

    t12 = table["t1_to_t2"]
    return {
        "n_test_pairs": len(test[0]),
        "n_test_pairs_by_band": {name: int((band == b).sum()) for b, name in enumerate(LEVEL_BANDS)},
        "image_size": 64,
        "table": table,
        "lesion_signal_median": {m: round(v.median().item(), 4) for m, v in lesion.items()},
        "lesion_signal_kept_vs_true_t2": kept,
        "n_lesion_slices": len(mask),
        **({"train_s": {k: round(v, 1) for k, v in seconds.items()}} if not from_checkpoints else {}),
        "targets": {
            "CycleGAN T1→T2 SSIM ≥ 0.90": t12["cyclegan"]["ssim"] >= 0.90,
            "CycleGAN T1→T2 MAE ≤ 1.25 × pix2pix's": t12["cyclegan"]["mae"] <= 1.25 * t12["pix2pix"]["mae"],
            "CycleGAN T1→T2 better than identity and histogram matching (SSIM and MAE)": all(
                t12["cyclegan"]["ssim"] > t12[m]["ssim"] and t12["cyclegan"]["mae"] < t12[m]["mae"]
                for m in ("identity", "histogram_matching")),
        },
    }
