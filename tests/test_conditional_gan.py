"""The conditional GAN library: the networks take (input, labels) and depend on the labels,
given_labels fixes the condition for one round, the discriminator's loss is the unconditional one
on conditional logits with the fakes detached, the toy and slice trainers, and the two measures
of whether G obeys y; bad input raises a clear error."""

import math

import pytest
import torch
from torch import nn

from course_lib.conditional_gan import (
    ConditionalDCGAN,
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    ConditionalMLPDiscriminator,
    ConditionalMLPGenerator,
    band_accuracy,
    conditional_discriminator_loss,
    conditional_mode_accuracy,
    given_labels,
    labelled_mixture_sampler,
    train_conditional_dcgan,
    train_toy_cgan,
)
from course_lib.gan import discriminator_loss


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _square_modes():
    return torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])


def _all_eval(module: nn.Module) -> bool:
    return not any(m.training for m in module.modules())


# --- the networks --------------------------------------------------------------------------------

def test_mlp_players_shapes_and_dependence_on_the_labels():
    generator, discriminator = ConditionalMLPGenerator(latent_dim=3, n_classes=5, hidden=16), \
        ConditionalMLPDiscriminator(n_classes=5, hidden=16)
    z, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 3, 4, 0])
    x = generator(z, y)
    assert x.shape == (6, 2)
    assert discriminator(x, y).shape == (6,)
    other = (y + 1) % 5
    assert not torch.allclose(generator(z, other), x)  # same noise, another class: another point
    assert not torch.allclose(discriminator(x, other), discriminator(x, y))  # same point, another class
    # Each row depends on its own label only.
    changed = y.clone()
    changed[2] = 4
    out = generator(z, changed)
    assert torch.equal(out[[0, 1, 3, 4, 5]], x[[0, 1, 3, 4, 5]]) and not torch.allclose(out[2], x[2])
    assert generator.latent_dim == 3 and generator.n_classes == 5 and discriminator.n_classes == 5


def test_mlp_players_accept_any_integer_dtype_of_labels():
    generator = ConditionalMLPGenerator(latent_dim=2, n_classes=3, hidden=8)
    z, y = torch.randn(4, 2), torch.tensor([0, 2, 1, 2])
    assert torch.allclose(generator(z, y.int()), generator(z, y))


def test_dcgan_players_shapes_range_and_dependence_on_the_labels():
    generator = ConditionalDCGANGenerator(latent_dim=8, n_classes=4, width=4).eval()
    discriminator = ConditionalDCGANDiscriminator(n_classes=4, width=4).eval()
    z, y = torch.randn(3, 8), torch.tensor([0, 1, 3])
    with torch.no_grad():
        x = generator(z, y)
        assert x.shape == (3, 1, 64, 64) and x.min() >= 0 and x.max() <= 1
        assert not torch.allclose(generator(z, (y + 1) % 4), x)
        logits = discriminator(x, y)
        assert logits.shape == (3,)
        # The projection term: l(x | y) − l(x | y') = (e_y − e_y')ᵀ φ(x).
        other = (y + 2) % 4
        phi = discriminator.trunk(x)
        projected = ((discriminator.embed.weight[y] - discriminator.embed.weight[other]) * phi).sum(1)
        assert torch.allclose(logits - discriminator(x, other), projected, atol=1e-5)
        assert not torch.allclose(logits, discriminator(x, other))
    assert generator.noise_dim == 8 and generator.n_classes == 4 and discriminator.n_classes == 4


def test_conditional_dcgan_holds_both_players():
    model = ConditionalDCGAN(latent_dim=8, n_classes=3, width=4)
    assert isinstance(model.generator, ConditionalDCGANGenerator)
    assert isinstance(model.discriminator, ConditionalDCGANDiscriminator)
    assert model.generator.n_classes == model.discriminator.n_classes == 3 and model.generator.noise_dim == 8
    keys = model.state_dict().keys()
    assert any(k.startswith("generator.") for k in keys) and any(k.startswith("discriminator.embed") for k in keys)


