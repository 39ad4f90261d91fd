"""Lecture 05's hallucination experiment (Cohen et al., 2018), on held-out test slices with known truth.

``cyclegan05_lesions_in_t2`` is lecture 05's CycleGAN recipe trained on the same slices, except that
half of the T2-like training slices carry lesions and no T1 slice does. Against the lesion-free
CycleGAN and pix2pix (both trained on lesion-free data):

* invented — the 500 lesion-free held-out T1 slices of lecture 05 (seed 5) translated to T2: the share
  of slices with a blob brighter than the true T2 partner by more than a threshold (3 × 3 box
  average, ``excess_area``) and the mean blob area; thresholds 0.25, 0.5 and 0.75 × the median true T2
  lesion signal (the lecture's is 0.5), with the detector's sensitivity on real lesions (true T2
  with against without its lesions);
* erased — the lesion test slices of lecture 05 (seed 6) translated T2 → T1: the median share of the
  true T1 lesion signal each translator keeps, and T1 → T2 the share of the true T2 signal.

By default ``cyclegan05_lesions_in_t2`` is trained anew with its recipe (about 26 CPU-minutes);
``--from-checkpoints`` evaluates the shipped one. The two lesion-free translators are the shipped ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from course_lib import zoo
from course_lib.cyclegan import translate
from course_lib.evaluation import excess_area, lesion_signal
from course_lib.recipes import translation as recipes05

from ._models import recipe_model

FRACTIONS = (0.25, 0.5, 0.75)


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    lesion_model, train_s = recipe_model("cyclegan05_lesions_in_t2", from_checkpoints)
    clean, p2p = zoo.load("cyclegan05"), {d: zoo.load(f"pix2pix05_{d}") for d in ("t1_t2", "t2_t1")}
    test_t1, test_t2 = recipes05.translation05_test_data()
    (t1_les, t2_les, mask), (t1_clean, t2_clean) = recipes05.lesion05_test_data()
    true_t2, true_t1 = lesion_signal(t2_les, t2_clean, mask), lesion_signal(t1_les, t1_clean, mask)
    forward = {"cyclegan_lesion_free": clean.G, "pix2pix": p2p["t1_t2"].G, "cyclegan_lesions_in_t2": lesion_model.G}
    backward = {"cyclegan_lesion_free": clean.F, "pix2pix": p2p["t2_t1"].G, "cyclegan_lesions_in_t2": lesion_model.F}
    outputs = {name: translate(g, test_t1) for name, g in forward.items()}
    invented = {}
    for fraction in FRACTIONS:
        threshold = fraction * true_t2.median().item()
        row = {"threshold": round(threshold, 4),
               "detector_sensitivity": round((excess_area(t2_les, t2_clean, threshold) > 0).double().mean().item(), 4)}
        for name, o in outputs.items():
            area = excess_area(o, test_t2, threshold)
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
    lecture = invented["0.5 × true signal"]
    targets = {
        "lesion-trained CycleGAN invents lesions more often than the lesion-free one (0.5 × signal)":
            lecture["cyclegan_lesions_in_t2"]["slices_with_invented_lesion"] >
            lecture["cyclegan_lesion_free"]["slices_with_invented_lesion"],
        "detector finds ≥ 90 % of real lesions (0.5 × signal)": lecture["detector_sensitivity"] >= 0.9,
    }
    return {"n_invented_test": len(test_t1), "n_lesion_test": len(mask), "invented": invented,
            "erased_share_of_true_t1_signal_kept": kept_t1, "t1_to_t2_share_of_true_t2_signal_kept": kept_t2,
            **({"train_s": round(train_s, 1)} if not from_checkpoints else {}), "targets": targets}
