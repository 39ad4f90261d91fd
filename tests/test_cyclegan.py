"""course_lib.cyclegan: the losses against closed forms, the networks' shapes, the baselines and
evaluation helpers, short training runs, and the bad inputs each public function rejects."""

import copy

import pytest
import torch

from course_lib.cyclegan import (
    CycleGAN, ImagePool, PatchDiscriminator, Pix2Pix, ResnetGenerator, cycle_consistency_loss, cyclegan_discriminator_step,
    cyclegan_generator_step, histogram_match, identity_loss, lsgan_discriminator_loss,
    lsgan_generator_loss, pix2pix_step, train_cyclegan, train_pix2pix, translate,
)
from course_lib.data import paired_brain_slices, unpaired_brain_slices
from course_lib.layers import downsampling_convs, upsampling_convs
from course_lib.recipes import translation as recipes05
from course_lib.training import NonFiniteLossError, single_threaded


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _tiny(cls=CycleGAN):
    return cls(width=4, n_blocks=1, d_width=4)


# --- losses ------------------------------------------------------------------------------------

def test_lsgan_losses_closed_forms():
    real, fake = torch.full((2, 1, 3, 3), 0.5), torch.full((3, 1, 3, 3), 0.25)
    # ½(0.5 − 1)² + ½·0.25² = 0.125 + 0.03125
    assert lsgan_discriminator_loss(real, fake).item() == pytest.approx(0.15625)
    assert lsgan_generator_loss(fake).item() == pytest.approx(0.5625)  # (0.25 − 1)²
    # The optimum: real scored 1, fake 0 → D's loss is 0; fakes scored 1 → G's loss is 0.
    assert lsgan_discriminator_loss(torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)).item() == 0
    assert lsgan_generator_loss(torch.ones(4, 1, 2, 2)).item() == 0


def test_lsgan_generator_gradient_does_not_saturate():
    """Unlike the minimax loss, the least-squares G loss pushes hardest where D rejects hardest."""
    scores = torch.tensor([-2.0, 0.0, 0.9], requires_grad=True)
    (grad,) = torch.autograd.grad(lsgan_generator_loss(scores.view(3, 1)), scores)
    assert torch.allclose(grad, 2 * (scores.detach() - 1) / 3)
    assert grad.abs().argmax() == 0


def test_cycle_and_identity_losses_closed_forms():
    x, y = torch.zeros(2, 1, 4, 4), torch.ones(2, 1, 4, 4)
    assert cycle_consistency_loss(x, x + 0.1, y, y - 0.3).item() == pytest.approx(0.4)
    assert identity_loss(x, x + 0.2, y, y + 0.05).item() == pytest.approx(0.25)
    assert cycle_consistency_loss(x, x, y, y).item() == 0


@pytest.mark.parametrize("call", [
    lambda: lsgan_discriminator_loss(torch.zeros(2, 1, 3, 3), torch.zeros(2, 1, 4, 4)),
    lambda: lsgan_generator_loss(torch.zeros(0, 1, 3, 3)),
    lambda: cycle_consistency_loss(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 4, 4), torch.zeros(1, 1, 4, 4),
                                   torch.zeros(1, 1, 4, 4)),
    lambda: identity_loss(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8), torch.zeros(3, 1, 8, 8),
                          torch.zeros(2, 1, 8, 8)),
])
def test_losses_reject_mismatched_shapes(call):
    with pytest.raises(ValueError, match="shape"):
        call()


def test_losses_reject_integer_scores():
    with pytest.raises(TypeError, match="floating-point"):
        lsgan_generator_loss(torch.ones(2, 1, 3, 3, dtype=torch.long))


# --- networks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [32, 64])
def test_generator_keeps_shape_and_range(size):
    out = ResnetGenerator(width=4, n_blocks=1)(torch.rand(2, 1, size, size))
    assert out.shape == (2, 1, size, size)
    assert 0 <= out.min() and out.max() <= 1