@pytest.mark.parametrize("call, error, match", [
    (lambda: ConditionalMLPGenerator(3, 5, 8)(torch.randn(4, 2), torch.zeros(4, dtype=torch.long)), ValueError,
     r"z must be .*\(B, 3\)"),
    (lambda: ConditionalMLPGenerator(3, 5, 8)(torch.zeros(4, 3, dtype=torch.long), torch.zeros(4, dtype=torch.long)),
     TypeError, "floating-point"),
    (lambda: ConditionalMLPGenerator(3, 5, 8)(torch.randn(4, 3), torch.zeros(4)), ValueError, "integer tensor"),
    (lambda: ConditionalMLPGenerator(3, 5, 8)(torch.randn(4, 3), torch.tensor([0, 1, 2, 5])), ValueError,
     "0…4, got values from 0 to 5"),
    (lambda: ConditionalMLPGenerator(3, 5, 8)(torch.randn(4, 3), torch.tensor([0, -1, 2, 3])), ValueError, "0…4"),
    (lambda: ConditionalMLPGenerator(3, 5, 8)(torch.randn(4, 3), torch.tensor([0, 1])), ValueError,
     r"one label per sample \(4\), got 2"),
    (lambda: ConditionalMLPGenerator(3, 5, 8)(torch.randn(4, 3), torch.zeros(4, 1, dtype=torch.long)), ValueError,
     "1 dimensions"),
    (lambda: ConditionalMLPGenerator(3, 5, 8)(torch.randn(4, 3), [0, 1, 2, 3]), TypeError, "torch.Tensor"),
    (lambda: ConditionalMLPDiscriminator(5, 8)(torch.randn(4, 3), torch.zeros(4, dtype=torch.long)), ValueError,
     r"x must be .*\(B, 2\)"),
    (lambda: ConditionalMLPDiscriminator(5, 8)(torch.randn(4, 2), torch.zeros(4)), ValueError, "integer tensor"),
    (lambda: ConditionalMLPDiscriminator(5, 8)(torch.randn(4, 2), torch.full((4,), 7)), ValueError, "0…4"),
    (lambda: ConditionalMLPDiscriminator(5, 8)(torch.randn(4, 2), torch.zeros(3, dtype=torch.long)), ValueError,
     "one label per sample"),
    (lambda: ConditionalDCGANGenerator(8, 4, 4)(torch.randn(2, 12), torch.zeros(2, dtype=torch.long)), ValueError,
     r"\(B, 8\)"),
    (lambda: ConditionalDCGANGenerator(8, 4, 4)(torch.randn(2, 8), torch.tensor([0, 4])), ValueError, "0…3"),
    (lambda: ConditionalDCGANGenerator(8, 4, 4)(torch.randn(2, 8), torch.tensor([0.0, 1.0])), ValueError,
     "integer tensor"),
    (lambda: ConditionalDCGANDiscriminator(4, 4)(torch.rand(2, 1, 32, 32), torch.zeros(2, dtype=torch.long)),
     ValueError, r"\(B, 1, 64, 64\)"),
    (lambda: ConditionalDCGANDiscriminator(4, 4)(torch.rand(2, 1, 64, 64), torch.zeros(3, dtype=torch.long)),
     ValueError, "one label per sample"),
    (lambda: ConditionalDCGANDiscriminator(4, 4)(torch.rand(2, 1, 64, 64), torch.tensor([1, 9])), ValueError, "0…3"),
    (lambda: ConditionalMLPGenerator(n_classes=0), ValueError, "n_classes must be an int from 1 to"),
    (lambda: ConditionalMLPGenerator(n_classes=2.5), TypeError, "n_classes"),
    (lambda: ConditionalMLPGenerator(latent_dim=0), ValueError, "latent_dim"),
    (lambda: ConditionalMLPDiscriminator(n_classes=-1), ValueError, "n_classes"),
    (lambda: ConditionalMLPDiscriminator(n_classes=True), TypeError, "n_classes"),
    (lambda: ConditionalDCGANGenerator(n_classes=0), ValueError, "n_classes"),
    (lambda: ConditionalDCGANDiscriminator(n_classes="4"), TypeError, "n_classes"),
], ids=["g-z-shape", "g-z-int", "g-float-labels", "g-label-too-big", "g-label-negative", "g-label-count",
        "g-label-2d", "g-label-list", "d-x-shape", "d-float-labels", "d-label-range", "d-label-count",
        "dcg-z-shape", "dcg-label-range", "dcg-float-labels", "dcd-size", "dcd-label-count", "dcd-label-range",
        "g-classes-0", "g-classes-float", "g-latent-0", "d-classes-negative", "d-classes-bool", "dcg-classes-0",
        "dcd-classes-str"])
