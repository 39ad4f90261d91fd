"""The AR-VAE (Pati & Lerch, 2021): the attribute regularization on hand-made batches, and
train_vae's attribute and learned-similarity terms (the latter after Larsen et al., 2016)."""

import math

import pytest
import torch

from course_lib.data import brain_slices
from course_lib.gan import DCGANDiscriminator
from course_lib.learned_similarity import discriminator_layer
from course_lib.training import adam_with_schedule, backward_and_step, fit, unchanged_on_nonfinite
from course_lib.vae import ConvVAE, attribute_regularization, negative_elbo, train_vae


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# --- attribute_regularization ------------------------------------------------------------------------

def test_two_samples_by_hand():
    """B = 2, δ = 1: the two off-diagonal pairs each give 1 − tanh(1), the diagonal 0; the mean is over 4 pairs."""
    z, a = torch.tensor([0.0, 1.0]), torch.tensor([3.0, 5.0])
    assert attribute_regularization(z, a, 1.0).item() == pytest.approx((1 - math.tanh(1)) / 2, rel=1e-6)
    # δ = 2: tanh(2) instead of tanh(1)
    assert attribute_regularization(z, a, 2.0).item() == pytest.approx((1 - math.tanh(2)) / 2, rel=1e-6)
    # reversed attribute: each off-diagonal pair gives 1 + tanh(1)
    assert attribute_regularization(z, -a, 1.0).item() == pytest.approx((1 + math.tanh(1)) / 2, rel=1e-6)


def test_three_samples_by_hand_with_delta_and_the_default():
    z, a = torch.tensor([0.0, 0.5, 2.0]), torch.tensor([0.0, 1.0, 2.0])
    delta = 0.7
    expected = sum(abs(math.tanh(delta * (z[i] - z[j]).item()) - math.copysign(1, i - j) * (i != j))
                   for i in range(3) for j in range(3)) / 9
    assert attribute_regularization(z, a, delta).item() == pytest.approx(expected, rel=1e-6)
    assert torch.equal(attribute_regularization(z, a), attribute_regularization(z, a, 1.0))  # δ = 1 by default


@pytest.mark.parametrize("batch", [1, 2, 5, 16])
def test_codes_in_the_attribute_order_with_large_delta_cost_nothing(batch):
    """Ordered like the attribute and δ large: every off-diagonal tanh is ±1 = the sign, every diagonal pair
    |tanh(0) − sign(0)| = 0."""
    z = torch.arange(batch, dtype=torch.float32)
    a = torch.linspace(-3, 7, batch) ** 3
    assert attribute_regularization(z, a, 50.0).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("batch", [2, 3, 8])
def test_reversed_order_costs_two_per_off_diagonal_pair(batch):
    z = torch.arange(batch, dtype=torch.float32)
    a = -torch.arange(batch, dtype=torch.float32)
    expected = 2 * (batch**2 - batch) / batch**2
    assert attribute_regularization(z, a, 50.0).item() == pytest.approx(expected, rel=1e-6)


def test_the_loss_stays_between_zero_and_two():
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        z, a = 3 * torch.randn(9, generator=g), torch.randn(9, generator=g)
        value = attribute_regularization(z, a, 4.0)
        assert value.ndim == 0 and 0 <= value.item() <= 2


def test_only_the_attribute_order_matters():
    """Any strictly increasing map of the attribute gives the same loss, bit for bit."""
    g = torch.Generator().manual_seed(2)
    z, a = torch.randn(11, generator=g), torch.randn(11, generator=g)
    reference = attribute_regularization(z, a, 2.0)
    for transformed in (3 * a + 7, a.exp(), a**3, torch.sigmoid(5 * a), a.double()):
        assert torch.equal(attribute_regularization(z, transformed, 2.0), reference)
    assert not torch.equal(attribute_regularization(z, -a, 2.0), reference)  # a decreasing map is not


def test_ties_in_the_attribute_ask_for_equal_codes():
    """sign(0) = 0: a tie costs |tanh(δ D_r)|, nothing when the two codes are equal."""
    a = torch.tensor([1.0, 1.0])
    value = attribute_regularization(torch.tensor([0.0, 1.0]), a, 1.0)
    assert value.item() == pytest.approx(math.tanh(1) / 2, rel=1e-6)
    assert attribute_regularization(torch.tensor([0.3, 0.3]), a, 1.0).item() == 0.0
    # constant attribute: the loss is the mean |tanh(δ D_r)| over all pairs
    z = torch.tensor([0.0, 0.5, -1.0])
    expected = torch.tanh(2.0 * (z[:, None] - z[None, :])).abs().mean()
    assert torch.allclose(attribute_regularization(z, torch.full((3,), 4.0), 2.0), expected)
    # a mixed batch: samples 0 and 2 tie, sample 1 is larger
    z, a = torch.tensor([0.0, 1.0, 0.5]), torch.tensor([2.0, 3.0, 2.0])
    t = torch.tanh(z[:, None] - z[None, :])
    s = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    assert torch.allclose(attribute_regularization(z, a), (t - s).abs().mean())