def test_patch_discriminator_scores_6x6_patches_of_a_64px_slice():
    assert PatchDiscriminator(1, 4)(torch.rand(3, 1, 64, 64)).shape == (3, 1, 6, 6)
    assert PatchDiscriminator(2, 4)(torch.rand(3, 2, 64, 64)).shape == (3, 1, 6, 6)
    assert PatchDiscriminator(1, 4)(torch.rand(3, 1, 32, 32)).shape == (3, 1, 2, 2)


@pytest.mark.parametrize("shape, words", [
    ((2, 3, 64, 64), "(B, 1, S, S)"),  # RGB instead of one MR channel
    ((2, 64, 64), "(B, 1, S, S)"),  # channel axis missing
    ((2, 1, 64, 48), "square"),
    ((2, 1, 30, 30), "multiple of 4"),
    ((2, 1, 28, 28), "at least 32"),
])
def test_generator_rejects_bad_slices(shape, words):
    with pytest.raises(ValueError) as info:
        ResnetGenerator(4, 1)(torch.rand(shape))
    assert words in str(info.value)


def test_discriminators_reject_wrong_channel_counts():
    with pytest.raises(ValueError, match=r"\(B, 2, S, S\)"):
        PatchDiscriminator(2, 4)(torch.rand(2, 1, 64, 64))
    with pytest.raises(ValueError, match=r"\(B, 1, S, S\)"):
        PatchDiscriminator(1, 4)(torch.rand(2, 2, 64, 64))


def test_generator_rejects_integer_images():
    with pytest.raises(TypeError, match="floating-point"):
        ResnetGenerator(4, 1)(torch.zeros(2, 1, 64, 64, dtype=torch.uint8))


@pytest.mark.parametrize("kwargs, error", [({"width": 0}, ValueError), ({"n_blocks": -1}, ValueError),
                                           ({"width": 2.5}, TypeError)])
def test_generator_rejects_bad_sizes(kwargs, error):
    with pytest.raises(error):
        ResnetGenerator(**kwargs)


# --- steps and training ------------------------------------------------------------------------

def test_generator_step_moves_only_the_generators_and_returns_detached_fakes():
    model = _tiny()
    x, y = torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    d_before = [p.detach().clone() for p in model.discriminator_parameters()]
    g_before = [p.detach().clone() for p in model.generator_parameters()]
    opt = torch.optim.Adam(model.generator_parameters(), lr=1e-2)
    out = cyclegan_generator_step(model, opt, x, y)
    assert all(torch.equal(a, b) for a, b in zip(d_before, model.discriminator_parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, model.generator_parameters()))
    assert not out.fake_x.requires_grad and not out.fake_y.requires_grad
    assert set(out.losses) == {"g_adversarial", "cycle", "identity", "g_total"}
    total = out.losses["g_adversarial"] + 10 * out.losses["cycle"] + 5 * out.losses["identity"]
    assert out.losses["g_total"] == pytest.approx(total, rel=1e-5)


def test_discriminator_step_moves_only_the_discriminators():
    model = _tiny()
    x, y = torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    g_before = [p.detach().clone() for p in model.generator_parameters()]
    d_before = [p.detach().clone() for p in model.discriminator_parameters()]
    with torch.no_grad():
        fake_x, fake_y = model.F(y), model.G(x)
    opt = torch.optim.Adam(model.discriminator_parameters(), lr=1e-2)
    losses = cyclegan_discriminator_step(model, opt, x, y, fake_x, fake_y)
    assert set(losses) == {"d_x", "d_y"}
    assert all(torch.equal(a, b) for a, b in zip(g_before, model.generator_parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, model.discriminator_parameters()))


def test_train_cyclegan_lowers_the_cycle_loss():
    x, y = unpaired_brain_slices(32, size=32, seed=0)
    model = _tiny()
    history = train_cyclegan(model, x, y, epochs=4, batch_size=8, lr=2e-3, progress=False)
    assert len(history["cycle"]) == 4
    assert history["cycle"][-1] < 0.7 * history["cycle"][0]
    assert not model.training


