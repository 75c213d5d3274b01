"""`fashionseg evaluate <run> [--ensemble K]`: test metrics of a run's weights, and of the
ensemble of its K best checkpoints against the single best."""
from fashionseg.utils.console import console as make_console


def add_parser(sub):
    p = sub.add_parser("evaluate", help="test metrics of a run; --ensemble K adds its K best checkpoints averaged")
    p.add_argument("run", help="a run folder")
    p.add_argument("--ensemble", type=int, metavar="K",
                   help="also evaluate the best checkpoint and the average of the K best (kept during training)")
    p.set_defaults(func=evaluate_run)


def evaluate_run(args):
    from fashionseg.analysis.ensemble import ensemble_report
    from fashionseg.infer.trained import load_run

    ensemble_report(load_run(args.run), args.ensemble, make_console())