def test_gradient_reaches_z_and_matches_finite_differences():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(6, generator=g, dtype=torch.float64).requires_grad_()
    a = torch.tensor([0.0, 2.0, 2.0, -1.0, 5.0, 0.5], dtype=torch.float64)  # one tie
    assert torch.autograd.gradcheck(lambda z: attribute_regularization(z, a, 1.5), (z,))
    (grad,) = torch.autograd.grad(attribute_regularization(z, a, 1.5), z)
    assert grad.abs().sum() > 0
    assert grad.sum().abs() < 1e-12  # only differences of z enter: shifting every code changes nothing


def test_gradient_pulls_codes_towards_the_attribute_order():
    """z_0 < z_1 but a_0 > a_1: the loss falls when z_0 grows and z_1 shrinks."""
    z = torch.tensor([0.0, 0.5], requires_grad=True)
    attribute_regularization(z, torch.tensor([1.0, 0.0])).backward()
    assert z.grad[0] < 0 < z.grad[1]


def test_gradient_vanishes_when_large_delta_codes_are_in_order():
    z = (4 * torch.arange(6, dtype=torch.float32)).requires_grad_()
    a = torch.arange(6, dtype=torch.float32) ** 2
    attribute_regularization(z, a, 30.0).backward()
    assert z.grad.abs().max() < 1e-6


def test_the_inputs_are_left_alone_and_the_attribute_does_not_get_a_gradient():
    z = torch.randn(5, requires_grad=True)
    a = torch.randn(5)
    z_before, a_before = z.detach().clone(), a.clone()
    attribute_regularization(z, a, 2.0).backward()
    assert torch.equal(z.detach(), z_before) and torch.equal(a, a_before)


def test_attribute_regularization_errors():
    z, a = torch.zeros(4), torch.arange(4.0)
    with pytest.raises(ValueError, match="z_r must"):
        attribute_regularization(z[None], a)  # 2-D codes
    with pytest.raises(ValueError, match="z_r must"):
        attribute_regularization(torch.zeros(0), torch.zeros(0))
    with pytest.raises(ValueError, match="attribute must"):
        attribute_regularization(z, a[None])
    with pytest.raises(ValueError, match="one value per sample"):
        attribute_regularization(z, a[:3])
    with pytest.raises(ValueError, match="finite"):
        attribute_regularization(torch.tensor([0.0, float("nan")]), a[:2])
    with pytest.raises(ValueError, match="finite"):
        attribute_regularization(z, torch.tensor([0.0, 1.0, float("inf"), 2.0]))
    for delta in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="delta"):
            attribute_regularization(z, a, delta)
    with pytest.raises(TypeError, match="delta"):
        attribute_regularization(z, a, "1")
    with pytest.raises(TypeError, match="z_r must"):
        attribute_regularization([0.0, 1.0, 2.0, 3.0], a)
    with pytest.raises(TypeError, match="attribute must"):
        attribute_regularization(z, [0.0, 1.0, 2.0, 3.0])


# --- train_vae with an attribute -----------------------------------------------------------------

@pytest.fixture(scope="module")
def slices():
    x, meta = brain_slices(64, size=64, seed=0, return_meta=True)
    return x, meta["level"]


def _vae(seed: int = 0) -> ConvVAE:
    torch.manual_seed(seed)
    return ConvVAE(4, size=64, width=8)


def _weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in model.state_dict().values()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(p, q) for p, q in zip(a, b))


def test_train_vae_with_an_attribute_records_the_term(slices):
    x, level = slices
    model = _vae()
    history = train_vae(model, x, epochs=2, batch_size=32, attribute=level, gamma=10.0, delta=1.0, attribute_dim=1,
                        progress=False)
    assert set(history) == {"loss", "reconstruction", "kl", "attribute"}
    assert all(len(v) == 2 for v in history.values())
    assert all(0 <= v <= 2 for v in history["attribute"])
    for e in range(2):  # the epoch means of a sum are the sums of the epoch means
        total = history["reconstruction"][e] + history["kl"][e] + 10.0 * history["attribute"][e]
        assert history["loss"][e] == pytest.approx(total, rel=1e-5)
    assert not model.training


def _trained(x, seed: int = 7, **kwargs) -> tuple[list[torch.Tensor], dict]:
    model = _vae()
    torch.manual_seed(seed)  # the codes z are drawn from the global generator
    history = train_vae(model, x, epochs=1, batch_size=32, progress=False, **kwargs)
    return _weights(model), history