def test_train_cyclegan_gives_the_discriminators_their_own_learning_rate(monkeypatch):
    """d_lr sets D's Adam rate; both rates follow the same hold-then-decay schedule."""
    import course_lib.cyclegan as cyclegan_module

    made, seen = [], []
    original_adam = cyclegan_module._adam
    monkeypatch.setattr(cyclegan_module, "_adam", lambda params, lr: made.append(original_adam(params, lr)) or made[-1])
    x, y = unpaired_brain_slices(16, size=32, seed=0)
    model = _tiny()
    model.D_X.register_forward_pre_hook(lambda *_: seen.append([opt.param_groups[0]["lr"] for opt in made]))
    train_cyclegan(model, x, y, epochs=4, batch_size=16, lr=4e-4, d_lr=1e-4, progress=False)
    g_rates, d_rates = zip(*seen[::3])  # D_X runs three times per round (G's step, then D's step on real and fake)
    assert g_rates[:2] == (4e-4, 4e-4) and d_rates[:2] == (1e-4, 1e-4)  # held for half the epochs
    assert [g / d for g, d in zip(g_rates, d_rates)] == pytest.approx([4.0] * 4)  # then decayed together
    assert g_rates[3] < g_rates[2] < g_rates[1]
    with pytest.raises(ValueError, match="d_lr must be a finite number > 0"):
        train_cyclegan(_tiny(), x, y, epochs=1, d_lr=0.0, progress=False)


def test_naive_gan_is_cyclegan_without_the_cycle_and_identity_weights():
    x, y = unpaired_brain_slices(16, size=32, seed=0)
    a, b = _tiny(), _tiny()
    b.load_state_dict(a.state_dict())
    train_cyclegan(a, x, y, epochs=1, batch_size=8, lambda_cyc=0, lambda_id=0, progress=False)
    train_cyclegan(b, x, y, epochs=1, batch_size=8, progress=False)
    assert not torch.allclose(a.G(x[:2]), b.G(x[:2]))  # the cycle/identity terms change G's update


def _same(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a, b))


def test_ema_decay_averages_the_generators_and_leaves_the_game_unchanged():
    x, y = unpaired_brain_slices(16, size=32, seed=0)
    plain, averaged = _tiny(), _tiny()
    averaged.load_state_dict(plain.state_dict())
    train_cyclegan(plain, x, y, epochs=2, batch_size=8, progress=False)
    train_cyclegan(averaged, x, y, epochs=2, batch_size=8, ema_decay=0.5, progress=False)
    # D_X and D_Y played against the same generators; only the returned G and F differ.
    assert _same(plain.discriminator_parameters(), averaged.discriminator_parameters())
    assert not _same(plain.G.parameters(), averaged.G.parameters())
    assert not _same(plain.F.parameters(), averaged.F.parameters())
    paired_plain, paired_averaged = _tiny(Pix2Pix), _tiny(Pix2Pix)
    paired_averaged.load_state_dict(paired_plain.state_dict())
    train_pix2pix(paired_plain, x, y, epochs=2, batch_size=8, progress=False)
    train_pix2pix(paired_averaged, x, y, epochs=2, batch_size=8, ema_decay=0.5, progress=False)
    assert _same(paired_plain.D.parameters(), paired_averaged.D.parameters())
    assert not _same(paired_plain.G.parameters(), paired_averaged.G.parameters())
    with pytest.raises(ValueError, match=r"ema_decay must be a finite number in \(0, 1\)"):
        train_cyclegan(_tiny(), x, y, epochs=1, ema_decay=1.0, progress=False)
    with pytest.raises(ValueError, match=r"ema_decay must be a finite number in \(0, 1\)"):
        train_pix2pix(_tiny(Pix2Pix), x, y, epochs=1, ema_decay=0, progress=False)


def test_train_cyclegan_rejects_unequal_sets_and_nan_data():
    x, y = unpaired_brain_slices(16, size=32, seed=0)
    with pytest.raises(ValueError, match="same number"):
        train_cyclegan(_tiny(), x, y[:8], epochs=1, progress=False)
    corrupted = x.clone()
    corrupted[3] = float("nan")  # one broken slice: refused before training starts
    model = _tiny()
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match="x_train must be finite"):
        train_cyclegan(model, corrupted, y, epochs=1, batch_size=16, progress=False)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_train_cyclegan_stops_on_a_nonfinite_loss_mid_training():
    """Finite data, a model that diverges: the step's guard still stops it with NonFiniteLossError."""
    x, y = unpaired_brain_slices(16, size=32, seed=0)
    model = _tiny()
    model.D_Y.register_forward_hook(lambda _m, _i, out: out * float("nan"))
    with pytest.raises(NonFiniteLossError, match="step 1"):
        train_cyclegan(model, x, y, epochs=1, batch_size=16, progress=False)


