"""Recipes: overrides from the command line, validation, finding recipes by name."""
import pytest

from fashionseg import FashionsegError, Recipe
from fashionseg.recipe import all_recipes, find_recipe


def base():
    return Recipe(name="r", dataset="fashion-mnist", arch="basenet")


def test_overrides_coerce_command_line_strings():
    r = base().override(epochs="3", lr="0.01", metrics="accuracy,per-class-accuracy",
                        channels_last="true", **{"arch_options.widths": "(8, 16, 32)", "data_options.augment": "flip"})
    assert r.epochs == 3 and r.lr == 0.01 and r.channels_last is True
    assert r.metrics == ["accuracy", "per-class-accuracy"]
    assert r.arch_options == {"widths": (8, 16, 32)} and r.data_options == {"augment": "flip"}


@pytest.mark.parametrize("change, message", [
    ({"epochs": "0"}, "epochs must be at least 1"),
    ({"lr": "-1"}, "lr must be positive"),
    ({"epochs": "many"}, "epochs must be a int"),
    ({"valid": "1.5"}, "valid must be 'test', a fraction in \\(0, 1\\) or a range"),
    ({"schedule": "cosine"}, "schedule must be one of"),
    ({"opt": "adagrad"}, "opt must be one of adam, torch-adam, sgd"),
    ({"epoch": "3"}, "Did you mean 'epochs'"),
    ({"foo.bar": "1"}, "take a dot"),
])
def test_bad_values_are_user_errors(change, message):
    with pytest.raises(FashionsegError, match=message):
        base().override(**change)


def test_repository_recipes_are_found_by_name():
    names = set(all_recipes())
    assert {"seed000", "basenet", "basenet-improved", "resnet101", "fashion-fast", "fashion-best"} <= names
    seed = find_recipe("seed000")
    assert (seed.arch, seed.epochs, seed.lr, seed.wd, seed.bs, seed.schedule) == ("seed000-cnn", 20, 1e-3, 1e-4, 128, "constant")
    assert seed.opt == "torch-adam"  # the report's optimizer: torch.optim.Adam, L2 weight decay


def test_torch_adam_is_torch_optim_adam_with_the_recipe_weight_decay():
    import torch
    from fastai.optimizer import Adam, OptimWrapper

    from fashionseg.build import optimizer

    model = torch.nn.Linear(3, 2)
    opt = optimizer("torch-adam")(list(model.parameters()), lr=1e-3)
    opt.set_hypers(wd=1e-4)
    assert isinstance(opt, OptimWrapper) and isinstance(opt.opt, torch.optim.Adam)
    assert opt.opt.param_groups[0]["weight_decay"] == 1e-4 and opt.opt.param_groups[0]["betas"] == (0.9, 0.999)
    assert optimizer("adam") is Adam


def test_unknown_recipe_suggests(tmp_path):
    with pytest.raises(FashionsegError, match="Did you mean 'seed000'"):
        find_recipe("seed00")
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    with pytest.raises(FashionsegError, match="defines no `recipe"):
        find_recipe(str(bad))
