"""Tests for course_lib.data: brain slices, 2D toys, the MedMNIST loader, and offline use."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from course_lib.data import (
    LEVEL_BANDS, banana, brain_slices, grid_gaussians, level_ids, load_medmnist_npz,
    paired_brain_slices, ring_gaussians, unpaired_brain_slices,
)
from course_lib.data.brain import T2_INTENSITY, _template


# --- brain slices -----------------------------------------------------------------------------

@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("contrast", ["t1", "t2"])
def test_brain_slices_shape_dtype_range(size, contrast):
    x = brain_slices(12, size=size, contrast=contrast, seed=1)
    assert x.shape == (12, 1, size, size) and x.dtype == torch.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert x.mean() > 0.1  # real anatomy, not a blank image
    assert (x.flatten(1).std(dim=1) > 0.1).all()


def test_same_seed_same_tensor_other_seed_differs():
    assert torch.equal(brain_slices(6, seed=5), brain_slices(6, seed=5))
    assert not torch.equal(brain_slices(6, seed=5), brain_slices(6, seed=6))
    assert torch.equal(brain_slices(4, contrast="t2", split="test", seed=2),
                       brain_slices(4, contrast="t2", split="test", seed=2))


def test_augmentation_varies_the_same_level():
    clean = brain_slices(200, augment=False, seed=0, return_meta=True)
    aug = brain_slices(200, augment=True, seed=0, return_meta=True)
    # Without augmentation two draws of the same level are identical; with it they are not.
    levels = clean[1]["z_mm"]
    i, j = [k for k in range(200) if levels[k] == levels[0]][:2]
    assert torch.equal(clean[0][i], clean[0][j])
    assert (aug[0][1:] - aug[0][:1]).abs().flatten(1).mean(dim=1).min() > 1e-3


def test_splits_are_disjoint_with_a_guard_gap():
    splits = {name: level_ids(name) for name in ("train", "val", "test")}
    assert len(splits["train"]) > 2 * (len(splits["val"]) + len(splits["test"]))
    assert len(splits["val"]) == len(splits["test"]) > 0
    n_levels = len(_template()["z_mm"])
    for a, b in [("train", "val"), ("train", "test"), ("val", "test")]:
        # ≥ 3 levels (1 mm each) between any two splits: 2.1 mm with the ±0.45 mm level jitter
        assert np.abs(splits[a][:, None] - splits[b][None, :]).min() >= 3, (a, b)
    # validation and test levels both cover every quarter of the brain
    for name in ("val", "test"):
        bands = set((splits[name] / (n_levels - 1) * len(LEVEL_BANDS)).astype(int).clip(max=len(LEVEL_BANDS) - 1))
        assert bands == set(range(len(LEVEL_BANDS))), name


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_slices_of_different_splits_are_apart(split):
    _, meta = brain_slices(400, split=split, seed=5, return_meta=True)
    z = meta["z_mm"].numpy()
    for other in {"train", "val", "test"} - {split}:
        _, other_meta = brain_slices(400, split=other, seed=6, return_meta=True)
        assert np.abs(z[:, None] - other_meta["z_mm"].numpy()[None, :]).min() >= 2.1 - 1e-4, other


def test_validation_pairs_are_registered():
    t1, t2, meta = paired_brain_slices(6, split="val", seed=2, return_meta=True)
    assert torch.equal(t1, brain_slices(6, split="val", seed=2))
    assert torch.equal(t2, brain_slices(6, split="val", seed=2, contrast="t2"))
    assert set(np.rint(meta["level"].numpy() * (len(_template()["z_mm"]) - 1)).astype(int)) <= set(level_ids("val"))


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_meta_levels_belong_to_the_split(split):
    _, meta = brain_slices(300, split=split, seed=3, return_meta=True)
    n_levels = len(_template()["z_mm"])
    index = np.rint(meta["level"].numpy() * (n_levels - 1)).astype(int)
    assert set(index) <= set(level_ids(split))
    assert meta["band"].dtype == torch.int64 and set(meta["band"].tolist()) <= set(range(len(LEVEL_BANDS)))
    assert ((meta["level"] >= 0) & (meta["level"] <= 1)).all()
    z = _template()["z_mm"]
    assert ((meta["z_mm"] >= z[0]) & (meta["z_mm"] <= z[-1])).all()


def _brain_mask(x):
    return x[:, 0] > 0.15


def test_paired_slices_share_anatomy_unpaired_do_not():
    t1, t2 = paired_brain_slices(64, seed=4)
    u1, u2 = unpaired_brain_slices(64, seed=4)

    def iou(a, b):
        a, b = _brain_mask(a), _brain_mask(b)
        return ((a & b).flatten(1).sum(1) / (a | b).flatten(1).sum(1).clamp(min=1)).mean().item()

    assert iou(t1, t2) > 0.85
    assert iou(u1, u2) < iou(t1, t2) - 0.15
    assert not torch.equal(t1, t2)


def test_paired_equals_brain_slices_with_the_same_seed():
    t1, t2 = paired_brain_slices(5, seed=9, split="test")
    assert torch.equal(t1, brain_slices(5, seed=9, split="test"))
    assert torch.equal(t2, brain_slices(5, seed=9, split="test", contrast="t2"))


def test_unpaired_sets_use_disjoint_levels():
    _, _, m1, m2 = unpaired_brain_slices(400, seed=0, return_meta=True)
    n_levels = len(_template()["z_mm"])
    l1 = set(np.rint(m1["level"].numpy() * (n_levels - 1)).astype(int))
    l2 = set(np.rint(m2["level"].numpy() * (n_levels - 1)).astype(int))
    assert l1 and l2 and not (l1 & l2)
    assert set(level_ids("train")) >= l1 | l2


def test_t2_like_contrast_orders_tissues_like_t2():
    vol = _template()
    wm, gm, t1, t2 = vol["wm"], vol["gm"], vol["t1"], vol["t2"]
    csf = (t1 > 0) & (gm < 0.1) & (wm < 0.1)
    pure_wm, pure_gm = wm > 0.9, gm > 0.9
    # T2: CSF > GM > WM; T1 is the other way round for GM and WM
    assert t2[csf].mean() > t2[pure_gm].mean() > t2[pure_wm].mean()
    assert t1[pure_wm].mean() > t1[pure_gm].mean()
    assert t2[pure_wm].mean() == pytest.approx(T2_INTENSITY["wm"], abs=0.05)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=0), "n must be an int from 1 to"),
        (dict(n=-3), "n must be an int from 1 to"),
        (dict(n=2.5), "n must be an int from 1 to"),
        (dict(n=2, size=48), "size must be one of"),
        (dict(n=2, contrast="flair"), "contrast must be one of"),
        (dict(n=2, split="validation"), "split must be one of"),
        (dict(n=2, seed=-1), "seed must be"),
        (dict(n=2, lesion_prob=-0.1), r"lesion_prob must be a finite number in \[0, 1\] \(a probability\)"),
        (dict(n=2, lesion_prob=1.5), r"lesion_prob must be a finite number in \[0, 1\]"),
        (dict(n=2, lesion_prob=True), r"lesion_prob must be a finite number in \[0, 1\]"),
        (dict(n=2, lesion_prob="0.5"), r"lesion_prob must be a finite number in \[0, 1\]"),
    ],
)
def test_brain_slices_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):  # TypeError for the wrong kind (2.5, True, "0.5")
        brain_slices(**kwargs)


def test_paired_and_unpaired_bad_input():
    with pytest.raises(ValueError, match="n must be"):
        paired_brain_slices(0)
    with pytest.raises(ValueError, match="size must be"):
        unpaired_brain_slices(3, size=128)
    with pytest.raises(ValueError, match="lesion_prob"):
        paired_brain_slices(3, lesion_prob=2.0)
    with pytest.raises(ValueError, match="lesion_prob"):
        unpaired_brain_slices(3, lesion_prob=-1.0)


# --- synthetic white-matter lesions -----------------------------------------------------------

def test_no_lesions_leaves_every_call_as_it_was():
    images, meta = brain_slices(40, size=32, seed=3, return_meta=True)
    assert "lesion" not in meta and "lesion_mask" not in meta
    assert torch.equal(images, brain_slices(40, size=32, seed=3, lesion_prob=0.0))


@pytest.mark.parametrize("size", [32, 64])
def test_lesions_darken_t1_brighten_t2_inside_white_matter_only(size):
    t1, t2, meta = paired_brain_slices(120, size=size, seed=1, lesion_prob=1.0, return_meta=True)
    clean_t1, clean_t2 = paired_brain_slices(120, size=size, seed=1)
    mask, label = meta["lesion_mask"], meta["lesion"]
    assert mask.shape == t1.shape and mask.min() >= 0 and mask.max() <= 1
    assert label.float().mean() > 0.85  # slices without white matter (top, bottom) stay clean
    assert torch.equal(label.bool(), mask.flatten(1).amax(1) > 0)
    assert (mask.flatten(1).amax(1)[label.bool()] >= 0.5).all()  # every labelled lesion is visible
    core, outside = mask > 0.5, mask == 0
    assert (t1 - clean_t1)[core].mean() < -0.15 and (t2 - clean_t2)[core].mean() > 0.15
    assert torch.equal(t1[outside], clean_t1[outside]) and torch.equal(t2[outside], clean_t2[outside])
    # Lesions sit in the white matter: the clean T2-like image is dark (WM) under a lesion's core.
    assert clean_t2[core].median() < 0.5 * T2_INTENSITY["csf"]


def test_lesion_probability_seed_and_pairing():
    images, meta = brain_slices(400, size=32, seed=2, lesion_prob=0.3, return_meta=True)
    assert 0.2 < meta["lesion"].float().mean() < 0.36
    again, meta_again = brain_slices(400, size=32, seed=2, lesion_prob=0.3, return_meta=True)
    assert torch.equal(images, again) and torch.equal(meta["lesion_mask"], meta_again["lesion_mask"])
    _, meta_t2 = brain_slices(400, size=32, seed=2, contrast="t2", lesion_prob=0.3, return_meta=True)
    assert torch.equal(meta["lesion_mask"], meta_t2["lesion_mask"])  # the same lesions in both contrasts
    other = brain_slices(400, size=32, seed=3, lesion_prob=0.3, return_meta=True)[1]
    assert not torch.equal(meta["lesion"], other["lesion"])
    t1, t2, m1, m2 = unpaired_brain_slices(50, size=32, seed=0, lesion_prob=0.5, return_meta=True)
    assert m1["lesion_mask"].shape == t1.shape and m2["lesion_mask"].shape == t2.shape


# --- 2D toys ----------------------------------------------------------------------------------

def test_ring_gaussians():
    x, modes = ring_gaussians(4000, seed=1)
    assert x.shape == (4000, 2) and modes.shape == (8, 2)
    assert torch.allclose(modes.norm(dim=1), torch.ones(8), atol=1e-6)
    d, nearest = torch.cdist(x, modes).min(dim=1)
    assert d.max() < 5 * 0.01  # every sample within 5σ of a mode
    counts = torch.bincount(nearest, minlength=8)
    assert counts.min() > 4000 / 8 * 0.8  # equal weights
    assert torch.equal(ring_gaussians(10, seed=3).samples, ring_gaussians(10, seed=3).samples)


def test_grid_gaussians():
    x, modes = grid_gaussians(5000, seed=2)
    assert modes.shape == (25, 2)
    assert sorted(set(modes[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    d, nearest = torch.cdist(x, modes).min(dim=1)
    assert torch.bincount(nearest, minlength=25).min() > 5000 / 25 * 0.7
    offsets = x - modes[nearest]
    assert offsets.std().item() == pytest.approx(0.05, rel=0.05)


def test_banana_moments():
    x = banana(200_000, seed=0)
    # x₁ = u₁ ~ N(0, 1); x₂ = u₂ − u₁² − 1 has mean −2 and variance 1 + Var(u₁²) = 3
    assert x[:, 0].mean().item() == pytest.approx(0.0, abs=0.01)
    assert x[:, 1].mean().item() == pytest.approx(-2.0, abs=0.02)
    assert x[:, 1].var().item() == pytest.approx(3.0, rel=0.03)


@pytest.mark.parametrize("call", [lambda: ring_gaussians(0), lambda: grid_gaussians(10, std=0),
                                  lambda: banana(-1), lambda: ring_gaussians(5, k=0)])
def test_toys_bad_input(call):
    with pytest.raises(ValueError):
        call()


# --- MedMNIST loader --------------------------------------------------------------------------

def _write_medmnist(path, colour=False, multilabel=False):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in [("train", 10), ("val", 4), ("test", 6)]:
        shape = (n, 28, 28, 3) if colour else (n, 28, 28)
        arrays[f"{split}_images"] = rng.integers(0, 256, shape, dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, 2 if multilabel else 5, (n, 14 if multilabel else 1))
    np.savez(path, **arrays)
    return arrays


def test_load_medmnist_grey(tmp_path):
    arrays = _write_medmnist(tmp_path / "pneumoniamnist.npz")
    x, y = load_medmnist_npz(tmp_path / "pneumoniamnist.npz", "val")
    assert x.shape == (4, 1, 28, 28) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (4,) and y.dtype == torch.int64
    assert torch.allclose(x[:, 0] * 255, torch.from_numpy(arrays["val_images"]).float())


def test_load_medmnist_colour_multilabel(tmp_path):
    _write_medmnist(tmp_path / "c.npz", colour=True, multilabel=True)
    x, y = load_medmnist_npz(tmp_path / "c.npz", "train")
    assert x.shape == (10, 3, 28, 28) and y.shape == (10, 14)


def test_load_medmnist_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_medmnist_npz(tmp_path / "missing.npz", "train")
    bad = tmp_path / "bad.npz"
    bad.write_text("not an archive")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_medmnist_npz(bad, "train")
    np.savez(tmp_path / "nokeys.npz", images=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="keys .* missing"):
        load_medmnist_npz(tmp_path / "nokeys.npz", "test")
    np.savez(tmp_path / "float.npz", train_images=np.zeros((2, 4, 4)), train_labels=np.zeros((2, 1), int))
    with pytest.raises(ValueError, match="uint8"):
        load_medmnist_npz(tmp_path / "float.npz", "train")
    np.savez(tmp_path / "count.npz", train_images=np.zeros((2, 4, 4), np.uint8), train_labels=np.zeros((3, 1), int))
    with pytest.raises(ValueError, match="N = 2"):
        load_medmnist_npz(tmp_path / "count.npz", "train")
    _write_medmnist(tmp_path / "ok.npz")
    with pytest.raises(ValueError, match="split must be"):
        load_medmnist_npz(tmp_path / "ok.npz", "validation")


# --- offline ----------------------------------------------------------------------------------

def test_import_and_generate_with_networking_off():
    """Importing course_lib and generating every kind of data must not touch the network."""
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise RuntimeError("network access attempted")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        import course_lib, course_lib.data as data
        from course_lib import autoencoders, metrics, plotting, training
        data.brain_slices(4); data.paired_brain_slices(4, size=32); data.unpaired_brain_slices(4)
        data.ring_gaussians(10); data.grid_gaussians(10); data.banana(10)
        print("offline ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "offline ok" in result.stdout


def test_unpaired_lesions_in_one_domain_only():
    t1, t2, m1, m2 = unpaired_brain_slices(200, seed=3, lesion_prob=(0.0, 0.5), return_meta=True)
    assert "lesion" not in m1 and 60 <= int(m2["lesion"].sum()) <= 110
    plain_t1, plain_t2 = unpaired_brain_slices(200, seed=3)
    assert torch.equal(t1, plain_t1)  # the T1 set is the lesion-free one, slice for slice
    changed = (t2 != plain_t2).flatten(1).any(dim=1)
    assert torch.equal(changed, m2["lesion"].bool())  # only the slices with a lesion differ
    both = unpaired_brain_slices(50, seed=3, lesion_prob=0.3)
    assert torch.equal(torch.cat(both), torch.cat(unpaired_brain_slices(50, seed=3, lesion_prob=(0.3, 0.3))))


@pytest.mark.parametrize("bad", [(0.1,), (0.1, 0.2, 0.3), (0.1, 1.5), (-0.1, 0.0)])
def test_unpaired_lesion_prob_pair_is_validated(bad):
    with pytest.raises(ValueError, match="lesion_prob"):
        unpaired_brain_slices(4, seed=0, lesion_prob=bad)


def test_t2_white_matter_marks_white_matter_and_its_lesions():
    from course_lib.data import t2_white_matter

    t1, t2, meta = paired_brain_slices(40, seed=2, lesion_prob=1.0, return_meta=True)
    _, t2_clean = paired_brain_slices(40, seed=2)
    wm = t2_white_matter(t2_clean)
    assert wm.dtype == torch.bool and wm.shape == t2_clean.shape
    assert 0.1 < wm.float().mean() < 0.5  # a part of the slice, not none or all of it
    assert t2_clean[wm].mean() < 0.45 and t2_clean[~wm & (t2_clean > 0.2)].mean() > 0.45
    cores = meta["lesion_mask"] >= 0.5
    assert wm[cores].float().mean() > 0.6  # lesions sit in white matter (the box blurs its borders)
    has_core = cores.flatten(1).any(1)
    assert (wm & cores).flatten(1).any(1)[has_core].float().mean() > 0.9
    with pytest.raises(ValueError, match="t2"):
        t2_white_matter(t2_clean[:, 0])
    with pytest.raises(ValueError, match="odd"):
        t2_white_matter(t2_clean, size=4)


def test_toy_mixtures_refuse_bad_counts_and_seeds():
    for call, error, words in [
        (lambda: ring_gaussians(8, k=2.5), TypeError, "k must be an int from 1 to 100,000"),
        (lambda: ring_gaussians(8, k=0), ValueError, "k must be an int from 1 to 100,000"),
        (lambda: grid_gaussians(8, side=10**9), ValueError, "side must be an int from 1 to 316"),
        (lambda: banana(10**9), ValueError, "n must be an int from 1 to 100,000,000"),
        (lambda: banana(8, seed=-1), ValueError, "seed must be an int from 0"),
        (lambda: ring_gaussians(8, std=float("nan")), ValueError, "std must be a finite number > 0"),
        (lambda: brain_slices(10**9), ValueError, "n must be an int from 1 to 100,000,000"),
        (lambda: brain_slices(10**7), ValueError, "n is too large: 10,000,000 slices of 64 × 64 px would need"),
        (lambda: load_medmnist_npz(None, "train"), TypeError, "path must be a path"),
    ]:
        with pytest.raises(error, match=words):
            call()
