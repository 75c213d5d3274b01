"""`fashionseg lr-find <recipe>`: fastai's learning-rate finder with a table and a plot."""
from rich.table import Table

from fashionseg.commands._options import add_recipe_options, apply_overrides, command_line, override_argv
from fashionseg.registry.recipes import find_recipe
from fashionseg.utils.console import console as make_console

# Recipe settings lr_find does not use: it sweeps the learning rate over `--iters` mini-batches,
# without a schedule, metrics, validation or a run's checkpoints and logs.
NOT_USED = frozenset({"epochs", "lr", "schedule", "metrics", "eval_limit", "keep_best", "log_every", "track",
                      "experiment"})


def add_parser(sub):
    p = sub.add_parser("lr-find", help="run fastai's lr_find for a recipe and suggest learning rates")
    p.add_argument("recipe", help="recipe name (see `fashionseg list recipes`) or path to a recipe script")
    p.add_argument("--iters", type=int, default=100, help="mini-batches to try (default 100)")
    add_recipe_options(p, exclude=NOT_USED)
    p.set_defaults(func=lr_find)


def lr_find(args):
    from fashionseg.build.learner import build_learner
    from fashionseg.callbacks.progress import RichProgress
    from fashionseg.engine.lr_find import lr_suggestions
    from fashionseg.report.figures import lr_find_figure
    from fashionseg.run_folders.folder import RunFolder

    console = make_console()
    recipe = apply_overrides(find_recipe(args.recipe), args)
    built = build_learner(recipe)
    if built.weights is not None:
        built.weights.show(console)
    learn = built.learn
    learn.add_cb(RichProgress(console, title=f"lr_find: {recipe.name}"))
    run = RunFolder.create(args.runs_dir, f"{recipe.name}-lr-find")
    run.write_json("config.json", recipe.to_dict())
    values = lr_suggestions(learn, args.iters)
    plot = run.save_figure(lr_find_figure(learn.recorder, values, f"lr_find: {recipe.name}"), "lr_find")
    run.write_json("lr_find.json", {"suggestions": values, "plot": plot})
    table = Table(title=f"lr_find: {recipe.name}", title_justify="left")
    table.add_column("method")
    table.add_column("suggested lr", justify="right")
    for name, value in values.items():
        table.add_row(name, f"{value:.2e}")
    console.print(table)
    console.print(f"plot: {run.path / plot}")
    console.print("use it (valley is fastai's default pick; compare the others against the plot):")
    console.print(suggested_command(args, values["valley"]), markup=False, highlight=False, soft_wrap=True)


def suggested_command(args, lr: float) -> str:
    """`fashionseg train` with every override the user gave lr-find, and the suggested learning rate."""
    return command_line("fashionseg", "train", args.recipe, *override_argv(args, drop={"lr"}), "--lr", f"{lr:.2e}")