def test_networks_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- given_labels ---------------------------------------------------------------------------------

def test_given_labels_fixes_the_condition_and_shares_parameters():
    net = ConditionalMLPGenerator(latent_dim=2, n_classes=3, hidden=8)
    y = torch.tensor([2, 0, 1, 1])
    fixed = given_labels(net, y)
    assert isinstance(fixed, nn.Module)
    z = torch.randn(4, 2)
    assert torch.equal(fixed(z), net(z, y))
    assert [id(p) for p in fixed.parameters()] == [id(p) for p in net.parameters()]
    # A step through the wrapper moves net itself.
    before = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.SGD(fixed.parameters(), lr=0.1)
    fixed(z).pow(2).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    opt.step()
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters()))
    # train()/eval() reach the wrapped network.
    fixed.eval()
    assert not net.training
    # A wrong batch size is caught by the network when called.
    with pytest.raises(ValueError, match="one label per sample"):
        fixed(torch.randn(3, 2))


@pytest.mark.parametrize("net, labels, error, match", [
    (lambda x, y: x, torch.tensor([0, 1]), TypeError, "net must be a conditional nn.Module"),
    (None, torch.tensor([0, 1]), TypeError, "net must be"),
    (ConditionalMLPGenerator(2, 3, 8), [0, 1], TypeError, "labels must be"),
    (ConditionalMLPGenerator(2, 3, 8), torch.zeros(2, 1, dtype=torch.long), ValueError, "labels must be"),
    (ConditionalMLPGenerator(2, 3, 8), torch.zeros(0, dtype=torch.long), ValueError, "at least one sample"),
    (ConditionalMLPGenerator(2, 3, 8), torch.tensor([0.0, 1.0]), TypeError, "integer tensor"),
], ids=["function", "none", "list", "2d", "empty", "float"])
def test_given_labels_rejects_bad_input(net, labels, error, match):
    with pytest.raises(error, match=match):
        given_labels(net, labels)


# --- the discriminator's loss ---------------------------------------------------------------------

def test_conditional_discriminator_loss_is_the_bce_on_conditional_logits():
    discriminator = ConditionalMLPDiscriminator(n_classes=4, hidden=16)
    real, fake, y = torch.randn(7, 2), torch.randn(7, 2), torch.tensor([0, 1, 2, 3, 0, 0, 2])
    loss = conditional_discriminator_loss(discriminator, real, fake, y)
    assert loss.ndim == 0
    assert torch.allclose(loss, discriminator_loss(discriminator(real, y), discriminator(fake, y)))
    r, f = discriminator(real, y), discriminator(fake, y)
    textbook = -0.5 * (torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean())
    assert torch.allclose(loss, textbook, atol=1e-6)
    assert not torch.allclose(loss, conditional_discriminator_loss(discriminator, real, fake, (y + 1) % 4))


def test_conditional_discriminator_loss_trains_only_the_discriminator():
    discriminator = ConditionalMLPDiscriminator(n_classes=3, hidden=8)
    real = torch.randn(5, 2)
    fake = torch.randn(5, 2, requires_grad=True)
    loss = conditional_discriminator_loss(discriminator, real, fake, torch.tensor([0, 1, 2, 1, 0]))
    loss.backward()
    assert fake.grad is None  # detached: no gradient reaches G
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in discriminator.parameters())
    # Through a generator: its parameters get nothing either.
    generator = ConditionalMLPGenerator(latent_dim=2, n_classes=3, hidden=8)
    y = torch.tensor([2, 2, 0])
    conditional_discriminator_loss(discriminator, real[:3], generator(torch.randn(3, 2), y), y).backward()
    assert all(p.grad is None for p in generator.parameters())


