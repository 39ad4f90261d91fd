"""Lecture 05's hallucination experiment (Cohen et al., 2018), on held-out test slices with known truth.

``cyclegan05_lesions_{half,all}_t2`` are lecture 05's CycleGAN recipe trained on the same slices, except
that the T2-like training slices carry lesions with probability 0.5 or 1 and no T1 slice does. Against
the lesion-free CycleGAN and pix2pix (both trained on lesion-free data):

* invented — the 500 lesion-free held-out T1 slices of lecture 05 (seed 5) translated to T2: the share
  of slices with a blob inside the true partner's white matter (``t2_white_matter``) brighter than
  the true T2 partner by more than a threshold (3 × 3 box average, ``excess_area``) and the mean blob
  area; thresholds 0.25, 0.5 and 0.75 × the median true T2
  lesion signal (the lecture's is 0.5), with the detector's sensitivity on real lesions (true T2
  with against without its lesions);
* erased — the lesion test slices of lecture 05 (seed 6) translated T2 → T1: the median share of the
  true T1 lesion signal each translator keeps, and T1 → T2 the share of the true T2 signal.

By default the two lesion-trained CycleGANs are trained anew with their recipes (about 26 CPU-minutes
each); ``--from-checkpoints`` evaluates the shipped ones. The two lesion-free translators are the
shipped ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from course_lib import zoo
from course_lib.cyclegan import translate
from course_lib.data import paired_brain_slices, t2_white_matter
from course_lib.evaluation import excess_area, lesion_signal
from course_lib.recipes import translation as recipes05

from ._models import recipe_model

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
MAX_FALSE_POSITIVES = 0.10  # on lesion-free validation slices, for each lesion-free translator


def choose_fraction(translators: dict) -> dict:
    """The threshold rule, on validation pairs only: see the module doc."""
    v1, v2 = paired_brain_slices(500, size=64, split="val", seed=8)
    l1, l2, meta = paired_brain_slices(200, size=64, split="val", seed=9, lesion_prob=1.0, return_meta=True)
    _, l2_clean = paired_brain_slices(200, size=64, split="val", seed=9)
    keep = meta["lesion"] == 1
    signal = lesion_signal(l2[keep], l2_clean[keep], meta["lesion_mask"][keep]).median().item()
    outputs, region = {name: translate(g, v1) for name, g in translators.items()}, t2_white_matter(v2)
    rates = {}
    for k in range(1, 9):
        fraction = k / 8
        rates[fraction] = {name: round((excess_area(o, v2, fraction * signal, region=region) > 0).double().mean().item(), 4)
                           for name, o in outputs.items()}
        if max(rates[fraction].values()) <= MAX_FALSE_POSITIVES:
            return {"fraction": fraction, "validation_signal": round(signal, 4),
                    "validation_false_positives": {f"{f:g}": r for f, r in rates.items()}}
    raise RuntimeError(f"no threshold up to the full lesion signal keeps false positives ≤ {MAX_FALSE_POSITIVES}")


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    trained = {p: recipe_model(f"cyclegan05_lesions_{p}_t2", from_checkpoints) for p in ("half", "all")}
    clean, p2p = zoo.load("cyclegan05"), {d: zoo.load(f"pix2pix05_{d}") for d in ("t1_t2", "t2_t1")}
    chosen = choose_fraction({"cyclegan_lesion_free": clean.G, "pix2pix": p2p["t1_t2"].G})
    test_t1, test_t2 = recipes05.translation05_test_data()
    (t1_les, t2_les, mask), (t1_clean, t2_clean) = recipes05.lesion05_test_data()
    true_t2, true_t1 = lesion_signal(t2_les, t2_clean, mask), lesion_signal(t1_les, t1_clean, mask)
    forward = {"cyclegan_lesion_free": clean.G, "pix2pix": p2p["t1_t2"].G,
               **{f"cyclegan_lesions_{p}_t2": m.G for p, (m, _) in trained.items()}}
    backward = {"cyclegan_lesion_free": clean.F, "pix2pix": p2p["t2_t1"].G,
                **{f"cyclegan_lesions_{p}_t2": m.F for p, (m, _) in trained.items()}}
    outputs = {name: translate(g, test_t1) for name, g in forward.items()}
    invented = {}
    region, lesion_region = t2_white_matter(test_t2), t2_white_matter(t2_clean)
    for fraction in FRACTIONS:
        threshold = fraction * true_t2.median().item()
        found = excess_area(t2_les, t2_clean, threshold, region=lesion_region) > 0
        row = {"threshold": round(threshold, 4), "detector_sensitivity": round(found.double().mean().item(), 4)}
        for name, o in outputs.items():
            area = excess_area(o, test_t2, threshold, region=region)
            row[name] = {"slices_with_invented_lesion": round((area > 0).double().mean().item(), 4),
                         "mean_area_px": round(area.double().mean().item(), 2)}
        invented[f"{fraction:g} × true signal"] = row
    kept_t1 = {name: round((lesion_signal(translate(f, t2_les), translate(f, t2_clean), mask) / true_t1).median().item(), 4)
               for name, f in backward.items()}
    kept_t2 = {name: round((lesion_signal(translate(g, t1_les), translate(g, t1_clean), mask) / true_t2).median().item(), 4)
               for name, g in forward.items()}
    if out:
        for name, o in outputs.items():
            np.save(out / f"{name}_t1_to_t2.npy", o.numpy())
        np.save(out / "true_t2.npy", test_t2.numpy())
    lecture = invented[f"{chosen['fraction']:g} × true signal"]
    targets = {"detector finds ≥ 90 % of real lesions at the chosen threshold": lecture["detector_sensitivity"] >= 0.9,
               "the lecture's threshold is the one chosen on validation pairs": chosen["fraction"] == 0.75}
    return {"threshold_choice": chosen, "n_invented_test": len(test_t1), "n_lesion_test": len(mask), "invented": invented,
            "erased_share_of_true_t1_signal_kept": kept_t1, "t1_to_t2_share_of_true_t2_signal_kept": kept_t2,
            **({"train_s": {p: round(t, 1) for p, (_, t) in trained.items()}} if not from_checkpoints else {}),
            "targets": targets}
