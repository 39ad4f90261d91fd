"""seed_everything, default_device, the checkpoint zoo and the recipes it registers."""

import random

import numpy as np
import pytest
import torch

from course_lib import default_device, recipes, seed_everything, zoo
from course_lib.autoencoders import ConvAutoencoder
from course_lib.recipes import translation as recipes05


def test_seed_everything_makes_all_generators_repeat():
    seed_everything(3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(-1)
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(1.5)


def test_default_device(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert default_device() == torch.device("cpu")
    monkeypatch.delenv("COURSE_DEVICE")
    assert default_device().type in {"cpu", "cuda"}


@pytest.mark.parametrize("name", sorted(zoo.RECIPES))
def test_every_recipe_has_a_verified_checkpoint(name):
    model = zoo.load(name)  # raises if the file is missing or its sha256 does not match
    assert not model.training
    assert isinstance(model, type(zoo.RECIPES[name].build()))


def test_zoo_registers_every_recipe_once_in_order():
    assert list(zoo.RECIPES) == [recipe.name for recipe in recipes.ALL]
    assert all(zoo.RECIPES[recipe.name] is recipe for recipe in recipes.ALL)


def test_unknown_checkpoint_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown checkpoint"):
        zoo.load("no_such_model")


def test_recipe_trains_and_saves(tmp_path, monkeypatch):
    """A recipe runs end to end and its checkpoint round-trips (tiny stand-in recipe)."""
    monkeypatch.setattr(zoo, "CHECKPOINT_DIR", tmp_path)
    x = torch.rand(16, 1, 32, 32)
    trained = {}

    def fit(model, progress, device):
        trained["device"] = device
        with torch.no_grad():
            model.decoder[0].bias.add_(1.0)  # a visible change from the freshly built model
        trained["model"] = model
        return {"loss": [float(((model(x) - x) ** 2).sum().detach())]}

    recipe = recipes.Recipe("tiny", "test", build=lambda: ConvAutoencoder(2, size=32), fit=fit)
    monkeypatch.setitem(zoo.RECIPES, "tiny", recipe)
    path, history = zoo.train("tiny", progress=False)
    assert path == tmp_path / "tiny.pt" and (tmp_path / "tiny.pt.sha256").exists()
    reloaded = zoo.load("tiny").state_dict()
    assert all(torch.equal(reloaded[k], v) for k, v in trained["model"].state_dict().items())
    assert len(history["loss"]) == 1
    assert trained["device"] == torch.device("cpu")  # the default; `make checkpoints DEVICE=…` passes its own
    with pytest.raises(SystemExit):  # the command line refuses a device this machine does not have, before training
        zoo.main(["--train", "tiny", "--device", "gpu"])


def test_translation_test_data_levels():
    """Lecture 05's held-out pairs, with their levels: the same slices with or without the meta,
    drawn from all four quarters of the brain (the lecture compares translators block by block)."""
    t1, t2 = recipes05.translation05_test_data(40)
    t1_m, t2_m, meta = recipes05.translation05_test_data(40, return_meta=True)
    assert torch.equal(t1, t1_m) and torch.equal(t2, t2_m)
    assert meta["band"].shape == (40,) and set(meta["band"].tolist()) == {0, 1, 2, 3}


def test_checkpoint_names_and_seeds_of_the_wrong_kind_are_clear_errors():
    with pytest.raises(TypeError, match="name must be the name of a checkpoint"):
        zoo.checkpoint_path(None)
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(2**64)
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(True)