def test_conditional_discriminator_loss_bad_input():
    discriminator = ConditionalMLPDiscriminator(n_classes=3, hidden=8)
    with pytest.raises(ValueError, match="real and fake must have the same shape"):
        conditional_discriminator_loss(discriminator, torch.randn(4, 2), torch.randn(5, 2), torch.zeros(4).long())
    with pytest.raises(ValueError, match="one label per sample"):
        conditional_discriminator_loss(discriminator, torch.randn(4, 2), torch.randn(4, 2), torch.zeros(3).long())
    with pytest.raises(ValueError, match="0…2"):
        conditional_discriminator_loss(discriminator, torch.randn(2, 2), torch.randn(2, 2), torch.tensor([0, 3]))


# --- the labelled toy data ------------------------------------------------------------------------

def test_labelled_mixture_sampler_labels_points_by_their_mode():
    modes, std = _square_modes(), 0.05
    sampler = labelled_mixture_sampler(modes, std)
    x, y = sampler(8000, torch.Generator().manual_seed(0))
    assert x.shape == (8000, 2) and y.shape == (8000,) and not y.is_floating_point()
    assert y.min() == 0 and y.max() == 3 and set(y.tolist()) == {0, 1, 2, 3}
    counts = torch.bincount(y, minlength=4).double() / 8000
    assert torch.allclose(counts, torch.full((4,), 0.25, dtype=torch.float64), atol=0.03)  # equal weights
    offset = x - modes[y]
    assert offset.abs().max() < 6 * std  # each point lies at the mode it is labelled with
    assert offset.mean(0).abs().max() < 0.005 and abs(offset.std().item() - std) < 0.05 * std
    # Nearest mode = label, as the modes are far apart compared with std.
    assert torch.equal(torch.cdist(x, modes).argmin(1), y)
    again = sampler(8000, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], x) and torch.equal(again[1], y)  # reproducible


@pytest.mark.parametrize("modes, std, error, match", [
    (torch.zeros(3, 3), 0.1, ValueError, r"modes must be .*\(K, 2\)"),
    (torch.zeros(0, 2), 0.1, ValueError, "at least one sample"),
    (torch.tensor([[0.0, float("nan")]]), 0.1, ValueError, "finite"),
    ([[0.0, 0.0]], 0.1, TypeError, "modes must be"),
    (torch.zeros(2, 2), 0.0, ValueError, "std must be a finite number > 0"),
    (torch.zeros(2, 2), -1.0, ValueError, "std"),
    (torch.zeros(2, 2), "0.1", TypeError, "std"),
], ids=["shape", "empty", "nan", "list", "std-0", "std-negative", "std-str"])
def test_labelled_mixture_sampler_bad_input(modes, std, error, match):
    with pytest.raises(error, match=match):
        labelled_mixture_sampler(modes, std)


# --- the toy trainer ------------------------------------------------------------------------------

_SHORT = dict(steps=300, batch_size=64, hidden=16, seed=0)


@pytest.fixture(scope="module")
def short_run():
    return train_toy_cgan(labelled_mixture_sampler(_square_modes(), 0.05), 4, **_SHORT)


def test_short_toy_cgan_run_returns_eval_modules_and_history(short_run):
    generator, discriminator = short_run["generator"], short_run["discriminator"]
    assert isinstance(generator, ConditionalMLPGenerator) and isinstance(discriminator, ConditionalMLPDiscriminator)
    assert generator.n_classes == discriminator.n_classes == 4
    assert _all_eval(generator) and _all_eval(discriminator)
    history = short_run["history"]
    assert set(history) == {"d_loss", "g_loss", "g_grad_norm"}
    assert all(len(v) == 300 and all(math.isfinite(x) for x in v) for v in history.values())
    with torch.no_grad():
        samples = generator(torch.randn(10, 2), torch.arange(10) % 4)
    assert samples.shape == (10, 2) and torch.isfinite(samples).all()