def test_pix2pix_learns_the_pairs_and_needs_them():
    x, y = paired_brain_slices(32, size=32, seed=0)
    model = _tiny(Pix2Pix)
    history = train_pix2pix(model, x, y, epochs=4, batch_size=8, lr=2e-3, progress=False)
    assert history["l1"][-1] < 0.6 * history["l1"][0]
    opts = [torch.optim.Adam(model.G.parameters()), torch.optim.Adam(model.D.parameters())]
    with pytest.raises(ValueError, match="registered pairs"):
        pix2pix_step(model, *opts, x[:4], y[:3])
    with pytest.raises(ValueError, match="registered pairs"):
        train_pix2pix(model, x, y[:16], epochs=1, progress=False)


# --- baselines and evaluation ------------------------------------------------------------------

def test_histogram_match_reproduces_the_reference_histogram_and_keeps_the_order():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(3, 1, 32, 32, generator=g)
    reference = torch.rand(5, 1, 32, 32, generator=g) ** 3  # a skewed target histogram
    matched = histogram_match(images, reference)
    for i in range(3):
        order = images[i].flatten().argsort()
        assert (matched[i].flatten()[order].diff() >= 0).all()  # monotone: no order reversal
        q = torch.linspace(0.05, 0.95, 7)
        assert torch.allclose(matched[i].flatten().quantile(q), reference.flatten().quantile(q), atol=0.03)


def test_histogram_match_cannot_invert_contrast():
    """T1 → T2 needs dark ↔ bright; a monotone map cannot do it: matching x to the histogram of
    1 − x returns (nearly) x itself, not 1 − x."""
    x = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    matched = histogram_match(x, 1 - x)
    assert (matched - x).abs().max() < 0.08  # x again, up to the sampling error of two histograms
    assert (matched - (1 - x)).abs().mean() > 0.2


def test_translate_is_batched_and_gradient_free():
    g = ResnetGenerator(4, 1)
    x = torch.rand(5, 1, 32, 32)
    out = translate(g, x, batch_size=2)
    assert out.shape == x.shape and not out.requires_grad
    assert torch.allclose(out, g.eval()(x), atol=1e-6)


def test_image_pool_fills_then_serves_old_fakes_half_the_time():
    pool = ImagePool(4, torch.Generator().manual_seed(0))
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling up: the new fakes pass through
    served_old = 0
    for k in range(200):
        batch = torch.full((4, 1, 1, 1), 10.0 + k)
        out = pool.query(batch)
        assert out.shape == batch.shape
        served_old += int((out != batch).sum())
    assert 0.4 < served_old / 800 < 0.6  # each fake is swapped for an older one with probability ½
    assert len(pool.images) == 4 and all(img.item() >= 10 for img in pool.images)  # the first batch was replaced
    assert torch.equal(ImagePool(0).query(first), first)
    with pytest.raises(ValueError, match="non-negative"):
        ImagePool(-1)


# --- zero-weighted terms are skipped -----------------------------------------------------------

def _generator_passes(model, step):
    calls = []
    hooks = [net.register_forward_hook(lambda *_: calls.append(1)) for net in (model.G, model.F)]
    try:
        step()
    finally:
        for hook in hooks:
            hook.remove()
    return len(calls)


@pytest.mark.parametrize("lambdas, passes, keys", [
    ((10.0, 5.0), 6, {"g_adversarial", "cycle", "identity", "g_total"}),
    ((10.0, 0.0), 4, {"g_adversarial", "cycle", "g_total"}),      # the shipped CycleGAN
    ((0.0, 0.0), 2, {"g_adversarial", "g_total"}),                # the naive one-sided GANs
])
def test_zero_weighted_terms_cost_no_generator_pass(lambdas, passes, keys):
    torch.manual_seed(0)
    model = CycleGAN(width=4, n_blocks=1, d_width=4)
    opt = torch.optim.Adam(model.generator_parameters())
    x, y = torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    out = []
    assert _generator_passes(model, lambda: out.append(cyclegan_generator_step(model, opt, x, y, *lambdas))) == passes
    assert set(out[0].losses) == keys


