"""`fashionseg embed <run>`: t-SNE of the penultimate-layer features of the test set."""
from fashionseg.utils.console import console as make_console


def add_parser(sub):
    p = sub.add_parser("embed", help="t-SNE scatter of a run's penultimate-layer features of the test set")
    p.add_argument("run", help="a classification run folder")
    p.add_argument("--sample", type=int, default=2000,
                   help="embed a seeded random sample of this many test images (default 2000; 0: all)")
    p.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed for the sample and t-SNE (default 0)")
    p.set_defaults(func=embed)


def embed(args):
    from fashionseg.analysis.embedding import embedding_report
    from fashionseg.errors import FashionsegError
    from fashionseg.infer.trained import load_run

    if not args.perplexity > 0:
        raise FashionsegError(f"--perplexity must be positive (5-50 is usual), got {args.perplexity}")
    loaded = load_run(args.run, command="embed", require=feature_layer)
    embedding_report(loaded, args.sample, args.perplexity, args.seed, make_console())


def feature_layer(trained):
    """embed needs the architecture to declare which layer's input is the feature vector."""
    from fashionseg.errors import FashionsegError

    if not trained.arch.feature_layer:
        raise FashionsegError(f"architecture {trained.arch.name!r} declares no feature_layer, so there are no "
                              "features to embed; its plugin should set Architecture(..., feature_layer=...)")
