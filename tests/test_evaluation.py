"""Tests for course_lib.evaluation: each measure against a case with a known answer, and its reference-set logic."""

from __future__ import annotations

import pytest
import torch

from course_lib.data import brain_slices, paired_brain_slices
from course_lib.evaluation import (
    box_smooth, excess_area, rank_correlation,
    SliceFeatureNet, frechet_distance, lesion_signal, level_bins, level_coverage, level_histogram, mode_coverage,
    nearest_neighbour_mse, nearest_neighbour_ssim, nearest_neighbours, pixel_auroc, precision_recall, slice_features,
    train_feature_net, translation_scores,
)


def random_images(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_nearest_neighbours_finds_planted_copies():
    reference = random_images(200, 1, 16, 16, seed=8, dtype=torch.float32)
    planted = torch.tensor([17, 3, 150])
    queries = torch.cat([reference[planted], random_images(2, 1, 16, 16, seed=9, dtype=torch.float32)])
    distances, indices = nearest_neighbours(queries, reference, k=3)
    assert distances.shape == indices.shape == (5, 3) and indices.dtype == torch.long
    assert indices[:3, 0].tolist() == planted.tolist()
    assert torch.all(distances[:3, 0] == 0)  # exact copies are at distance exactly 0
    assert torch.all(distances[:, 1:] >= distances[:, :-1])  # sorted nearest first
    brute = torch.cdist(queries.flatten(1).double(), reference.flatten(1).double())
    assert torch.allclose(distances.double(), brute.gather(1, indices), atol=1e-5)
    assert torch.allclose(distances[:, 0].double(), brute.min(dim=1).values, atol=1e-5)


def test_nearest_neighbours_accepts_flat_queries_of_same_size():
    reference = random_images(10, 1, 4, 4)
    distances, indices = nearest_neighbours(reference[4:6].reshape(2, 16), reference)
    assert indices[:, 0].tolist() == [4, 5] and distances.shape == (2, 1)


def test_nearest_neighbour_ssim_finds_the_copy():
    reference = torch.rand(10, 1, 16, 16)
    images = torch.stack([reference[3], reference[7] * 0.0 + 0.5])
    scores = nearest_neighbour_ssim(images, reference)
    assert scores.shape == (2,) and torch.isclose(scores[0], torch.tensor(1.0)) and scores[1] < 0.5


def test_frechet_distance_matches_the_closed_form_for_gaussians():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200_000, 3, generator=g, dtype=torch.float64)
    b = torch.randn(200_000, 3, generator=g, dtype=torch.float64) * torch.tensor([1.0, 2.0, 0.5]) + torch.tensor([1.0, 0.0, -2.0])
    # Diagonal covariances: FD = ‖μ_a − μ_b‖² + Σ_i (σ_a,i − σ_b,i)² = 5 + (0 + 1 + 0.25).
    assert frechet_distance(a, b) == pytest.approx(6.25, abs=0.05)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(a[:1000], b[:1000]) > frechet_distance(a[:1000], a[1000:2000])


@pytest.mark.parametrize("a, b, match", [
    (torch.randn(10, 3), torch.randn(10, 4), "differ in width"),
    (torch.randn(10), torch.randn(10, 1), r"feature vectors of shape \(N, d\)"),
    (torch.randn(1, 3), torch.randn(10, 3), "at least 2 feature vectors"),
])
def test_frechet_distance_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        frechet_distance(a, b)



def test_mode_coverage_counts_as_in_the_papers():
    modes = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    std = 0.01
    samples = torch.tensor([[0.0, 0.02], [0.01, 0.0], [1.0, 0.029], [0.5, 0.5]])  # the last is far from all
    coverage = mode_coverage(samples, modes, std)
    assert coverage.modes == 2 and coverage.high_quality == pytest.approx(0.75) and coverage.n_modes == 3
    assert mode_coverage(torch.tensor([[0.0, 0.031]]), modes, std).modes == 0  # just outside 3σ


def test_translation_scores_of_a_perfect_translation():
    y = torch.rand(4, 1, 32, 32)
    scores = translation_scores(y, y)
    assert torch.all(scores["mae"] == 0) and torch.allclose(scores["ssim"], torch.ones(4))
    with pytest.raises(ValueError, match="must have the same shape"):
        translation_scores(y, y[:3])