def test_train_vae_attribute_term_changes_the_training_and_gamma_zero_does_not(slices):
    x, level = slices
    plain, _ = _trained(x)
    gamma_zero, history = _trained(x, attribute=level, gamma=0.0)
    regularised, _ = _trained(x, attribute=level, gamma=10.0)
    # γ = 0: the same batches (the attribute is shuffled with its slices) and the same loss, so the same weights
    assert _same(plain, gamma_zero)
    assert history["loss"][0] == pytest.approx(history["reconstruction"][0] + history["kl"][0], rel=1e-6)
    assert not _same(plain, regularised)


def test_train_vae_attribute_stays_with_its_slice_when_shuffled(slices, monkeypatch):
    """Each batch's attribute term sees the batch's own slices' attribute values, in the same order."""
    import course_lib.vae as vae_module

    x, level = slices
    index = {x[i].numpy().tobytes(): i for i in range(len(x))}
    assert len(index) == len(x)  # every slice can be told apart
    batches, attributes = [], []
    model = _vae()
    encode = model.encode

    def spy_encode(batch_x, labels=None):
        batches.append([index[b.numpy().tobytes()] for b in batch_x.detach()])
        return encode(batch_x, labels)

    def spy_regularization(z_r, attribute, delta):
        attributes.append(attribute.clone())
        return attribute_regularization(z_r, attribute, delta)

    model.encode = spy_encode
    monkeypatch.setattr(vae_module, "attribute_regularization", spy_regularization)
    train_vae(model, x, epochs=2, batch_size=16, attribute=level, progress=False)
    assert len(batches) == len(attributes) == 8
    assert batches[0] != sorted(batches[0])  # shuffled
    for rows, attribute in zip(batches, attributes):
        assert torch.equal(attribute, level[rows])
    assert sorted(r for rows in batches[:4] for r in rows) == list(range(len(x)))


def test_train_vae_attribute_errors(slices):
    x, level = slices
    model = _vae()
    with pytest.raises(ValueError, match="one value per training image"):
        train_vae(model, x, epochs=1, attribute=level[:10], progress=False)
    with pytest.raises(ValueError, match="attribute must"):
        train_vae(model, x, epochs=1, attribute=level[:, None], progress=False)
    with pytest.raises(ValueError, match="finite"):
        train_vae(model, x, epochs=1, attribute=torch.full_like(level, float("nan")), progress=False)
    for dim in (-1, 4):
        with pytest.raises(ValueError, match="attribute_dim"):
            train_vae(model, x, epochs=1, attribute=level, attribute_dim=dim, progress=False)
    with pytest.raises(TypeError, match="attribute_dim"):
        train_vae(model, x, epochs=1, attribute=level, attribute_dim=1.0, progress=False)
    with pytest.raises(ValueError, match="gamma"):
        train_vae(model, x, epochs=1, attribute=level, gamma=-0.1, progress=False)
    with pytest.raises(ValueError, match="delta"):
        train_vae(model, x, epochs=1, batch_size=64, attribute=level, delta=0.0, progress=False)
    with pytest.raises(TypeError, match="attribute must"):
        train_vae(model, x, epochs=1, attribute=level.tolist(), progress=False)


# --- train_vae without the new terms: unchanged ---------------------------------------------------

def _hand_written_vae_training(model: ConvVAE, x: torch.Tensor, *, epochs: int, batch_size: int, lr: float = 2e-3,
                               seed: int = 0) -> dict:
    """train_vae as it was before the attribute and similarity terms: model(x) and the negative ELBO."""
    optimizer, schedule = adam_with_schedule(model.parameters(), lr, schedule="one_cycle",
                                             total_steps=epochs * math.ceil(len(x) / batch_size))

    def step(batch):
        with unchanged_on_nonfinite(model):
            x_hat, mu, logvar = model(batch)
            terms = negative_elbo(x_hat, batch, mu, logvar)
            optimizer.zero_grad()
            backward_and_step(optimizer, terms.loss)
        schedule.step()
        return {name: value.detach() for name, value in terms._asdict().items()}

    model.train()
    history = fit(step, x, epochs=epochs, batch_size=batch_size, seed=seed, progress=False)
    model.eval()
    return history


def test_train_vae_without_the_new_terms_is_unchanged(slices):
    x, _ = slices
    by_hand, library, again = _vae(), _vae(), _vae()
    torch.manual_seed(5)
    expected = _hand_written_vae_training(by_hand, x, epochs=2, batch_size=32)
    torch.manual_seed(5)
    history = train_vae(library, x, epochs=2, batch_size=32, progress=False)
    torch.manual_seed(5)
    train_vae(again, x, epochs=2, batch_size=32, attribute=None, similarity=None, progress=False)
    assert set(history) == {"loss", "reconstruction", "kl"}
    assert _same(_weights(library), _weights(by_hand))
    assert _same(_weights(again), _weights(by_hand))
    assert history == expected