def test_toy_cgan_is_deterministic_for_a_seed(short_run):
    torch.manual_seed(123)  # the global state before the call must not matter
    again = train_toy_cgan(labelled_mixture_sampler(_square_modes(), 0.05), 4, **_SHORT)
    for key in ("generator", "discriminator"):
        assert all(torch.equal(a, b) for a, b in zip(short_run[key].state_dict().values(),
                                                     again[key].state_dict().values()))
    assert again["history"] == short_run["history"]


def test_toy_cgan_seeds_differ_and_ema_can_be_off():
    sampler = labelled_mixture_sampler(_square_modes(), 0.05)
    a = train_toy_cgan(sampler, 4, steps=10, batch_size=16, hidden=8, seed=0, ema_decay=None)
    b = train_toy_cgan(sampler, 4, steps=10, batch_size=16, hidden=8, seed=1, ema_decay=None)
    assert not torch.equal(a["generator"].net[0].weight, b["generator"].net[0].weight)
    assert len(a["history"]["d_loss"]) == 10


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_classes=4, steps=0), ValueError, "steps must be an int"),
    (dict(n_classes=4, steps=2.5), TypeError, "steps"),
    (dict(n_classes=4, steps=10**7), ValueError, "steps"),
    (dict(n_classes=0, steps=5), ValueError, "n_classes"),
    (dict(n_classes=4.0, steps=5), TypeError, "n_classes"),
    (dict(n_classes=4, steps=5, hold=1.0), ValueError, "hold"),
    (dict(n_classes=4, steps=5, hold=-0.1), ValueError, "hold"),
    (dict(n_classes=4, steps=5, device="tpu"), ValueError, "device"),
], ids=["steps-0", "steps-float", "steps-huge", "classes-0", "classes-float", "hold-1", "hold-negative", "device"])
def test_toy_cgan_bad_arguments(kwargs, error, match):
    n_classes = kwargs.pop("n_classes")
    with pytest.raises(error, match=match):
        train_toy_cgan(labelled_mixture_sampler(_square_modes(), 0.05), n_classes, hidden=8, batch_size=8, **kwargs)


def test_toy_cgan_labels_beyond_n_classes_are_a_clear_error():
    # The data has 4 classes, the cGAN is told 3: the first round names the bad label.
    with pytest.raises(ValueError, match="0…2"):
        train_toy_cgan(labelled_mixture_sampler(_square_modes(), 0.05), 3, steps=2, batch_size=64, hidden=8)


def test_lecture_recipe_puts_ring_samples_at_their_condition():
    """The lecture's toy cGAN (2,000 steps, ~10–15 s on one core): G(z | y) lands on mode y (measured 0.996)."""
    from course_lib.recipes.gan import TOY_STD, toy_modes, train_cgan04_toy

    result = train_cgan04_toy("ring")
    labels = torch.arange(2000) % 8
    with torch.no_grad():
        samples = result["generator"](torch.randn(2000, 2, generator=torch.Generator().manual_seed(7)), labels)
    accuracy = conditional_mode_accuracy(samples, labels, toy_modes("ring"), TOY_STD["ring"])
    assert accuracy >= 0.97


# --- the slice trainer ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def labelled_slices():
    from course_lib.data import brain_slices

    x, meta = brain_slices(64, size=64, seed=0, return_meta=True)
    return x, meta["band"]


def test_one_epoch_of_conditional_dcgan(labelled_slices):
    x, bands = labelled_slices
    assert x.shape == (64, 1, 64, 64) and bands.shape == (64,) and int(bands.max()) <= 3
    generator = ConditionalDCGANGenerator(latent_dim=8, n_classes=4, width=4)
    discriminator = ConditionalDCGANDiscriminator(n_classes=4, width=4)
    g_before = [p.detach().clone() for p in generator.parameters()]
    d_before = [p.detach().clone() for p in discriminator.parameters()]
    result = train_conditional_dcgan(generator, discriminator, x, bands, epochs=1, batch_size=32, progress=False)
    history = result["history"]
    assert set(history) == {"d_loss", "g_loss", "g_grad_norm"}
    assert all(len(v) == 1 and math.isfinite(v[0]) for v in history.values())
    assert _all_eval(generator) and _all_eval(discriminator)
    assert any(not torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))