def test_lesion_signal_sign_and_size():
    without = torch.full((2, 1, 32, 32), 0.5)
    mask = torch.zeros(2, 1, 32, 32)
    mask[:, :, 14:18, 14:18] = 1.0
    mask[:, :, 13, 14:18] = 0.3  # the soft edge is not part of the core
    with_lesion = without.clone()
    with_lesion[0][mask[0] >= 0.5] = 0.2  # a dark lesion (T1)
    with_lesion[1][mask[1] >= 0.5] = 0.9  # a bright one (T2)
    with_lesion[:, :, 13] = 0.0
    assert lesion_signal(with_lesion, without, mask).tolist() == pytest.approx([-0.3, 0.4])
    assert lesion_signal(with_lesion, without, torch.zeros_like(mask)).isnan().all()  # no lesion: NaN, not 0
    with pytest.raises(ValueError, match="must have the same shape"):
        lesion_signal(with_lesion, without[:1], mask)


def test_lesion_signal_of_the_data_modules_lesions():
    t1, t2, meta = paired_brain_slices(20, seed=3, lesion_prob=1.0, return_meta=True)
    t1_clean, t2_clean = paired_brain_slices(20, seed=3)
    keep = meta["lesion"] == 1
    s1 = lesion_signal(t1[keep], t1_clean[keep], meta["lesion_mask"][keep])
    s2 = lesion_signal(t2[keep], t2_clean[keep], meta["lesion_mask"][keep])
    assert keep.sum() >= 15 and (s1 < -0.1).all() and (s2 > 0.1).all()  # hypointense in T1, hyperintense in T2


def test_nearest_neighbours_bad_arguments():
    reference = torch.rand(5, 1, 4, 4)
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbours(reference, reference, k=6)
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbours(reference, reference, k=0)
    with pytest.raises(ValueError, match="per-sample size"):
        nearest_neighbours(torch.rand(3, 1, 4, 5), reference)
    with pytest.raises(ValueError, match="floating-point"):
        nearest_neighbours(torch.zeros(3, 16, dtype=torch.long), reference)


def test_nearest_neighbour_mse_is_zero_for_copies_and_the_squared_distance_otherwise():
    reference = random_images(20, 1, 8, 8, seed=1)
    images = torch.cat([reference[[4]], reference[[9]] + 0.1])
    m = nearest_neighbour_mse(images, reference)
    assert m.shape == (2,) and m[0] == 0
    brute = ((images[1:] - reference) ** 2).flatten(1).mean(1).min()
    assert m[1] == pytest.approx(brute.item(), rel=1e-9)


def test_precision_recall_separates_fidelity_from_diversity():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(1000, 2, generator=g, dtype=torch.float64)
    same = torch.randn(1000, 2, generator=g, dtype=torch.float64)
    collapsed = 0.2 * torch.randn(1000, 2, generator=g, dtype=torch.float64)  # sharp, but one corner only
    spread = 3.0 * torch.randn(1000, 2, generator=g, dtype=torch.float64)  # covers everything, mostly off-manifold
    ok, narrow, wide = (precision_recall(real, f) for f in (same, collapsed, spread))
    assert ok.precision > 0.9 and ok.recall > 0.9
    assert narrow.precision > 0.95 and narrow.recall < 0.3  # real-looking samples, little diversity
    assert wide.precision < 0.6 and wide.recall > 0.9  # diverse samples, many of them unlike real ones
    shifted = precision_recall(real, same + 10.0)
    assert shifted.precision == 0 and shifted.recall == 0


def test_precision_recall_bad_input():
    real = torch.randn(10, 3)
    with pytest.raises(ValueError, match="differ in width"):
        precision_recall(real, torch.randn(10, 4))
    with pytest.raises(ValueError, match="at least 4 feature vectors"):
        precision_recall(real, torch.randn(3, 3))
    with pytest.raises(ValueError, match="k must be"):
        precision_recall(real, torch.randn(10, 3), k=0)
    with pytest.raises(ValueError, match="NaN"):
        precision_recall(real, torch.full((10, 3), float("nan")))


def test_slice_features_shape_and_64px_check():
    features = slice_features(SliceFeatureNet(width=4), torch.rand(7, 1, 64, 64))
    assert features.shape == (7, 32)
    with pytest.raises(ValueError, match=r"\(B, 1, 64, 64\)"):
        SliceFeatureNet().features(torch.rand(2, 3, 64, 64))