# --- train_vae with a learned similarity -------------------------------------------------------------

def test_train_vae_with_a_learned_similarity(slices):
    x, _ = slices
    torch.manual_seed(1)
    discriminator = DCGANDiscriminator(width=4)
    layer = discriminator_layer(discriminator)
    frozen = _weights(layer)
    model = _vae()
    history = train_vae(model, x, epochs=2, batch_size=32, similarity=layer, similarity_weight=0.5, progress=False)
    assert set(history) == {"loss", "reconstruction", "kl", "similarity"}
    assert all(v > 0 for v in history["similarity"])
    for e in range(2):
        total = history["reconstruction"][e] + history["kl"][e] + 0.5 * history["similarity"][e]
        assert history["loss"][e] == pytest.approx(total, rel=1e-5)
    assert _same(_weights(layer), frozen)  # the feature map is not trained (batch-norm statistics included)
    assert not layer.training


def test_train_vae_with_attribute_and_similarity_records_both(slices):
    x, level = slices
    layer = discriminator_layer(DCGANDiscriminator(width=4), blocks=2)
    history = train_vae(_vae(), x, epochs=1, batch_size=64, attribute=level, similarity=layer, progress=False)
    assert set(history) == {"loss", "reconstruction", "kl", "attribute", "similarity"}
    terms = history["reconstruction"][0] + history["kl"][0] + 10.0 * history["attribute"][0] \
        + 0.02 * history["similarity"][0]
    assert history["loss"][0] == pytest.approx(terms, rel=1e-5)


def test_train_vae_similarity_weight_zero_leaves_the_training_unchanged(slices):
    x, _ = slices
    layer = discriminator_layer(DCGANDiscriminator(width=4))  # built before seeding: its init draws numbers
    plain, _ = _trained(x, seed=2)
    weighted_zero, history = _trained(x, seed=2, similarity=layer, similarity_weight=0.0)
    assert _same(plain, weighted_zero)
    assert history["similarity"][0] > 0


def test_train_vae_moves_the_similarity_to_the_training_device(slices, monkeypatch):
    x, _ = slices
    layer = discriminator_layer(DCGANDiscriminator(width=4))
    moved = []
    original = layer.to
    monkeypatch.setattr(layer, "to", lambda *args, **kwargs: moved.append(args) or original(*args, **kwargs))
    train_vae(_vae(), x[:8], epochs=1, batch_size=8, similarity=layer, device="cpu", progress=False)
    assert moved == [(torch.device("cpu"),)]


def test_train_vae_similarity_errors(slices):
    x, _ = slices
    model = _vae()
    with pytest.raises(TypeError, match="similarity must be a feature map"):
        train_vae(model, x, epochs=1, similarity=torch.zeros(3), progress=False)
    layer = discriminator_layer(DCGANDiscriminator(width=4))
    with pytest.raises(ValueError, match="similarity_weight"):
        train_vae(model, x, epochs=1, similarity=layer, similarity_weight=-1.0, progress=False)
    with pytest.raises(ValueError, match="x must be"):  # the feature map reads 64 px slices only
        small = ConvVAE(4, size=32, width=8)
        train_vae(small, torch.rand(8, 1, 32, 32), epochs=1, batch_size=8, similarity=layer, progress=False)


def test_train_vae_checks_the_attribute_and_similarity_arguments_before_training(slices):
    """Issue 27: every argument is refused by name before the first step, the model left untouched."""
    x, level = slices
    model = _vae()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="attribute must hold values"):
        train_vae(model, x, epochs=1, attribute=level.to("meta"), progress=False)
    with pytest.raises(ValueError, match="delta must be a finite number > 0"):  # before training, not at a step
        train_vae(model, x, epochs=1, attribute=level, delta=math.inf, progress=False)
    with pytest.raises(TypeError, match="gamma must be a finite number"):
        train_vae(model, x, epochs=1, attribute=level, gamma="10", progress=False)
    with pytest.raises(ValueError, match="x_train must be finite"):
        bad = x.clone()
        bad[0, 0, 0, 0] = math.inf
        train_vae(model, bad, epochs=1, attribute=level, progress=False)
    with pytest.raises(TypeError, match="similarity_weight must be a finite number"):
        train_vae(model, x, epochs=1, similarity=discriminator_layer(DCGANDiscriminator(width=4)),
                  similarity_weight=None, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
