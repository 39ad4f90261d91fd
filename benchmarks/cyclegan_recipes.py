"""Lecture 05's recipe choices, measured where choices belong: on the *validation* split.

The shipped CycleGAN recipe (``cyclegan05`` in ``course_lib.recipes.translation``) made three
choices: discriminators at half the generators' learning rate, 4,000 slices per set for 4 epochs
(rather than 2,000 for 6), and the generators' weights averaged with β = 0.995. Each variant
below changes one of them, is trained with everything else as in the recipe (training seed 0,
one thread) and is judged T1 → T2 against the true partners of 500 registered *validation*
pairs (``split="val"``, seed 8): MAE and SSIM, overall and per quarter of the brain. The test
split is not touched here.

- ``shipped``: the recipe itself, trained again (bit for bit the shipped checkpoint, which is
  checked). While it trains, extra moving averages with β = 0.99 and 0.998 and the last
  iterate (no averaging) are kept beside the recipe's β = 0.995: the averages do not take part
  in the game, so one run scores all four.
- ``d_lr_equal``: the discriminators at the generators' rate.
- ``data_2000x6``: 2,000 slices per set for 6 epochs (1,500 steps instead of 2,000).

The shipped checkpoints of CycleGAN and pix2pix are scored on the same pairs beside them, and
the rerun of the recipe is compared with the shipped CycleGAN weight by weight: ``make
checkpoints`` should give back the shipped file bit for bit.

About 26 core-minutes per variant. With ``--out DIR`` each variant's result is written as it
finishes (``{variant}.json``) and a later run skips the variants it finds there.
"""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import torch

from course_lib import cyclegan as cyclegan_module
from course_lib import seed_everything, zoo
from course_lib.cyclegan import CycleGAN, train_cyclegan
from course_lib.data import paired_brain_slices, unpaired_brain_slices
from course_lib.recipes import translation as recipes05
from course_lib.training import WeightAverages, single_threaded, weight_average

from .cyclegan_seeds import t1_to_t2_scores

VARIANTS = ("shipped", "d_lr_equal", "data_2000x6")
EXTRA_DECAYS = (0.99, 0.998)
VAL_SEED = 8


def validation_pairs(n: int = 500):
    """(T1, T2, meta): ``n`` registered validation pairs (64 px, seed 8), the judge of every choice."""
    return paired_brain_slices(n, size=64, split="val", seed=VAL_SEED, return_meta=True)


class _RecordingAverages(WeightAverages):
    """The recipe's averages, plus extra ones and the last iterate, recorded when training ends."""

    recorded: dict[str, list[dict]] = {}

    def __init__(self, networks, decay):
        super().__init__(networks, decay)
        self.extra = {beta: [weight_average(net, beta) for net in networks] for beta in EXTRA_DECAYS}

    def update(self) -> None:
        super().update()
        for averages in self.extra.values():
            for average, net in zip(averages, self.networks):
                average.update_parameters(net)

    def copy_into_networks(self) -> None:
        _RecordingAverages.recorded = {
            "last iterate": [_copy(net.state_dict()) for net in self.networks],
            **{f"β = {beta}": [_copy(a.module.state_dict()) for a in averages] for beta, averages in self.extra.items()},
        }
        super().copy_into_networks()


def _copy(state: dict) -> dict:
    return {k: v.detach().clone() for k, v in state.items()}


def _train(variant: str) -> dict[str, CycleGAN]:
    """The variant's generators: {label: model}."""
    n_train, epochs, d_lr = recipes05.TRANSLATION05_N_TRAIN, recipes05.TRANSLATION05_EPOCHS, recipes05.CYCLEGAN05_D_LR
    if variant == "d_lr_equal":
        d_lr = recipes05.CYCLEGAN05_LR
    elif variant == "data_2000x6":
        n_train, epochs = 2000, 6
    seed_everything(0)
    model = CycleGAN(**recipes05.TRANSLATION05)
    x, y = unpaired_brain_slices(n_train, size=64, seed=0)
    with single_threaded(), mock.patch.object(cyclegan_module, "WeightAverages", _RecordingAverages):
        train_cyclegan(model, x, y, epochs=epochs, batch_size=recipes05.TRANSLATION05_BATCH, lr=recipes05.CYCLEGAN05_LR,
                       d_lr=d_lr, lambda_cyc=recipes05.CYCLEGAN05_LAMBDA_CYC, lambda_id=recipes05.CYCLEGAN05_LAMBDA_ID,
                       ema_decay=recipes05.TRANSLATION05_EMA, progress=False, desc=variant)
    models = {f"β = {recipes05.TRANSLATION05_EMA}": model.eval()}
    if variant == "shipped":
        for label, (g_state, f_state) in _RecordingAverages.recorded.items():
            other = CycleGAN(**recipes05.TRANSLATION05)
            other.load_state_dict(model.state_dict())
            other.G.load_state_dict(g_state)
            other.F.load_state_dict(f_state)
            models[label] = other.eval()
    return models


def _scores(model: CycleGAN, t1: torch.Tensor, t2: torch.Tensor, band: torch.Tensor) -> dict:
    """``cyclegan_seeds.t1_to_t2_scores`` of the model's G, rounded to 4 digits."""
    s = t1_to_t2_scores(model.G, t1, t2, band)
    return {"mae": round(s["mae"], 4), "ssim": round(s["ssim"], 4), "ssim_by_band": [round(v, 4) for v in s["ssim_by_band"]]}


def run(out: Path | None = None) -> dict:
    t1, t2, meta = validation_pairs()
    shipped = {name: zoo.load(name) for name in ("cyclegan05", "pix2pix05_t1_t2")}
    results = {}
    for variant in VARIANTS:
        saved = out / f"{variant}.json" if out else None
        if saved is not None and saved.exists():
            results[variant] = json.loads(saved.read_text())
            continue
        models = _train(variant)
        result = {label: _scores(m, t1, t2, meta["band"]) for label, m in models.items()}
        if variant == "shipped":  # the rerun must be the shipped checkpoint, or the comparison is not of the recipe
            shipped_weights = shipped["cyclegan05"].state_dict()
            rerun = models[f"β = {recipes05.TRANSLATION05_EMA}"].state_dict()
            result["reproduces_checkpoint"] = all(torch.equal(v, shipped_weights[k]) for k, v in rerun.items())
        results[variant] = result
        if saved is not None:
            saved.write_text(json.dumps(result, indent=1) + "\n")
    recipe = results["shipped"][f"β = {recipes05.TRANSLATION05_EMA}"]["ssim"]
    checkpoints = {name: _scores(model, t1, t2, meta["band"]) for name, model in shipped.items()}
    return {
        "validation_pairs": len(t1), "variants": results, "shipped_checkpoints": checkpoints,
        "targets": {
            "each choice at least as good as its alternative on validation (SSIM)": all(
                recipe >= r["ssim"] for v, rows in results.items() for label, r in rows.items()
                if isinstance(r, dict) and not (v == "shipped" and label == f"β = {recipes05.TRANSLATION05_EMA}")),
            "the rerun reproduces the shipped checkpoint": bool(results["shipped"].get("reproduces_checkpoint")),
        },
    }