def test_conditional_dcgan_bad_input(labelled_slices):
    x, bands = labelled_slices
    generator = ConditionalDCGANGenerator(latent_dim=8, n_classes=4, width=4)
    with pytest.raises(ValueError, match="same classes"):
        train_conditional_dcgan(generator, ConditionalDCGANDiscriminator(n_classes=3, width=4), x, bands, epochs=1,
                                progress=False)
    discriminator = ConditionalDCGANDiscriminator(n_classes=4, width=4)
    with pytest.raises(ValueError, match=r"one label per sample \(64\), got 10"):
        train_conditional_dcgan(generator, discriminator, x, bands[:10], epochs=1, progress=False)
    with pytest.raises(ValueError, match="0…3"):
        train_conditional_dcgan(generator, discriminator, x, bands + 4, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"\(B, 1, 64, 64\)"):
        train_conditional_dcgan(generator, discriminator, x[:, :, :32, :32], bands, epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        train_conditional_dcgan(generator, discriminator, x, bands, epochs=0, progress=False)


# --- conditional_mode_accuracy --------------------------------------------------------------------

def test_conditional_mode_accuracy_exact_values():
    modes, std = _square_modes(), 0.1
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    right = modes[labels]
    wrong = modes[(labels + 1) % 4]
    assert conditional_mode_accuracy(right, labels, modes, std) == 1.0
    assert conditional_mode_accuracy(wrong, labels, modes, std) == 0.0  # on a mode, but not the asked one
    half = torch.cat([right[:4], wrong[4:]])
    assert conditional_mode_accuracy(half, labels, modes, std) == 0.5
    # The radius is 3σ: 2.9σ away counts, 3.1σ does not.
    edge = right + torch.tensor([[2.9 * std, 0.0]] * 4 + [[0.0, 3.1 * std]] * 4)
    assert conditional_mode_accuracy(edge, labels, modes, std) == 0.5
    one = conditional_mode_accuracy(right[:1] + 0.01, labels[:1], modes, std)
    assert isinstance(one, float) and one == 1.0
    # Labels of any integer dtype; samples in float64.
    assert conditional_mode_accuracy(half.double(), labels.int(), modes, std) == 0.5


@pytest.mark.parametrize("samples, labels, std, error, match", [
    (torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), 0.1, ValueError, r"samples must be .*\(B, 2\)"),
    (torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), 0.1, ValueError, "at least one sample"),
    (torch.zeros(4, 2), torch.zeros(3, dtype=torch.long), 0.1, ValueError, "one label per sample"),
    (torch.zeros(4, 2), torch.tensor([0, 1, 2, 4]), 0.1, ValueError, "0…3"),
    (torch.zeros(4, 2), torch.zeros(4), 0.1, ValueError, "integer tensor"),
    (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), 0.0, ValueError, "std"),
    (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), None, TypeError, "std"),
], ids=["shape", "empty", "count", "range", "float-labels", "std-0", "std-none"])
def test_conditional_mode_accuracy_bad_input(samples, labels, std, error, match):
    with pytest.raises(error, match=match):
        conditional_mode_accuracy(samples, labels, _square_modes(), std)


def test_conditional_mode_accuracy_bad_modes():
    with pytest.raises(ValueError, match=r"modes must be .*\(K, 2\)"):
        conditional_mode_accuracy(torch.zeros(2, 2), torch.zeros(2, dtype=torch.long), torch.zeros(4, 3), 0.1)
    with pytest.raises(TypeError, match="modes must be"):
        conditional_mode_accuracy(torch.zeros(2, 2), torch.zeros(2, dtype=torch.long), [[0.0, 0.0]], 0.1)


# --- band_accuracy --------------------------------------------------------------------------------

