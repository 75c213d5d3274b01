"""Recipes: overrides from the command line, validation, every setting's help."""
import dataclasses

import pytest

from fashionseg import FashionsegError, Recipe


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
    ({"valid": "1.5"}, "valid must be 'test', a fraction in \\(0, 1\\), a range such as 250-350 or a fold"),
    ({"schedule": "cosine"}, "schedule must be one of"),
    ({"opt": "adagrad"}, "opt must be one of adam, torch-adam, sgd"),
    ({"epoch": "3"}, "Did you mean 'epochs'"),
    ({"foo.bar": "1"}, "take a dot"),
])
def test_bad_values_are_user_errors(change, message):
    with pytest.raises(FashionsegError, match=message):
        base().override(**change)


def test_torch_adam_is_torch_optim_adam_with_the_recipe_weight_decay():
    import torch
    from fastai.optimizer import OptimWrapper

    from fashionseg.build.optimizers import optimizer

    model = torch.nn.Linear(3, 2)
    opt = optimizer("torch-adam")(list(model.parameters()), lr=1e-3)
    opt.set_hypers(wd=1e-4)
    assert isinstance(opt, OptimWrapper) and isinstance(opt.opt, torch.optim.Adam)
    assert opt.opt.param_groups[0]["weight_decay"] == 1e-4 and opt.opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_eval_limit_and_keep_best_settings():
    assert base().eval_limit == 0 and base().keep_best == 0
    assert base().override(eval_limit="256").eval_limit == 256
    with pytest.raises(FashionsegError, match="eval_limit must be at least 0"):
        base().override(eval_limit="-1")
    with pytest.raises(FashionsegError, match="data_options must be a dict"):
        base().override(data_options="flip")


def test_every_recipe_setting_explains_itself():
    for f in dataclasses.fields(Recipe):
        assert f.metadata.get("help"), f"recipe field {f.name} lacks its help: declare it with recipe.setting()"
