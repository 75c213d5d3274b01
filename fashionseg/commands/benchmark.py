"""`fashionseg benchmark <run> [--formats eager,onnx,...]`: each deployment format's size, speed and accuracy."""
from fashionseg.utils.console import console as make_console

FORMATS = "eager,torchscript,export,onnx,onnx-int8,openvino"


def add_parser(sub):
    p = sub.add_parser("benchmark", help="compare a run's deployment formats: size, latency, throughput, accuracy",
                       description="Each format is built from the run folder and timed on this machine's CPU: file "
                                   "size, batch-1 latency (median and p90), throughput at --batch, and accuracy on "
                                   "the run's test set (or --data) with its drop against eager PyTorch. The table is "
                                   "printed and written as RUN/benchmark/benchmark.csv and benchmark.md.")
    p.add_argument("run", help="run folder (holds config.json, data.json, model.pth)")
    p.add_argument("--formats", default=FORMATS, help=f"comma-separated (default: {FORMATS}; openvino when installed)")
    p.add_argument("--batch", type=int, default=32, help="batch size of the throughput measurement (default 32)")
    p.add_argument("--repeats", type=int, default=50, help="timed batch-1 calls (default 50)")
    p.add_argument("--images", type=int, default=0, help="score on the first N test images (default 0: all)")
    p.add_argument("--data", metavar="PATH",
                   help="score the formats on this labelled data instead of the run's test set, in any layout its "
                        "task's data set reads (as `fashionseg evaluate --data`); written under "
                        "RUN/benchmark/<data-name>/")
    p.set_defaults(func=benchmark)


def benchmark(args):
    import torch

    from fashionseg.infer.benchmark import HEADER, Timing, benchmark_run, check_formats
    from fashionseg.infer.trained import load_run
    from fashionseg.report.tables import runs_table

    console = make_console()
    formats = check_formats([f.strip() for f in args.formats.split(",") if f.strip()])
    trained, labelled = load_run(args.run, on=torch.device("cpu")), None
    if args.data is not None:
        labelled = other_data(trained, args.data, console)
    with console.status(f"benchmarking {args.run}"):
        folder, rows = benchmark_run(trained, formats, Timing(args.repeats, args.batch), args.images, labelled)
    console.print(runs_table(f"Deployment formats: {args.run}", HEADER, rows))
    console.print(f"written: {folder / 'benchmark.csv'} and {folder / 'benchmark.md'}", highlight=False)


def other_data(trained, path: str, console):
    """`--data PATH` read as `evaluate --data` reads it: classes matched by name, the run's normalisation."""
    from fashionseg.analysis.evaluation import as_run_batches, evaluation_data
    from fashionseg.infer.benchmark import Labelled

    with console.status("reading the data"):
        source = evaluation_data(trained, path)
    batches = as_run_batches(trained, source)
    return Labelled(batches, batches.ignore, source.name, source.source)