class _LevelOracle(SliceFeatureNet):
    """A 'feature network' whose level prediction is the mean brightness of the image, in 4 bins."""

    def __init__(self) -> None:
        super().__init__(width=4, n_levels=4)

    def forward(self, x):
        bins = (x.flatten(1).mean(1) * 4).long().clamp(0, 3)
        return torch.nn.functional.one_hot(bins, 4).float()


def test_level_coverage_counts_missing_levels_and_total_variation():
    levels = torch.tensor([0.1, 0.3, 0.6, 0.9]).repeat_interleave(25)  # a reference spread over the 4 bins
    reference = levels.view(-1, 1, 1, 1).expand(-1, 1, 64, 64).contiguous()
    oracle = _LevelOracle()
    assert torch.allclose(level_histogram(oracle, reference), torch.full((4,), 0.25, dtype=torch.float64))
    same = level_coverage(oracle, reference.flip(0), reference)
    assert same.total_variation == 0 and same.missing_bins == []
    two_bins = level_coverage(oracle, reference[:50], reference)  # only the two lowest bins
    assert two_bins.total_variation == pytest.approx(0.5) and two_bins.missing_bins == [2, 3]
    with pytest.raises(ValueError, match="min_share"):
        level_coverage(oracle, reference, reference, min_share=0)
    with pytest.raises(TypeError, match="floating-point"):
        level_coverage(oracle, reference.long(), reference)


def test_held_out_levels_are_a_different_population_from_the_training_levels():
    # The lesson of the reference set, in pixels: fresh training-level slices sit nearer the
    # training set than held-out-level slices do, so held-out slices are the wrong memorisation yardstick.
    train = brain_slices(400, size=64, seed=0)
    fresh = nearest_neighbour_mse(brain_slices(100, size=64, seed=11), train).median()
    held_out = nearest_neighbour_mse(brain_slices(100, size=64, split="test", seed=11), train).median()
    assert held_out > 1.2 * fresh


# --- pixel_auroc --------------------------------------------------------------------------------

def _brute_auroc(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """P(lesion score > healthy score) + ½ P(tie), over every (lesion, healthy) pixel pair."""
    pos, neg = scores[positive].double(), scores[~positive].double()
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).double().sum() + 0.5 * (diff == 0).double().sum()).item() / diff.numel()


def test_pixel_auroc_extremes():
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, 2:5, 3:6] = 1.0
    assert pixel_auroc(mask + 0.1 * random_images(2, 1, 8, 8), mask) == 1.0  # perfect separation
    assert pixel_auroc(-mask, mask) == 0.0  # reversed
    assert pixel_auroc(torch.full_like(mask, 0.3), mask) == 0.5  # constant scores: all ties


def test_pixel_auroc_is_the_pairwise_count_with_ties():
    g = torch.Generator().manual_seed(5)
    scores = torch.randint(0, 4, (2, 1, 5, 5), generator=g).float()  # few levels: many ties
    mask = torch.rand(2, 1, 5, 5, generator=g)
    assert pixel_auroc(scores, mask) == pytest.approx(_brute_auroc(scores, mask >= 0.5), abs=1e-12)


def test_pixel_auroc_soft_mask_threshold_and_region():
    scores = random_images(1, 1, 6, 6, seed=2)
    mask = torch.zeros(1, 1, 6, 6)
    mask[..., 1:3, 1:3] = 0.5  # ≥ 0.5 counts as lesion
    mask[..., 4, :] = 0.49  # a soft edge below 0.5 does not
    assert pixel_auroc(scores, mask) == pytest.approx(_brute_auroc(scores, mask >= 0.5), abs=1e-12)
    region = torch.zeros(1, 1, 6, 6, dtype=torch.bool)
    region[..., :4, :4] = True
    background = scores.clone()
    background[~region] = -1.0  # easy background outside the region: no credit for it
    restricted = pixel_auroc(background, mask, region)
    assert restricted == pytest.approx(_brute_auroc(scores[region], (mask >= 0.5)[region]), abs=1e-12)
    assert restricted != pytest.approx(pixel_auroc(background, mask))


