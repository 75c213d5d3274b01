"""`fashionseg show-batch <recipe>`: a picture of a training batch as the model will see it, before training."""
from fashionseg.commands._options import add_recipe_options, apply_overrides
from fashionseg.registry.recipes import find_recipe
from fashionseg.utils.console import console as make_console

# Settings that shape training, not the batch: show-batch builds the data alone.
NOT_USED = frozenset({"epochs", "lr", "schedule", "step_factor", "step_every", "metrics", "eval_limit", "keep_best",
                      "log_every", "track", "experiment", "early_stop", "monitor", "precision", "opt", "wd", "ema",
                      "loss", "loss_options", "weights", "freeze_epochs", "tta", "tile", "overlap", "show_epochs",
                      "show_items", "ensemble", "tsne", "accumulate", "clip", "mixup", "cutmix", "label_smoothing",
                      "channels_last", "sync_bn", "bs", "arch_options"})


def add_parser(sub):
    p = sub.add_parser("show-batch", help="draw a batch of training items after augmentation (fastai's show_batch), "
                                          "masks in their class colours")
    p.add_argument("recipe", help="recipe name (see `fashionseg list recipes`) or path to a recipe script")
    p.add_argument("--n", type=int, default=9, help="how many items to draw (default 9)")
    p.add_argument("--out", default=None, help="the PNG to write (default: <recipe name>-batch.png here)")
    add_recipe_options(p, exclude=NOT_USED)
    p.set_defaults(func=show_batch)


def show_batch(args):
    from pathlib import Path

    import matplotlib.pyplot as plt
    from fastai.torch_core import set_seed

    from fashionseg.build.learner import build_data
    from fashionseg.errors import FashionsegError
    from fashionseg.report.figures import batch_figure
    from fashionseg.utils.files import atomic_write, check_file_path, png_bytes

    if args.n < 1:
        raise FashionsegError(f"--n must be at least 1, got {args.n}")
    recipe = apply_overrides(find_recipe(args.recipe), args).override(bs=args.n, mixup=0, cutmix=0)
    out = Path(args.out or f"{recipe.name}-batch.png")
    check_file_path(out, "--out", "batch.png")
    set_seed(recipe.seed)
    data = build_data(recipe)
    if len(data.dls.train.dataset) < args.n:
        raise FashionsegError(f"the recipe trains on {len(data.dls.train.dataset)} items; ask for that many or fewer "
                              f"with --n")
    augment = recipe.data_options.get("augment", "the data set's default")
    fig = batch_figure(data, args.n, f"{recipe.name}: training batch, augment {augment}")
    atomic_write(out, png_bytes(fig))
    plt.close(fig)
    make_console().print(f"{args.n} training items of {recipe.name} as training sees them: {out}")