class _StubLevels(nn.Module):
    """A level classifier that reads its answer off the image: bin = round(8 · pixel[0, 0])."""

    def __init__(self, n_levels: int = 8) -> None:
        super().__init__()
        self.n_levels = n_levels
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        bins = (x[:, 0, 0, 0] * self.n_levels).round().long().clamp(0, self.n_levels - 1)
        return nn.functional.one_hot(bins, self.n_levels).float() * 5.0


def _slices_showing(bins):
    x = torch.zeros(len(bins), 1, 64, 64)
    x[:, 0, 0, 0] = torch.as_tensor(bins, dtype=torch.float32) / 8
    return x


def test_band_accuracy_exact_values():
    stub = _StubLevels(8)
    images = _slices_showing([0, 1, 2, 3, 4, 5, 6, 7])
    assert band_accuracy(stub, images, torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])) == 1.0
    assert band_accuracy(stub, images, torch.tensor([0, 0, 1, 1, 2, 2, 2, 2])) == 0.75
    assert band_accuracy(stub, images, torch.tensor([1, 1, 2, 2, 3, 3, 0, 0])) == 0.0
    assert band_accuracy(stub, images, torch.tensor([0, 0, 0, 0, 1, 1, 1, 1]), n_bands=2) == 1.0
    assert band_accuracy(stub, images, torch.arange(8), n_bands=8) == 1.0
    assert not stub.training  # judged in eval mode


def test_band_accuracy_runs_in_chunks():
    stub = _StubLevels(8)
    bins = torch.arange(600) % 8
    bands = bins // 2
    bands[:150] = (bands[:150] + 1) % 4  # 150 of 600 wrong
    value = band_accuracy(stub, _slices_showing(bins), bands)
    assert value == 0.75 and stub.calls == 3  # 256 + 256 + 88


@pytest.mark.parametrize("make, images, bands, n_bands, error, match", [
    (lambda: _StubLevels(6), _slices_showing([0, 1]), torch.tensor([0, 0]), 4, ValueError, "multiple of 4"),
    (lambda: nn.Identity(), _slices_showing([0, 1]), torch.tensor([0, 0]), 4, ValueError, "n_levels=None"),
    (lambda: _StubLevels(8), _slices_showing([0, 1]), torch.tensor([0]), 4, ValueError, "one label per sample"),
    (lambda: _StubLevels(8), _slices_showing([0, 1]), torch.tensor([0, 4]), 4, ValueError, "0…3"),
    (lambda: _StubLevels(8), _slices_showing([0, 1]), torch.tensor([0.0, 1.0]), 4, ValueError, "integer"),
    (lambda: _StubLevels(8), torch.zeros(2, 1, 32, 32), torch.tensor([0, 0]), 4, ValueError, r"\(B, 1, 64, 64\)"),
    (lambda: _StubLevels(8), torch.zeros(0, 1, 64, 64), torch.zeros(0, dtype=torch.long), 4, ValueError,
     "at least one sample"),
], ids=["not-a-multiple", "no-n_levels", "count", "range", "float", "size", "empty"])
def test_band_accuracy_bad_input(make, images, bands, n_bands, error, match):
    with pytest.raises(error, match=match):
        band_accuracy(make(), images, bands, n_bands)


# --- argument checks (issue 27): refused before any work, with the argument's name -------------

def _with_nan(shape):
    x = torch.rand(*shape)
    x.view(-1)[0] = float("nan")
    return x