def test_pixel_auroc_bad_input():
    scores = torch.rand(1, 1, 4, 4)
    with pytest.raises(ValueError, match="both lesion and healthy"):
        pixel_auroc(scores, torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="both lesion and healthy"):
        pixel_auroc(scores, torch.ones(1, 1, 4, 4))
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 0, 0] = 1.0
    region = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    region[..., 2:, 2:] = True  # a region without the lesion pixel
    with pytest.raises(ValueError, match="both lesion and healthy"):
        pixel_auroc(scores, mask, region)
    with pytest.raises(TypeError, match="region must be a boolean"):
        pixel_auroc(scores, mask, region.float())
    with pytest.raises(ValueError, match="same shape"):
        pixel_auroc(scores, mask, region[..., :2])
    with pytest.raises(ValueError, match="same shape"):
        pixel_auroc(scores, mask[..., :2])
    with pytest.raises(ValueError, match="scores must"):
        pixel_auroc(scores[0], mask[0])


def test_box_smooth_averages_the_box_inside_the_image():
    """A single bright pixel spreads to its 3 × 3 box with weight 1/9 inside, 1/6 on an edge, 1/4 in a corner."""
    maps = torch.zeros(1, 1, 5, 5)
    maps[..., 2, 2] = 9.0
    smoothed = box_smooth(maps, 3)
    assert torch.allclose(smoothed[0, 0, 1:4, 1:4], torch.ones(3, 3)) and smoothed[0, 0, 0].abs().sum() == 0
    corner = torch.zeros(1, 1, 4, 4)
    corner[..., 0, 0] = 4.0
    assert box_smooth(corner, 3)[0, 0, 0, 0] == pytest.approx(1.0)  # the corner's box holds 4 pixels
    assert torch.equal(box_smooth(maps, 1), maps)
    with pytest.raises(ValueError, match="size must be odd"):
        box_smooth(maps, 2)
    with pytest.raises(ValueError, match="size must be"):
        box_smooth(maps, 7)
    with pytest.raises(ValueError, match="maps must be"):
        box_smooth(maps[0], 3)


# --- rank_correlation ------------------------------------------------------------------------------

def test_rank_correlation_of_monotone_relations():
    a = torch.linspace(-2, 3, 25)
    assert rank_correlation(a, a.exp()) == pytest.approx(1.0)  # nonlinear but increasing: ρ = 1
    assert rank_correlation(a, a**3 + a) == pytest.approx(1.0)
    assert rank_correlation(a, -a.exp()) == pytest.approx(-1.0)
    assert rank_correlation(a, a.flip(0)) == pytest.approx(-1.0)
    value = rank_correlation(a[:2], a[:2] * 10)
    assert isinstance(value, float) and value == pytest.approx(1.0)  # two points are enough


def test_rank_correlation_matches_scipy():
    from scipy.stats import spearmanr

    g = torch.Generator().manual_seed(5)
    a = torch.randn(40, generator=g)
    b = a + 2 * torch.randn(40, generator=g)
    expected = spearmanr(a.numpy(), b.numpy()).statistic
    assert rank_correlation(a, b) == pytest.approx(expected, rel=1e-10)
    assert rank_correlation(b, a) == pytest.approx(expected, rel=1e-10)
    assert rank_correlation(a.exp(), 3 * b - 1) == pytest.approx(expected, rel=1e-10)  # ranks only
    ties = torch.randint(4, (30,), generator=g).double()  # ties share their mean rank
    c = torch.randn(30, generator=g, dtype=torch.float64)
    assert rank_correlation(ties, c) == pytest.approx(spearmanr(ties.numpy(), c.numpy()).statistic, rel=1e-10)


def test_rank_correlation_takes_tensors_that_require_grad():
    a = torch.linspace(0, 1, 6, requires_grad=True)
    assert rank_correlation(a, a.detach() ** 2) == pytest.approx(1.0)


def test_rank_correlation_errors():
    a = torch.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="must each vary"):
        rank_correlation(a, torch.full((5,), 2.0))
    with pytest.raises(ValueError, match="must each vary"):
        rank_correlation(torch.zeros(5), a)
    with pytest.raises(ValueError, match="at least two"):
        rank_correlation(a, a[:4])
    with pytest.raises(ValueError, match="at least two"):
        rank_correlation(a[:1], a[:1])
    with pytest.raises(ValueError, match="at least two"):
        rank_correlation(a[:0], a[:0])
    with pytest.raises(ValueError, match="finite"):
        rank_correlation(torch.tensor([0.0, float("nan"), 1.0]), torch.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="finite"):
        rank_correlation(a, torch.tensor([0.0, 1.0, float("inf"), 2.0, 3.0]))
    with pytest.raises(ValueError, match="b must"):
        rank_correlation(a, a[None])
    with pytest.raises(TypeError, match="a must"):
        rank_correlation([0.0, 1.0], torch.tensor([0.0, 1.0]))


