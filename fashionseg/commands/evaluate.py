"""`fashionseg evaluate <run> [--ensemble K] [--data PATH | --dataset NAME --split S]`: test metrics of a run's
weights (and of the ensemble of its K best checkpoints), or its scores on other labelled data."""
from fashionseg.utils.console import console as make_console


def add_parser(sub):
    p = sub.add_parser("evaluate", help="test metrics of a run; --ensemble K adds its K best checkpoints averaged; "
                                        "--data PATH or --dataset NAME scores it on other labelled data")
    p.add_argument("run", help="a run folder")
    p.add_argument("--ensemble", type=int, metavar="K",
                   help="also evaluate the best checkpoint and the average of the K best (kept during training)")
    p.add_argument("--data", metavar="PATH",
                   help="labelled data to score the run on, in any layout its task's data set reads (class folders, "
                        "a CSV of file,label, image/mask folders); results go to RUN/evaluations/<name>-<stamp>/")
    p.add_argument("--dataset", metavar="NAME", help="a registered data set to score the run on (see `fashionseg "
                                                     "list datasets`), its --split; results as with --data")
    p.add_argument("--split", choices=["test", "valid", "train"], default="test",
                   help="which split of --dataset (default: test; valid and train as the run's recipe splits)")
    p.set_defaults(func=evaluate_run)


def evaluate_run(args):
    from fashionseg.infer.trained import load_run

    console = make_console()
    if args.data is None and args.dataset is None:
        from fashionseg.analysis.ensemble import ensemble_report

        ensemble_report(load_run(args.run), args.ensemble, console)
        return
    from fashionseg.analysis.evaluation import evaluate_on, evaluation_data
    from fashionseg.errors import FashionsegError

    if args.ensemble:
        raise FashionsegError("--ensemble compares checkpoints on the run's own test set; drop it with --data/--dataset")
    trained = load_run(args.run)
    with console.status("reading the data"):
        source = evaluation_data(trained, args.data, args.dataset, args.split)
    evaluate_on(trained, source, console)