@pytest.mark.parametrize("call, error, match", [
    (lambda: ConditionalMLPGenerator(hidden=0), ValueError, "hidden must be an int from 1"),
    (lambda: ConditionalMLPGenerator(depth=10**9), ValueError, "depth must be .*a bound against typos"),
    (lambda: ConditionalMLPDiscriminator(n_classes=10**9), ValueError, "n_classes must be .*one output per class"),
    (lambda: ConditionalDCGANGenerator(latent_dim="3"), TypeError, "latent_dim must be an int"),
    (lambda: ConditionalDCGANDiscriminator(width=None), TypeError, "width must be an int"),
    (lambda: ConditionalMLPGenerator(2, 3, 8, 1)(torch.randn(2, 2, dtype=torch.float64), torch.tensor([0, 1])),
     TypeError, r"\.to\(torch\.float32\)"),
    (lambda: ConditionalMLPDiscriminator(3, 8, 1)(torch.randn(2, 2), torch.tensor([0, 1], device="meta")),
     ValueError, "labels must hold values"),
], ids=["hidden-0", "depth-huge", "classes-huge", "dcg-latent-str", "dcd-width-none", "float64", "meta-labels"])
def test_networks_refuse_bad_sizes_dtypes_and_devices(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: given_labels(ConditionalMLPGenerator(2, 3, 8), torch.tensor([0, 3])), ValueError, "0…2"),
    (lambda: given_labels(ConditionalMLPGenerator(2, 3, 8), torch.tensor([-1, 0])), ValueError, "0…2"),
    (lambda: conditional_discriminator_loss(None, torch.randn(2, 2), torch.randn(2, 2), torch.tensor([0, 1])),
     TypeError, "discriminator must be"),
    (lambda: conditional_discriminator_loss(ConditionalMLPDiscriminator(3, 8), _with_nan((2, 2)), torch.randn(2, 2),
                                            torch.tensor([0, 1])), ValueError, "real must be finite"),
    (lambda: conditional_discriminator_loss(ConditionalMLPDiscriminator(3, 8), torch.randn(2, 2), [[0.0, 0.0]] * 2,
                                            torch.tensor([0, 1])), TypeError, "fake must be"),
    (lambda: conditional_mode_accuracy(_with_nan((2, 2)), torch.tensor([0, 1]), _square_modes(), 0.1),
     ValueError, "samples must be finite"),
    (lambda: conditional_mode_accuracy(torch.zeros(2, 2), torch.tensor([0, 1]), _square_modes().to("meta"), 0.1),
     ValueError, "modes must hold values"),
], ids=["given-too-big", "given-negative", "loss-no-d", "loss-nan", "loss-list", "accuracy-nan", "accuracy-meta"])
def test_losses_and_measures_refuse_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(lr=0.0), ValueError, "lr must be a finite number > 0"),
    (dict(seed=-1), ValueError, "seed must be an int from 0"),
    (dict(batch_size=True), TypeError, "batch_size must be an int"),
    (dict(r1_gamma=float("nan")), ValueError, "r1_gamma must be a finite number"),
    (dict(hidden=10**9), ValueError, "hidden must be .*a bound against typos"),
], ids=["lr-0", "seed-negative", "batch-bool", "r1-nan", "hidden-huge"])
def test_toy_cgan_refuses_bad_training_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        train_toy_cgan(labelled_mixture_sampler(_square_modes(), 0.05), 4, steps=2, **kwargs)
    with pytest.raises(TypeError, match="sampler must be"):
        train_toy_cgan(None, 4, steps=2)


def test_train_conditional_dcgan_refuses_bad_data_before_training():
    generator, discriminator = ConditionalDCGANGenerator(4, 2, 2), ConditionalDCGANDiscriminator(2, 2)
    before = [p.detach().clone() for p in generator.parameters()]
    labels = torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match="x_train must be finite"):  # not NonFiniteLossError mid-training
        train_conditional_dcgan(generator, discriminator, _with_nan((4, 1, 64, 64)), labels, epochs=1, progress=False)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        train_conditional_dcgan(generator, discriminator, torch.rand(4, 1, 64, 64), labels, epochs=1, lr=-1.0,
                                progress=False)
    with pytest.raises(ValueError, match="epochs must be .*a bound against typos"):
        train_conditional_dcgan(generator, discriminator, torch.rand(4, 1, 64, 64), labels, epochs=10**9,
                                progress=False)
    with pytest.raises(TypeError, match="generator must be a ConditionalDCGANGenerator"):
        train_conditional_dcgan(None, discriminator, torch.rand(4, 1, 64, 64), labels, epochs=1, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, generator.parameters()))