def _all_terms_step(model, opt, x, y, lambda_cyc, lambda_id):
    """The step as it was before the skipping: every term computed, zero weights multiplied in."""
    fake_y, fake_x = model.G(x), model.F(y)
    adversarial = lsgan_generator_loss(model.D_Y(fake_y)) + lsgan_generator_loss(model.D_X(fake_x))
    total = (adversarial + lambda_cyc * cycle_consistency_loss(x, model.F(fake_y), y, model.G(fake_x))
             + lambda_id * identity_loss(x, model.F(x), y, model.G(y)))
    opt.zero_grad()
    total.backward()
    opt.step()


@pytest.mark.parametrize("lambdas", [(10.0, 0.0), (0.0, 0.0), (10.0, 5.0), (0.0, 2.0)])
def test_skipping_changes_no_bit_of_the_update(lambdas):
    """Why `make checkpoints` still reproduces the shipped translators bit for bit."""
    torch.manual_seed(1)
    a = CycleGAN(width=4, n_blocks=1, d_width=4)
    b = copy.deepcopy(a)
    opt_a = torch.optim.Adam(a.generator_parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_b = torch.optim.Adam(b.generator_parameters(), lr=2e-4, betas=(0.5, 0.999))
    g = torch.Generator().manual_seed(2)
    with single_threaded():
        for _ in range(4):
            x, y = torch.rand(2, 1, 32, 32, generator=g), torch.rand(2, 1, 32, 32, generator=g)
            cyclegan_generator_step(a, opt_a, x, y, *lambdas)
            _all_terms_step(b, opt_b, x, y, *lambdas)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


# --- validation before any work (issue 27) -----------------------------------------------------

_nan_images = torch.rand(2, 1, 32, 32).index_put_((torch.tensor([0]),), torch.tensor(float("nan")))


@pytest.mark.parametrize("call, error, words", [
    (lambda: lsgan_generator_loss(torch.tensor([[float("nan")]])), ValueError, "fake_scores must be finite"),
    (lambda: lsgan_discriminator_loss([1.0], torch.zeros(1, 1)), TypeError, "real_scores must be"),
    (lambda: lsgan_discriminator_loss(torch.zeros(2, 1).to("meta"), torch.zeros(2, 1)), ValueError,
     "fake_scores must be on meta like real_scores"),
    (lambda: cycle_consistency_loss(torch.zeros(0, 1, 4, 4), torch.zeros(0, 1, 4, 4), torch.zeros(1, 1, 4, 4),
                                    torch.zeros(1, 1, 4, 4)), ValueError, "x must hold at least one sample"),
    (lambda: identity_loss(torch.zeros(1, 1, 4, 4), torch.full((1, 1, 4, 4), float("inf")), torch.zeros(1, 1, 4, 4),
                           torch.zeros(1, 1, 4, 4)), ValueError, "f_of_x must be finite"),
    (lambda: cycle_consistency_loss(*[torch.zeros(1, 1, 4, 4, dtype=torch.long)] * 4), TypeError, "floating-point"),
])
def test_losses_refuse_bad_inputs(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("make, error, words", [
    (lambda: ResnetGenerator(width=10**9), ValueError, "width must be an int from 1 to 1,000,000"),
    (lambda: ResnetGenerator(width=4, downsamplings=10**9), ValueError, "downsamplings must be an int"),
    (lambda: ResnetGenerator(width=4, downsamplings=30), ValueError, "downsamplings must leave the widest layer"),
    (lambda: ResnetGenerator(width=True), TypeError, "width must be an int"),
    (lambda: PatchDiscriminator(1, 2.5), TypeError, "width must be an int"),
    (lambda: PatchDiscriminator(0, 4), ValueError, "in_channels must be an int"),
    (lambda: CycleGAN(width=4, n_blocks=1, d_width=10**9), ValueError, "d_width must be"),
    (lambda: CycleGAN(width=4, n_blocks=10**9), ValueError, "n_blocks must be an int from 0 to 1,000"),
    (lambda: CycleGAN(width=100_000, n_blocks=1000, downsamplings=0), ValueError, "would need"),
    (lambda: Pix2Pix(width=4, n_blocks="3"), TypeError, "n_blocks must be an int"),
    (lambda: ImagePool(size=2.5), TypeError, "size must be an int"),
    (lambda: ImagePool(2, generator=0), TypeError, "generator must be a torch.Generator"),
])
def test_constructors_refuse_bad_sizes(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_forwards_check_dtype_device_and_emptiness_but_not_nan():
    g, d = ResnetGenerator(4, 1, 1), PatchDiscriminator(1, 4)
    for net in (g, d):
        with pytest.raises(TypeError, match="convert it with"):
            net(torch.rand(1, 1, 32, 32, dtype=torch.float64))
        with pytest.raises(ValueError, match="where the generator's parameters are|where the discriminator's"):
            net(torch.rand(1, 1, 32, 32, device="meta"))
        with pytest.raises(ValueError, match="at least one sample"):
            net(torch.rand(0, 1, 32, 32))
        assert net(_nan_images).isnan().any()  # NaN in, NaN out: legitimate in a forward pass
    with pytest.raises(ValueError, match="multiple of 8"):
        ResnetGenerator(4, 1, 3)(torch.rand(1, 1, 36, 36))


def test_image_pool_refuses_fakes_unlike_those_it_holds():
    pool = ImagePool(2, torch.Generator().manual_seed(0))
    pool.query(torch.rand(2, 1, 4, 4))
    with pytest.raises(ValueError, match="fakes must be images like those the pool holds"):
        pool.query(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="at least one sample"):
        pool.query(torch.rand(0, 1, 4, 4))
    with pytest.raises(TypeError, match="floating-point"):
        pool.query(torch.ones(2, 1, 4, 4, dtype=torch.long))


def test_steps_refuse_bad_arguments_before_any_update():
    model = _tiny()
    g_opt, d_opt = torch.optim.Adam(model.generator_parameters()), torch.optim.Adam(model.discriminator_parameters())
    x = torch.rand(2, 1, 32, 32)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match="x must be finite"):
        cyclegan_generator_step(model, g_opt, _nan_images, x)
    with pytest.raises(TypeError, match="g_optimizer must be a torch.optim.Optimizer"):
        cyclegan_generator_step(model, None, x, x)
    with pytest.raises(ValueError, match="lambda_cyc must be a finite number ≥ 0"):
        cyclegan_generator_step(model, g_opt, x, x, lambda_cyc=-1.0)
    with pytest.raises(TypeError, match="model must be a CycleGAN"):
        cyclegan_generator_step(_tiny(Pix2Pix), g_opt, x, x)
    with pytest.raises(TypeError, match="x must be float32 like the CycleGAN's parameters"):
        cyclegan_generator_step(model, g_opt, x.double(), x)
    with pytest.raises(ValueError, match="fake_y must be finite"):
        cyclegan_discriminator_step(model, d_opt, x, x, x, _nan_images)
    with pytest.raises(ValueError, match="fake_x must be slices of the size of x"):
        cyclegan_discriminator_step(model, d_opt, x, x, torch.rand(2, 1, 64, 64), x)
    p2p = _tiny(Pix2Pix)
    opts = [torch.optim.Adam(p2p.G.parameters()), torch.optim.Adam(p2p.D.parameters())]
    with pytest.raises(ValueError, match="lambda_l1 must be a finite number ≥ 0"):
        pix2pix_step(p2p, *opts, x, x, lambda_l1=float("nan"))
    with pytest.raises(ValueError, match="y must be finite"):
        pix2pix_step(p2p, *opts, x, _nan_images)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("kwargs, error, words", [
    ({"epochs": 10**9}, ValueError, "epochs must be an int from 1 to 100,000"),
    ({"epochs": True}, TypeError, "epochs must be an int"),
    ({"batch_size": 0}, ValueError, "batch_size must be an int ≥ 1"),
    ({"lr": float("inf")}, ValueError, "lr must be a finite number > 0"),
    ({"seed": -1}, ValueError, "seed must be an int"),
    ({"device": "no_such_device"}, ValueError, "device must be a device name"),
    ({"lambda_l1": -1.0}, ValueError, "lambda_l1 must be a finite number ≥ 0"),
])
def test_train_pix2pix_refuses_bad_settings(kwargs, error, words):
    x = torch.rand(2, 1, 32, 32)
    with pytest.raises(error, match=words):
        train_pix2pix(_tiny(Pix2Pix), x, x, **{"epochs": 1, "progress": False, **kwargs})


def test_train_cyclegan_refuses_bad_settings():
    x = torch.rand(2, 1, 32, 32)
    with pytest.raises(ValueError, match="pool_size must be an int"):
        train_cyclegan(_tiny(), x, x, epochs=1, pool_size=-1, progress=False)
    with pytest.raises(TypeError, match="x_train must be float32"):
        train_cyclegan(_tiny(), x.double(), x.double(), epochs=1, progress=False)
    with pytest.raises(ValueError, match="y_train must hold values"):
        train_cyclegan(_tiny(), x, x.to("meta"), epochs=1, progress=False)
    with pytest.raises(TypeError, match="model must be a CycleGAN"):
        train_cyclegan(ResnetGenerator(4, 1), x, x, epochs=1, progress=False)


def test_baselines_refuse_bad_inputs():
    x = torch.rand(2, 1, 32, 32)
    with pytest.raises(ValueError, match="reference must be finite"):
        histogram_match(x, _nan_images)
    with pytest.raises(ValueError, match="images must be finite"):
        translate(ResnetGenerator(4, 1), _nan_images)
    with pytest.raises(ValueError, match="batch_size must be an int ≥ 1"):
        translate(ResnetGenerator(4, 1), x, batch_size=0)
    with pytest.raises(TypeError, match="generator must be a torch.nn.Module"):
        translate(lambda t: t, x)


@pytest.mark.parametrize("call, error, words", [
    (lambda: downsampling_convs([]), ValueError, "at least two positive ints"),
    (lambda: downsampling_convs(None), TypeError, "channels must be a sequence"),
    (lambda: downsampling_convs((1, 2.5)), TypeError, r"channels\[1\] must be an int"),
    (lambda: downsampling_convs((1, -1)), ValueError, r"channels\[1\] must be an int"),
    (lambda: downsampling_convs((1, 10**9)), ValueError, r"channels\[1\] must be an int from 1 to 1,000,000"),
    (lambda: downsampling_convs((1, 10**6, 10**6)), ValueError, "would need"),
    (lambda: downsampling_convs((1, 4), activation=None), TypeError, "activation must be"),
    (lambda: upsampling_convs((4, 1), output=None), TypeError, "output must be a torch.nn.Module"),
])
def test_shared_conv_stacks_refuse_bad_channels(call, error, words):
    """course_lib.layers (the convolution stacks the translators' neighbours share)."""
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("call, error, words", [
    (lambda: recipes05.translation05_test_data(0), ValueError, "n must be an int from 1"),
    (lambda: recipes05.translation05_test_data(10**9), ValueError, "n must be an int from 1"),
    (lambda: recipes05.translation05_test_data(2, return_meta="yes"), TypeError, "return_meta must be a bool"),
    (lambda: recipes05.lesion05_test_data(2.5), TypeError, "n must be an int"),
])
def test_translation_test_data_refuses_bad_counts(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_translate_on_the_meta_device_needs_both_model_and_images_there():
    """A meta generator with meta slices is a shape-only pass (legitimate); mixing is refused."""
    meta_g = ResnetGenerator(4, 1).to("meta")
    assert translate(meta_g, torch.rand(3, 1, 32, 32).to("meta")).device.type == "meta"
    with pytest.raises(ValueError, match="images must be a meta tensor like the generator's parameters"):
        translate(meta_g, torch.rand(3, 1, 32, 32))
    with pytest.raises(ValueError, match="images must hold values"):
        translate(ResnetGenerator(4, 1), torch.rand(3, 1, 32, 32).to("meta"))
