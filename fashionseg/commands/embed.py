"""`fashionseg embed <run>`: t-SNE of the penultimate-layer features of the test set."""
from rich.console import Console
from rich.table import Table


def add_parser(sub):
    p = sub.add_parser("embed", help="t-SNE scatter of a run's penultimate-layer features of the test set")
    p.add_argument("run", help="a classification run folder")
    p.add_argument("--sample", type=int, default=2000,
                   help="embed a seeded random sample of this many test images (default 2000; 0: all)")
    p.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed for the sample and t-SNE (default 0)")
    p.set_defaults(func=embed)


def embed(args):
    from ..analysis.embedding import collect_features, sample_positions, tsne, used_perplexity
    from ..analysis.figures import embedding_figure
    from ..layers import find_module
    from ..analysis.loaded_run import load_run
    from ..analysis.sections import set_report_section, update_metrics
    from ..errors import FashionsegError
    from ..report import figure_links

    if not args.perplexity > 0:
        raise FashionsegError(f"--perplexity must be positive (5-50 is usual), got {args.perplexity}")
    console = Console()
    loaded = load_run(args.run, "embed", require=feature_layer)
    layer_name = loaded.trained.arch.feature_layer
    items = loaded.test_items()
    positions = sample_positions(len(items), args.sample, args.seed)
    with console.status(f"features of {len(positions)} test images"):
        features, labels, preds = collect_features(loaded.model, loaded.test_loader(positions), layer_name)
    perplexity = used_perplexity(features.shape[0], args.perplexity)
    if perplexity != args.perplexity:
        console.print(f"perplexity {perplexity:g} used, not {args.perplexity:g}: t-SNE needs it below a third of "
                      f"the {features.shape[0]} images")
    with console.status(f"t-SNE of {features.shape[0]} x {features.shape[1]} features"):
        coords = tsne(features, args.seed, perplexity)
    classes = loaded.data.classes
    layer = type(find_module(loaded.model, layer_name)).__name__
    title = f"t-SNE of the input to the final {layer} ({features.shape[1]}-d), {len(positions)} test images"
    figure = loaded.run.save_figure(embedding_figure(coords, labels, classes, title), "tsne")
    loaded.run.write_csv("tsne.csv", ["position", "label", "class", "predicted", "x", "y"],
                         [[p, int(t), classes[int(t)], classes[int(q)], float(x), float(y)]
                          for p, t, q, (x, y) in zip(positions, labels, preds, coords)])
    asked = {"perplexity_asked": args.perplexity} if perplexity != args.perplexity else {}
    record = {"images": len(positions), "feature_dim": int(features.shape[1]), "perplexity": perplexity, **asked,
              "seed": args.seed, "coordinates": "tsne.csv", "figure": figure}
    update_metrics(loaded.run, "embedding", record)
    lines = ["## t-SNE of learned features", "",
             f"{title}; perplexity {perplexity:g}, seed {args.seed}. Coordinates: [tsne.csv](tsne.csv).", "",
             *figure_links([("t-SNE", figure)])]
    set_report_section(loaded.run, "embedding", "\n".join(lines))
    table = Table(title=f"t-SNE: {loaded.run.path.name}", title_justify="left")
    table.add_column("file")
    table.add_column("content")
    table.add_row(str(loaded.run.path / figure), title)
    table.add_row(str(loaded.run.path / "tsne.csv"), f"{len(positions)} rows: position, label, class, predicted, x, y")
    console.print(table)


def feature_layer(trained):
    """embed needs the architecture to declare which layer's input is the feature vector."""
    from ..errors import FashionsegError

    if not trained.arch.feature_layer:
        raise FashionsegError(f"architecture {trained.arch.name!r} declares no feature_layer, so there are no "
                              "features to embed; its plugin should set Architecture(..., feature_layer=...)")
