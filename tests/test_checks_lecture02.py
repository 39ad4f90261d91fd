"""Lecture 02's self-checks accept the reference and equivalent answers, and reject plausible mistakes with a
hint that names them.

For every check, ``WRONG_<name>`` lists plausible mistakes (each must be rejected with a hint that names it)
and ``CORRECT_<name>`` unusual-but-correct answers (each must print the ✓ line); the ids say what each is.
"""

import pytest
import torch
import torch.nn.functional as F

from course_lib.autoencoders import reconstruction_loss
from course_lib.corruptions import masking_noise, salt_and_pepper
from course_lib.multimodal import modality_dropout
from course_lib.stacked import stage_loss
from course_lib.checks import check_masking_noise, check_modality_dropout, check_pretrain_stage, check_salt_and_pepper
from tests.check_helpers import blank, rejects


def _accepts(check, candidate, capsys) -> None:
    check(candidate)
    assert capsys.readouterr().out.startswith(f"✓ {check.__name__} passed:")


# --- masking noise -----------------------------------------------------------------------------

def my_masking_noise(x: torch.Tensor, nu: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """The solution notebook's answer (solutions/02_denoising_stacked_autoencoders.py), verbatim."""
    b, d = len(x), x[0].numel()
    k = round(nu * d)
    chosen = torch.rand(b, d, generator=generator).argsort(dim=1)[:, :k]  # k random positions per sample
    mask = torch.ones(b, d, dtype=torch.bool).scatter(1, chosen, False)
    return (x.flatten(1) * mask).view_as(x)


def _masked_with(k_of):
    """Masking noise, correct except for how many inputs per sample are chosen: k_of(nu, d)."""
    def fn(x, nu, generator=None):
        b, d = len(x), x[0].numel()
        ranks = torch.rand(b, d, generator=generator).argsort(1).argsort(1)
        return x.flatten(1).masked_fill(ranks < k_of(nu, d), 0).view_as(x)
    return fn


def _bernoulli_mask(x, nu, generator=None):
    return x * (torch.rand(x.shape, generator=generator) >= nu)


def _same_mask_for_the_batch(x, nu, generator=None):
    d = x[0].numel()
    chosen = torch.randperm(d, generator=generator)[: round(nu * d)]
    flat = x.flatten(1).clone()
    flat[:, chosen] = 0
    return flat.view_as(x)


def _in_place(x, nu, generator=None):
    out = masking_noise(x, nu, generator)
    x.copy_(out)
    return x


def _through_a_view(x, nu, generator=None):
    flat = x.flatten(1)  # a view of x: writing into it writes into x
    b, d = flat.shape
    chosen = torch.rand(b, d, generator=generator).argsort(1)[:, : round(nu * d)]
    flat.scatter_(1, chosen, 0.0)
    return flat.view_as(x)


def _global_rng(x, nu, generator=None):
    return masking_noise(x, nu)


def _first_pixels(x, nu, generator=None):
    flat = x.flatten(1).clone()
    flat[:, : round(nu * flat.shape[1])] = 0
    return flat.view_as(x)


def _noise_instead_of_zero(x, nu, generator=None):
    mask = masking_noise(torch.ones_like(x), nu, generator) == 0
    return torch.where(mask, torch.rand(x.shape, generator=generator), x)


def _fixed_seed_fallback(x, nu, generator=None):
    if generator is None:
        generator = torch.Generator().manual_seed(0)  # "reproducible"
    return masking_noise(x, nu, generator)


def _fresh_generator_fallback(x, nu, generator=None):
    return masking_noise(x, nu, generator or torch.Generator())  # an unseeded Generator has a fixed default seed


def _os_seeded_fallback(x, nu, generator=None):
    if generator is None:
        generator = torch.Generator()
        generator.seed()  # a seed from the operating system: fresh, but not reproducible with torch.manual_seed
    return masking_noise(x, nu, generator)


def _resets_generator(x, nu, generator=None):
    if generator is not None:
        generator.manual_seed(0)
    return masking_noise(x, nu, generator)


def _copies_generator(x, nu, generator=None):
    if generator is not None:
        own = torch.Generator()
        own.set_state(generator.get_state())
        generator = own
    return masking_noise(x, nu, generator)


def _per_pixel_all_channels(x, nu, generator=None):
    b, c = x.shape[:2]
    pixels = x[0, 0].numel() if x.ndim == 4 else x[0].numel()
    ranks = torch.rand(b, pixels, generator=generator).argsort(1).argsort(1)
    mask = (ranks < round(nu * pixels)).view(b, 1, *x.shape[2:]) if x.ndim == 4 else ranks < round(nu * pixels)
    return x.masked_fill(mask, 0)


def _with_replacement(x, nu, generator=None):
    b, d = len(x), x[0].numel()
    chosen = torch.randint(d, (b, round(nu * d)), generator=generator)
    return x.flatten(1).scatter(1, chosen, 0.0).view_as(x)


def _inverted_dropout(x, nu, generator=None):
    out = masking_noise(x, nu, generator)
    return out / (1 - nu) if nu < 1 else out


def _randperm_per_sample(x, nu, generator=None):
    flat = x.flatten(1).clone()
    k = round(nu * flat.shape[1])
    for row in flat:
        row[torch.randperm(len(row), generator=generator)[:k]] = 0
    return flat.view_as(x)


def _topk_of_uniforms(x, nu, generator=None):
    b, d = len(x), x[0].numel()
    chosen = torch.rand(b, d, generator=generator).topk(round(nu * d), dim=1).indices
    return x.flatten(1).scatter(1, chosen, 0.0).reshape(x.shape)


def _multinomial(x, nu, generator=None):
    b, d = len(x), x[0].numel()
    k = round(nu * d)
    out = x.clone().flatten(1)
    if k:
        out.scatter_(1, torch.multinomial(torch.ones(b, d), k, generator=generator), 0.0)
    return out.view_as(x)


WRONG_masking_noise = [
    pytest.param(_bernoulli_mask, ["exactly", "random subset"], id="independent-per-input"),
    pytest.param(_same_mask_for_the_batch, ["same inputs", "each sample"], id="same-subset-for-the-batch"),
    pytest.param(_in_place, ["in place"], id="in-place"),
    pytest.param(_through_a_view, ["in place"], id="in-place-through-a-view"),
    pytest.param(_global_rng, ["seeded alike", "generator"], id="ignores-generator"),
    pytest.param(_first_pixels, ["same inputs"], id="first-pixels"),
    pytest.param(_noise_instead_of_zero, ["other than 0"], id="noise-instead-of-zero"),
    pytest.param(lambda x, nu, generator=None: x.clone(), ["zeroes"], id="identity"),
    pytest.param(_fixed_seed_fallback, ["generator=none", "fixed seed"], id="fixed-seed-fallback-for-none"),
    pytest.param(_fresh_generator_fallback, ["generator=none", "same noise"], id="unseeded-generator-for-none"),
    pytest.param(_os_seeded_fallback, ["not reproducible", "torch.manual_seed"], id="os-seeded-generator-for-none"),
    pytest.param(_resets_generator, ["*same* generator", "resets or copies"], id="resets-the-generator"),
    pytest.param(_copies_generator, ["*same* generator", "resets or copies"], id="copies-the-generator"),
    pytest.param(_masked_with(lambda nu, d: int(nu * d)), ["(4, 3, 5, 7)", "truncated", "round(ν·d) = 37"],
                 id="count-truncated"),
    pytest.param(_masked_with(lambda nu, d: -(-nu * d // 1)), ["(7, 13)", "rounded up"], id="count-ceil"),
    pytest.param(_masked_with(lambda nu, d: round((1 - nu) * d)), ["(1 − ν)", "not the fraction kept"],
                 id="count-of-kept-inputs"),
    pytest.param(_per_pixel_all_channels, ["3 channels", "channels included"], id="pixels-not-inputs"),
    pytest.param(_with_replacement, ["with replacement"], id="drawn-with-replacement"),
    pytest.param(_inverted_dropout, ["multiplied by 2", "dropout"], id="rescaled-like-dropout"),
]

CORRECT_masking_noise = [
    pytest.param(masking_noise, id="library-reference"),
    pytest.param(my_masking_noise, id="solution-notebook"),
    pytest.param(_randperm_per_sample, id="randperm-per-sample-loop"),
    pytest.param(_topk_of_uniforms, id="topk-of-uniforms"),
    pytest.param(_multinomial, id="multinomial-without-replacement"),
]


@pytest.mark.parametrize("candidate, words", WRONG_masking_noise)
def test_masking_noise_rejects_wrong(candidate, words):
    rejects(check_masking_noise, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_masking_noise)
def test_masking_noise_accepts_correct(candidate, capsys):
    _accepts(check_masking_noise, candidate, capsys)


# --- salt and pepper ---------------------------------------------------------------------------

def my_salt_and_pepper(x: torch.Tensor, nu: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """The solution notebook's answer, verbatim."""
    b, d = len(x), x[0].numel()
    chosen = torch.rand(b, d, generator=generator).argsort(dim=1).argsort(dim=1) < round(nu * d)
    coin = (torch.rand(b, d, generator=generator) < 0.5).to(x.dtype)
    return torch.where(chosen, coin, x.flatten(1)).view_as(x)


def _with_coin(coin_of):
    """Salt and pepper on exactly round(ν·D) inputs, correct except for the coins: coin_of(x, nu, generator) → {0, 1}."""
    def fn(x, nu, generator=None):
        chosen = masking_noise(torch.ones_like(x), nu, generator) == 0
        return torch.where(chosen, coin_of(x, nu, generator), x)
    return fn


def _all_salt(x, nu, generator=None):
    return torch.where(masking_noise(torch.ones_like(x), nu, generator) == 0, torch.ones_like(x), x)


def _independent_salt_and_pepper(x, nu, generator=None):
    u = torch.rand(x.shape, generator=generator)
    return torch.where(u < nu / 2, 0.0, torch.where(u < nu, 1.0, x))


def _salt_plus_noise(x, nu, generator=None):
    chosen = masking_noise(torch.ones_like(x), nu, generator) == 0
    return torch.where(chosen, torch.rand(x.shape, generator=generator), x)


def _exact_half_per_sample(x, nu, generator=None):
    b, d = len(x), x[0].numel()
    ranks = torch.rand(b, d, generator=generator).argsort(1).argsort(1)
    k = round(nu * d)
    flat = x.flatten(1)
    return torch.where(ranks < k // 2, 0.0, torch.where(ranks < k, 1.0, flat)).view_as(x)


def _fixed_seed_salt_and_pepper(x, nu, generator=None):
    return salt_and_pepper(x, nu, generator if generator is not None else torch.Generator().manual_seed(0))


def _resets_generator_salt_and_pepper(x, nu, generator=None):
    if generator is not None:
        generator.manual_seed(1)
    return salt_and_pepper(x, nu, generator)


def _salt_and_pepper_in_place(x, nu, generator=None):
    x.copy_(salt_and_pepper(x, nu, generator))
    return x


def _salt_and_pepper_truncated(x, nu, generator=None):
    chosen = _masked_with(lambda nu, d: int(nu * d))(torch.ones_like(x), nu, generator) == 0
    return torch.where(chosen, (torch.rand(x.shape, generator=generator) < 0.5).to(x.dtype), x)


WRONG_salt_and_pepper = [
    pytest.param(_all_salt, ["mostly salt"], id="all-salt"),
    pytest.param(_independent_salt_and_pepper, ["exactly", "random subset"], id="independent-per-input"),
    pytest.param(_salt_plus_noise, ["other than 0 or 1"], id="uniform-noise-values"),
    pytest.param(lambda x, nu, g=None: salt_and_pepper(x, nu), ["seeded alike", "generator"], id="ignores-generator"),
    pytest.param(lambda x, nu, g=None: masking_noise(x, nu, g), ["mostly pepper"], id="masking-only"),
    pytest.param(_with_coin(lambda x, nu, g: (torch.rand(x.shape, generator=g) < nu).to(x.dtype)),
                 ["ν = 0.25", "depend on ν"], id="coin-probability-nu"),
    pytest.param(_with_coin(lambda x, nu, g: (torch.rand(len(x), *[1] * (x.ndim - 1), generator=g) < 0.5)
                            .to(x.dtype).expand_as(x)), ["all the corrupted inputs got the same value",
                                                         "not one per sample"], id="one-coin-per-sample"),
    pytest.param(_with_coin(lambda x, nu, g: (torch.rand(x[0].shape, generator=g) < 0.5).to(x.dtype).expand_as(x)),
                 ["shared by the batch"], id="one-coin-per-position"),
    pytest.param(_exact_half_per_sample, ["exactly half", "independent fair coin"], id="exact-half-per-sample"),
    pytest.param(_with_coin(lambda x, nu, g: (torch.rand(x.shape, generator=g) < 0.5) * x.max()),
                 ["other than 0 or 1"], id="salt-is-the-batch-maximum"),
    pytest.param(_fixed_seed_salt_and_pepper, ["generator=none", "fixed seed"], id="fixed-seed-fallback-for-none"),
    pytest.param(_resets_generator_salt_and_pepper, ["resets or copies"], id="resets-the-generator"),
    pytest.param(_salt_and_pepper_in_place, ["in place"], id="in-place"),
    pytest.param(_salt_and_pepper_truncated, ["truncated"], id="count-truncated"),
]

CORRECT_salt_and_pepper = [
    pytest.param(salt_and_pepper, id="library-reference"),
    pytest.param(my_salt_and_pepper, id="solution-notebook"),
    pytest.param(_with_coin(lambda x, nu, g: torch.bernoulli(torch.full(x.shape, 0.5), generator=g)),
                 id="bernoulli-coins"),
    pytest.param(_with_coin(lambda x, nu, g: torch.randint(0, 2, x.shape, generator=g).float()), id="randint-coins"),
]


@pytest.mark.parametrize("candidate, words", WRONG_salt_and_pepper)
def test_salt_and_pepper_rejects_wrong(candidate, words):
    rejects(check_salt_and_pepper, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_salt_and_pepper)
def test_salt_and_pepper_accepts_correct(candidate, capsys):
    _accepts(check_salt_and_pepper, candidate, capsys)


# --- one greedy pretraining stage --------------------------------------------------------------

def my_pretrain_stage(stack, level: int, x: torch.Tensor, corrupt, epochs: int = 5, lr: float = 3e-3) -> list[float]:
    """The solution notebook's answer, verbatim."""
    with torch.no_grad():
        h = stack.encode(x, depth=level)
    encoder, decoder = stack.encoders[level], stack.decoders[level]
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for batch in h[torch.randperm(len(h))].split(16):
            loss = reconstruction_loss(decoder(encoder(corrupt(batch))), batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(h))
    return losses


def _make_stage(*, frozen_grad=False, target_noisy=False, corrupt_images=False, whole_stack=False, step=True,
                all_parameters=False, returns="mean", loss="reconstruction", zero_grad=True, shuffle=True,
                batch_size=16, drop_last=False, corrupt_once=False, use_corrupted=True, optimizer="adam",
                use_lr=True, freeze_flags=False, restore_flags=True):
    """The reference written by hand, with one switch per plausible mistake (or harmless variation)."""
    def pretrain(stack, level, x, corrupt, epochs=5, lr=3e-3):
        encoder, decoder = stack.encoders[level], stack.decoders[level]
        if freeze_flags:
            for stage in stack.encoders[:level]:
                stage.requires_grad_(False)
        params = list(stack.parameters()) if all_parameters or whole_stack else [*encoder.parameters(), *decoder.parameters()]
        kwargs = {"lr": lr} if use_lr else {}
        opt = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer]
        optimizer_ = opt(params, **({"lr": lr} if optimizer == "sgd" else kwargs))
        with torch.no_grad():
            codes = stack.encode(x, depth=level)
        noisy_all = corrupt(codes) if corrupt_once else None
        losses, per_batch = [], []
        for _ in range(epochs):
            total, sizes, batch_losses = 0.0, 0, []
            order = torch.randperm(len(x)) if shuffle else torch.arange(len(x))
            for idx in order.split(batch_size):
                if drop_last and len(idx) < batch_size:
                    continue
                batch = x[idx]
                if whole_stack:
                    value = reconstruction_loss(stack(corrupt(batch)), batch)
                else:
                    if corrupt_images:
                        noisy, clean = stack.encode(corrupt(batch), depth=level), stack.encode(batch, depth=level)
                    elif frozen_grad:
                        clean = stack.encode(batch, depth=level)
                        noisy = corrupt(clean)
                    elif corrupt_once:
                        clean, noisy = codes[idx], noisy_all[idx]
                    else:
                        with torch.no_grad():
                            clean = stack.encode(batch, depth=level)
                        noisy = corrupt(clean)
                    if not use_corrupted:
                        noisy = clean
                    target = noisy if target_noisy else clean
                    out = decoder(encoder(noisy))
                    if loss == "mse":
                        value = F.mse_loss(out, target.detach() if not frozen_grad else target)
                    else:
                        value = reconstruction_loss(out, target.detach() if not frozen_grad else target)
                if zero_grad:
                    optimizer_.zero_grad()
                value.backward()
                if step:
                    optimizer_.step()
                total += value.item() * len(batch)
                sizes += len(batch)
                batch_losses.append(value.item())
                per_batch.append(value.item())
            losses.append({"mean": total / sizes, "sum": sum(batch_losses), "unweighted": sum(batch_losses) / len(batch_losses),
                           "tensor": torch.tensor(total / sizes)}.get(returns, total / sizes))
        if freeze_flags and restore_flags:
            for stage in stack.encoders[:level]:
                stage.requires_grad_(True)
        if returns == "none":
            return None
        if returns == "per-batch":
            return per_batch
        if returns == "dict":
            return {"loss": losses}
        if returns == "tuple":
            return tuple(losses)
        return losses
    return pretrain


def _no_corruption(stack, level, x, corrupt, epochs=5, lr=3e-3):
    return _make_stage()(stack, level, x, lambda h: h, epochs=epochs, lr=lr)


def _library_stage_loss_with_a_data_loader(stack, level, x, corrupt, epochs=5, lr=3e-3):
    with torch.no_grad():
        h = stack.encode(x, depth=level).detach()
    optimizer = torch.optim.Adam(torch.nn.ModuleList([stack.encoders[level], stack.decoders[level]]).parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(h), batch_size=16, shuffle=True)
    losses = []
    for _ in range(epochs):
        values = []
        for (batch,) in loader:
            optimizer.zero_grad()
            loss = stage_loss(stack, level, batch, corrupt)
            loss.backward()
            optimizer.step()
            values.append(loss.item())
        losses.append(sum(values) / len(values))
    return losses


def _clips_x_in_place(stack, level, x, corrupt, epochs=5, lr=3e-3):
    x.clamp_(0.1, 0.9)  # "tidies" the caller's images
    return my_pretrain_stage(stack, level, x, corrupt, epochs=epochs, lr=lr)


WRONG_pretrain_stage = [
    pytest.param(_make_stage(frozen_grad=True, all_parameters=True), ["frozen", "no_grad"], id="frozen-stages-trained"),
    pytest.param(_make_stage(whole_stack=True), ["frozen"], id="whole-stack"),
    pytest.param(_make_stage(corrupt_images=True), ["codes h", "shape"], id="corrupts-images-not-codes"),
    pytest.param(_make_stage(target_noisy=True), ["clean"], id="target-is-the-corrupted-codes"),
    pytest.param(_make_stage(step=False), ["did not change"], id="no-optimizer-step"),
    pytest.param(_no_corruption, ["never called"], id="no-corruption"),
    pytest.param(_make_stage(returns="none"), ["returned none", "losses[0]"], id="returns-none"),
    pytest.param(_make_stage(returns="tensor"), ["tensors", "python floats"], id="returns-tensors"),
    pytest.param(_make_stage(returns="per-batch"), ["32 values for epochs=8", "one mean loss per epoch"],
                 id="returns-every-minibatch-loss"),
    pytest.param(_make_stage(returns="dict"), ["returned a dict", "list"], id="returns-a-dict"),
    pytest.param(_make_stage(returns="sum"), ["4× (the number of minibatches)", "summed"], id="sums-the-minibatch-losses"),
    pytest.param(_make_stage(loss="mse"), ["1/d", "reconstruction_loss"], id="mse-mean-loss"),
    pytest.param(_make_stage(frozen_grad=True), ["gradients flowed back into the frozen stages", "no_grad"],
                 id="codes-with-gradients"),
    pytest.param(_make_stage(corrupt_once=True), ["drawn once", "each minibatch"], id="corrupts-once-for-all-codes"),
    pytest.param(_make_stage(batch_size=64), ["batches of 56", "minibatches of 16"], id="full-batch"),
    pytest.param(_make_stage(drop_last=True), ["384 codes", "last, smaller minibatch was dropped"], id="drops-last-batch"),
    pytest.param(_make_stage(use_corrupted=False), ["did not come out of `corrupt`"], id="corrupted-codes-unused"),
    pytest.param(_make_stage(zero_grad=False), ["accumulate", "zero_grad"], id="missing-zero-grad"),
    pytest.param(_make_stage(shuffle=False), ["original order", "shuffle"], id="no-shuffle"),
    pytest.param(_make_stage(use_lr=False), ["moved by 0.001", "default learning rate"], id="ignores-lr"),
    pytest.param(_make_stage(optimizer="sgd"), ["adam"], id="sgd-instead-of-adam"),
    pytest.param(_make_stage(freeze_flags=True, restore_flags=False), ["requires_grad=false", "no_grad"],
                 id="leaves-stages-frozen"),
    pytest.param(_clips_x_in_place, ["changed the images x in place"], id="x-modified-in-place"),
]

CORRECT_pretrain_stage = [
    pytest.param(my_pretrain_stage, id="solution-notebook"),
    pytest.param(_make_stage(), id="by-hand-codes-per-minibatch"),
    pytest.param(_make_stage(all_parameters=True), id="optimizer-gets-every-parameter"),
    pytest.param(_make_stage(returns="unweighted"), id="mean-of-minibatch-means"),
    pytest.param(_make_stage(returns="tuple"), id="returns-a-tuple"),
    pytest.param(_make_stage(freeze_flags=True), id="requires-grad-off-then-restored"),
    pytest.param(_library_stage_loss_with_a_data_loader, id="stage-loss-and-a-data-loader"),
]


@pytest.mark.parametrize("candidate, words", WRONG_pretrain_stage)
def test_pretrain_stage_rejects_wrong(candidate, words):
    rejects(check_pretrain_stage, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_pretrain_stage)
def test_pretrain_stage_accepts_correct(candidate, capsys):
    _accepts(check_pretrain_stage, candidate, capsys)


# --- the modality-dropout batch ----------------------------------------------------------------

def my_modality_dropout(t1: torch.Tensor, t2: torch.Tensor, generator: torch.Generator | None = None):
    """The solution notebook's answer, verbatim."""
    b = len(t1)
    order = torch.randperm(b, generator=generator)
    keep_t1, keep_t2 = torch.ones(b, 1, 1, 1), torch.ones(b, 1, 1, 1)
    keep_t2[order[: b // 3]] = 0  # only T1
    keep_t1[order[b // 3 : 2 * (b // 3)]] = 0  # only T2
    return torch.cat([t1 * keep_t1, t2 * keep_t2], dim=1), torch.cat([t1, t2], dim=1)


def _reference_dropout(t1, t2, generator=None):
    inputs, targets, _ = modality_dropout(t1, t2, generator)
    return inputs, targets


def _with_thirds(third_of, rest_to=2):
    """Modality dropout dealt by a random permutation, with group sizes third_of(b) (and the rest to group rest_to)."""
    def fn(t1, t2, generator=None):
        b, third = len(t1), third_of(len(t1))
        order = torch.randperm(b, generator=generator)
        group = torch.full((b,), rest_to)
        others = [g for g in (0, 1, 2) if g != rest_to]
        group[order[:third]], group[order[third : 2 * third]] = others[0], others[1]
        group = group.view(-1, 1, 1, 1)
        return torch.cat([t1 * (group != 1), t2 * (group != 0)], 1), torch.cat([t1, t2], 1)
    return fn


def _independent_thirds(t1, t2, generator=None):
    group = torch.randint(3, (len(t1),), generator=generator).view(-1, 1, 1, 1)
    return torch.cat([t1 * (group != 1), t2 * (group != 0)], 1), torch.cat([t1, t2], 1)


def _by_position(t1, t2, generator=None):
    b = len(t1)
    group = torch.full((b,), 2)
    group[: b // 3], group[b // 3 : 2 * (b // 3)] = 0, 1
    group = group.view(-1, 1, 1, 1)
    return torch.cat([t1 * (group != 1), t2 * (group != 0)], 1), torch.cat([t1, t2], 1)


def _dropped_targets(t1, t2, generator=None):
    inputs, _ = _reference_dropout(t1, t2, generator)
    return inputs, inputs.clone()


def _swapped_channels(t1, t2, generator=None):
    inputs, targets = _reference_dropout(t1, t2, generator)
    return inputs.flip(1), targets


def _sometimes_nothing(t1, t2, generator=None):
    inputs, targets = _reference_dropout(t1, t2, generator)
    inputs[0] = 0
    return inputs, targets


def _fixed_seed_dropout(t1, t2, generator=None):
    return _reference_dropout(t1, t2, generator if generator is not None else torch.Generator().manual_seed(0))


def _resets_generator_dropout(t1, t2, generator=None):
    if generator is not None:
        generator.manual_seed(0)
    return _reference_dropout(t1, t2, generator)


def _copies_generator_dropout(t1, t2, generator=None):
    if generator is not None:
        generator = torch.Generator().set_state(generator.get_state())  # the caller's generator never moves on
    return _reference_dropout(t1, t2, generator)


def _zeroes_t1_in_place(t1, t2, generator=None):
    inputs, targets = _reference_dropout(t1.clone(), t2.clone(), generator)
    t1.mul_(inputs[:, :1] != 0)
    return inputs, targets


def _pixel_dropout(t1, t2, generator=None):
    u = torch.rand(t1.shape, generator=generator)  # a group for every pixel instead of every sample
    return torch.cat([t1 * (u >= 1 / 3), t2 * (u < 2 / 3)], 1), torch.cat([t1, t2], 1)


def _rescaled(t1, t2, generator=None):
    inputs, targets = _reference_dropout(t1, t2, generator)
    return inputs * 1.5, targets


def _as_a_list(t1, t2, generator=None):
    return list(_reference_dropout(t1, t2, generator))


def _with_where_and_argsort(t1, t2, generator=None):
    b = len(t1)
    rank = torch.rand(b, generator=generator).argsort().argsort().view(-1, 1, 1, 1)  # a random permutation
    only_t1, only_t2 = rank < b // 3, (rank >= b // 3) & (rank < 2 * (b // 3))
    return (torch.cat([torch.where(only_t2, 0.0, t1), torch.where(only_t1, 0.0, t2)], 1),
            torch.stack([t1[:, 0], t2[:, 0]], 1))


WRONG_modality_dropout = [
    pytest.param(_independent_thirds, ["exact thirds", "permutation"], id="independent-draw-per-sample"),
    pytest.param(_by_position, ["at random"], id="groups-by-position"),
    pytest.param(_dropped_targets, ["full pair"], id="targets-are-the-inputs"),
    pytest.param(_swapped_channels, ["channel 0 is T1", "swapped"], id="swapped-channels"),
    pytest.param(_sometimes_nothing, ["neither modality"], id="a-sample-with-nothing"),
    pytest.param(lambda t1, t2, g=None: _reference_dropout(t1, t2, None), ["seeded alike", "generator"],
                 id="ignores-generator"),
    pytest.param(lambda t1, t2, g=None: _reference_dropout(t1, t2, g)[0], ["tuple (inputs, targets)"],
                 id="returns-inputs-only"),
    pytest.param(lambda t1, t2, g=None: modality_dropout(t1, t2, g), ["length 3", "exactly two values"],
                 id="returns-three-values"),
    pytest.param(lambda t1, t2, g=None: dict(zip(("inputs", "targets"), _reference_dropout(t1, t2, g))),
                 ["returned a dict", "inputs, targets ="], id="returns-a-dict"),
    pytest.param(lambda t1, t2, g=None: _reference_dropout(t1, t2, g)[::-1], ["wrong order"], id="targets-first"),
    pytest.param(_with_thirds(lambda b: round(b / 3)), ["batch of 8", "round or ceil"], id="thirds-rounded"),
    pytest.param(_with_thirds(lambda b: -(-b // 3)), ["batch of 7", "round or ceil"], id="thirds-ceil"),
    pytest.param(_with_thirds(lambda b: b // 3, rest_to=0), ["batch of 7", "exact thirds"], id="rest-to-only-t1"),
    pytest.param(_fixed_seed_dropout, ["generator=none", "fixed seed"], id="fixed-seed-fallback-for-none"),
    pytest.param(_resets_generator_dropout, ["does not depend on the generator", "re-seeded"], id="resets-the-generator"),
    pytest.param(_copies_generator_dropout, ["*same* generator", "resets or copies"], id="copies-the-generator"),
    pytest.param(_zeroes_t1_in_place, ["in place"], id="in-place-on-t1"),
    pytest.param(_pixel_dropout, ["neither the t1 image unchanged nor all zeros", "single pixels"], id="pixel-dropout"),
    pytest.param(_rescaled, ["multiplied by 1.5"], id="rescaled-like-dropout"),
]

CORRECT_modality_dropout = [
    pytest.param(_reference_dropout, id="library-reference"),
    pytest.param(my_modality_dropout, id="solution-notebook"),
    pytest.param(_as_a_list, id="returns-a-list-of-two"),
    pytest.param(_with_where_and_argsort, id="where-and-argsort"),
]


@pytest.mark.parametrize("candidate, words", WRONG_modality_dropout)
def test_modality_dropout_rejects_wrong(candidate, words):
    rejects(check_modality_dropout, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_modality_dropout)
def test_modality_dropout_accepts_correct(candidate, capsys):
    _accepts(check_modality_dropout, candidate, capsys)


# --- the suites' size and shared behaviour -----------------------------------------------------

@pytest.mark.parametrize("wrong, correct", [
    (WRONG_masking_noise, CORRECT_masking_noise),
    (WRONG_salt_and_pepper, CORRECT_salt_and_pepper),
    (WRONG_pretrain_stage, CORRECT_pretrain_stage),
    (WRONG_modality_dropout, CORRECT_modality_dropout),
], ids=["masking_noise", "salt_and_pepper", "pretrain_stage", "modality_dropout"])
def test_every_check_has_a_mutant_suite(wrong, correct):
    assert len(wrong) >= 8 and len(correct) >= 2


def test_pass_lines_are_unchanged(capsys):
    """The executed solution notebook shows these lines; its regression test compares them byte for byte."""
    check_masking_noise(my_masking_noise)
    check_salt_and_pepper(my_salt_and_pepper)
    check_pretrain_stage(my_pretrain_stage)
    check_modality_dropout(my_modality_dropout)
    assert capsys.readouterr().out.splitlines() == [
        "✓ check_masking_noise passed: 6 hidden cases: the exact fraction per sample, a fresh subset per sample, "
        "uniform over the inputs, reproducible with the generator.",
        "✓ check_salt_and_pepper passed: 6 hidden cases: the exact fraction per sample, salt and pepper half each, "
        "a fresh subset per sample, reproducible with the generator.",
        "✓ check_pretrain_stage passed: the frozen and later stages did not move, the new stage learned to "
        "reconstruct its clean input codes from corrupted ones (levels 0 and 1).",
        "✓ check_modality_dropout passed: exact thirds only-T1 / only-T2 / both, dealt at random, with the full "
        "pair as the target.",
    ]


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_masking_noise(masking_noise)
    check_salt_and_pepper(salt_and_pepper)
    check_pretrain_stage(my_pretrain_stage)
    check_modality_dropout(_reference_dropout)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("check", [check_masking_noise, check_salt_and_pepper, check_pretrain_stage,
                                   check_modality_dropout])
def test_blank_raises_not_implemented(check):
    with pytest.raises(NotImplementedError) as info:
        check(blank)
    assert type(info.value) is NotImplementedError  # not wrapped in CheckFailed