# --- excess_area -----------------------------------------------------------------------------------

def _blob(value: float, size: int = 3, image: int = 11) -> torch.Tensor:
    """One image with a size × size square of ``value`` in the middle, zero elsewhere."""
    out = torch.zeros(1, 1, image, image)
    start = (image - size) // 2
    out[..., start:start + size, start:start + size] = value
    return out


def test_excess_area_of_a_bright_blob():
    """A 3 × 3 blob of +0.5: a pixel's 3 × 3 box overlaps it in k = (rows in common) × (columns in common)
    pixels, each factor 1, 2, 3, 2, 1 across the blob; the box mean is 0.5·k/9. Above 0.2 needs k ≥ 4,
    i.e. both factors ≥ 2: 3 × 3 = 9 pixels. Above 0.3 needs k ≥ 6: the centre and its 4 neighbours."""
    blob, reference = _blob(0.5), torch.zeros(1, 1, 11, 11)
    area = excess_area(blob, reference, 0.2)
    assert area.shape == (1,) and area.item() == 9
    assert excess_area(blob, reference, 0.3).item() == 5
    assert excess_area(blob, reference, 0.6).item() == 0  # the blob is never 0.6 above the reference
    assert excess_area(blob + 0.3, reference + 0.3, 0.2).item() == 9  # only the difference counts
    assert excess_area(blob, reference, 0.2, size=1).item() == 9  # no box: the blob's own pixels


def test_excess_area_ignores_single_pixels_and_dark_blobs():
    single = torch.zeros(1, 1, 11, 11)
    single[..., 5, 5] = 0.5  # averaged over its box: 0.5/9 ≈ 0.056
    reference = torch.zeros(1, 1, 11, 11)
    assert excess_area(single, reference, 0.2).item() == 0
    assert excess_area(single, reference, 0.05).item() == 9  # every pixel whose box holds it
    assert excess_area(single, reference, 0.2, size=1).item() == 1  # without the box it counts
    dark = _blob(-0.5)
    assert excess_area(dark, reference, 0.2).item() == 0
    assert excess_area(-dark, -reference, 0.2).item() == 9  # negated: dark blobs are counted
    assert excess_area(reference, _blob(0.5), 0.2).item() == 0  # a blob the image lacks is no excess


def test_excess_area_per_image():
    """A 5 × 5 blob: factors 1, 2, 3, 3, 3, 2, 1; k ≥ 4 needs both factors ≥ 2: 5 × 5 = 25 pixels."""
    images = torch.cat([_blob(0.5), torch.zeros(1, 1, 11, 11), _blob(0.5, size=5)])
    area = excess_area(images, torch.zeros_like(images), 0.2)
    assert area.tolist() == [9, 0, 25]


def test_excess_area_errors():
    images = torch.zeros(2, 1, 8, 8)
    with pytest.raises(ValueError, match="same shape"):
        excess_area(images, images[:1], 0.2)
    with pytest.raises(ValueError, match="same shape"):
        excess_area(images, torch.zeros(2, 1, 8, 9), 0.2)
    for threshold in (0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="threshold"):
            excess_area(images, images, threshold)
    with pytest.raises(ValueError, match="images must"):
        excess_area(images[0], images[0], 0.2)
    with pytest.raises(ValueError, match="finite"):
        excess_area(torch.full((1, 1, 4, 4), float("nan")), torch.zeros(1, 1, 4, 4), 0.2)
    with pytest.raises(ValueError, match="size must be odd"):
        excess_area(images, images, 0.2, size=2)


def test_excess_area_counts_only_inside_the_region():
    images = torch.zeros(2, 1, 16, 16)
    images[:, :, 4:7, 4:7] = 0.5  # a bright 3 × 3 blob
    reference = torch.zeros_like(images)
    region = torch.zeros_like(images, dtype=torch.bool)
    region[0, :, :8, :8] = True  # the first image's region holds the blob, the second's is empty
    area = excess_area(images, reference, 0.2, region=region)
    assert area[0] == excess_area(images, reference, 0.2)[0] and area[1] == 0
    with pytest.raises(TypeError, match="region"):
        excess_area(images, reference, 0.2, region=region.float())
    with pytest.raises(ValueError, match="region"):
        excess_area(images, reference, 0.2, region=region[:, :, :8])


# Issue 27: NaN samples, empty sets, meta tensors and bad counts are refused before any work starts.

def test_mode_coverage_refuses_nonfinite_samples_instead_of_counting_misses():
    samples, modes = torch.randn(20, 2), torch.randn(3, 2)
    bad = samples.clone()
    bad[4, 0] = float("nan")
    with pytest.raises(ValueError, match="samples must be finite"):
        mode_coverage(bad, modes, 0.1)
    with pytest.raises(ValueError, match="modes must be finite"):
        mode_coverage(samples, modes.clone().fill_(float("inf")), 0.1)
    with pytest.raises(ValueError, match="at least one sample"):
        mode_coverage(samples[:0], modes, 0.1)
    with pytest.raises(TypeError, match="modes must be a floating-point"):
        mode_coverage(samples, modes.long(), 0.1)
    with pytest.raises(TypeError, match="std must be a finite number"):
        mode_coverage(samples, modes, "0.1")
    with pytest.raises(ValueError, match="std must be a finite number > 0"):
        mode_coverage(samples, modes, float("inf"))
    with pytest.raises(ValueError, match="must hold values"):
        mode_coverage(samples.to("meta"), modes, 0.1)


def test_set_measures_refuse_nonfinite_and_empty_sets():
    images, reference = torch.rand(3, 1, 16, 16), torch.rand(5, 1, 16, 16)
    bad = reference.clone()
    bad[2, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="reference must be finite"):
        nearest_neighbours(images, bad)
    with pytest.raises(ValueError, match="reference must be finite"):
        nearest_neighbour_ssim(images, bad)
    with pytest.raises(ValueError, match="reference must be finite"):
        nearest_neighbour_mse(images, bad)
    with pytest.raises(ValueError, match="images must hold at least one sample"):
        nearest_neighbour_mse(images[:0], reference)
    with pytest.raises(ValueError, match="must hold values"):
        frechet_distance(torch.randn(10, 3).to("meta"), torch.randn(10, 3))
    with pytest.raises(TypeError, match="k must be a positive int"):
        precision_recall(torch.randn(8, 3), torch.randn(8, 3), k="3")
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, 2:5, 2:5] = 1.0
    mask[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="lesion_mask must be finite"):
        lesion_signal(torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), mask)
    with pytest.raises(ValueError, match="lesion_mask must be finite"):
        pixel_auroc(torch.rand(2, 1, 8, 8), mask)
    with pytest.raises(ValueError, match="maps must be finite"):
        box_smooth(torch.full((1, 1, 8, 8), float("inf")))
    with pytest.raises(ValueError, match="outputs must be finite"):
        translation_scores(torch.full((1, 1, 16, 16), float("nan")), torch.rand(1, 1, 16, 16))


def test_feature_network_and_its_users_check_their_arguments():
    with pytest.raises(ValueError, match="n_levels must be an int from 2"):
        SliceFeatureNet(width=2, n_levels=0)
    with pytest.raises(TypeError, match="width must be an int"):
        SliceFeatureNet(width=None)
    with pytest.raises(ValueError, match="width is too large"):
        SliceFeatureNet(width=10**6)
    model = SliceFeatureNet(width=2, n_levels=4)
    x = torch.rand(3, 1, 64, 64)
    with pytest.raises(TypeError, match="convert it with"):
        slice_features(model, x.double())
    with pytest.raises(ValueError, match="x must be finite"):
        level_histogram(model, x.clone().fill_(float("nan")))
    with pytest.raises(ValueError, match="at least one sample"):
        model(x[:0])
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        slice_features(None, x)
    with pytest.raises(TypeError, match="level must be a floating-point"):
        level_bins(torch.tensor([0, 1]), 4)
    with pytest.raises(ValueError, match="level must be finite"):
        level_bins(torch.tensor([0.5, float("nan")]), 4)
    with pytest.raises(ValueError, match="n_levels must be an int from 1"):
        level_bins(torch.tensor([0.5]), 0)
    before = [p.detach().clone() for p in model.parameters()]
    level = torch.tensor([0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="x must be finite"):
        train_feature_net(model, x.clone().fill_(float("nan")), level, epochs=1, progress=False)
    with pytest.raises(ValueError, match="level must hold one relative level per slice"):
        train_feature_net(model, x, level[:2], epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be an int from 1 to 100,000"):
        train_feature_net(model, x, level, epochs=10**9, progress=False)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        train_feature_net(model, x, level, epochs=1, lr=0.0, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
