"""`fashionseg predict <run-folder> INPUT... [--csv results.csv] [--out DIR] [--bs N] [--top-k K] [--blend ALPHA]
[--tta] [--tile T --overlap F]`.

One image file and no --csv: its table is printed and --out names the one file written. Otherwise
INPUTs are files, folders and globs, predicted in batches; --out is a folder of outputs."""
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

from fashionseg.utils.console import console as make_console

SHOWN = 10  # rows of the summary table when many images are predicted


def add_parser(sub):
    p = sub.add_parser("predict", help="predict images of any size with a trained run (classes, or masks)")
    p.add_argument("run", help="run folder (holds config.json, data.json, model.pth)")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="image files, folders (searched recursively) and globs such as 'photos/**/*.jpg'")
    p.add_argument("--out", help="one image: the file to write when the task draws one (default: ./<image "
                                 "name>_prediction.png); many images: a folder for the outputs, named as the "
                                 "inputs (segmentation: <name>_prediction.png in colours, <name>_classes.png "
                                 "as class indices)")
    p.add_argument("--csv", help="write one row per image: classification the top-k labels and probabilities, "
                                 "segmentation each class's pixel share")
    p.add_argument("--bs", type=int, default=64, help="images per batch (default: 64)")
    p.add_argument("--top-k", type=int, default=3, help="classes per image in the CSV (default: 3)")
    p.add_argument("--blend", type=float, metavar="ALPHA", help="blend a mask's colours over the photo, 0-1")
    p.add_argument("--tta", action="store_true",
                   help="flip test-time augmentation: average each image's and its left-right mirror's probabilities")
    p.add_argument("--tile", type=int, default=0, metavar="T",
                   help="segmentation: predict each image at its own size by a sliding window of TxT crops "
                        "blended with a Gaussian window (T = the run's training size keeps its scale)")
    p.add_argument("--overlap", type=float, default=0.25, help="the sliding window's overlap, a fraction of the "
                                                               "tile (default: 0.25)")
    p.set_defaults(func=predict)


def predict(args):
    from fashionseg.errors import FashionsegError
    from fashionseg.infer.predict import find_images
    from fashionseg.infer.trained import load_run
    from fashionseg.utils.distributed import join
    from fashionseg.utils.files import check_file_path
    from fashionseg.utils.rank import is_main

    if args.blend is not None and not 0 <= args.blend <= 1:
        raise FashionsegError(f"--blend takes a weight between 0 and 1, not {args.blend}")
    if args.tile < 0 or not 0 <= args.overlap < 1:
        raise FashionsegError(f"--tile takes a size in pixels (0: off) and --overlap a fraction at least 0 and below 1, "
                              f"not {args.tile} and {args.overlap}")
    if args.bs < 1 or args.top_k < 1:
        raise FashionsegError(f"--bs and --top-k take a whole number of at least 1, not {min(args.bs, args.top_k)}")
    join()  # launched by torchrun: the process group that shards the images
    trained = load_run(args.run)
    if args.tile and not trained.task.tiles:
        raise FashionsegError(f"--tile applies to runs whose task predicts maps; {args.run} is a {trained.task.name} "
                              "run: drop --tile")
    single = len(args.inputs) == 1 and Path(args.inputs[0]).is_file() and not args.csv
    if single:  # launched on several processes, one image is rank 0's alone
        return predict_one(trained, Path(args.inputs[0]), args) if is_main() else None
    paths = find_images(args.inputs)
    if args.csv:
        check_file_path(Path(args.csv), "--csv", "results.csv")
    if args.out:
        check_folder(Path(args.out))
    predict_many(trained, paths, args)


def predict_one(trained, image_path: Path, args):
    """One image: the task's table printed, and its drawing (if any) written to --out."""
    from fashionseg.data.images import read_image
    from fashionseg.infer.predict import predict_image
    from fashionseg.report.tables import section_table
    from fashionseg.utils.files import check_file_path

    out = Path(args.out or f"{image_path.stem}_prediction.png")
    if args.out:
        check_file_path(out, "--out", "prediction.png")
    image = read_image(image_path, trained.summary["n_in"])
    prediction = predict_image(trained, image, args.tta, args.tile, args.overlap)
    written = trained.task.save_prediction(prediction, image, trained.summary, out, args.blend)
    section = trained.task.describe(prediction, trained.summary)
    section.title = f"{image_path}: {section.title}"
    console = make_console()
    console.print(section_table(section))
    if written:
        console.print(f"wrote {written}")


def predict_many(trained, paths: list[Path], args):
    """Batches with a progress bar; a row per image for the CSV, the task's files under --out. Launched on
    several processes (torchrun), each predicts its shard and writes its images' files; rank 0 gathers the
    rows and writes the CSV in input order."""
    from fashionseg.infer.predict import mirrored_names, predict_paths
    from fashionseg.utils.distributed import gather_to_main, shard
    from fashionseg.utils.files import atomic_write
    from fashionseg.utils.rank import main_console

    console = main_console(make_console())
    names = dict(zip(paths, mirrored_names(paths)))
    order = {path: i for i, path in enumerate(paths)}
    mine = shard(paths)
    rows, written = [], 0
    with progress(console, len(mine)) as advance:
        for path, image, prediction in predict_paths(trained, mine, args.bs, args.tta, args.tile, args.overlap):
            rows.append({"file": str(path), **trained.task.csv_row(prediction, trained.summary, args.top_k)})
            if args.out:
                written += len(trained.task.save_predictions(prediction, image, trained.summary,
                                                             Path(args.out) / names[path], args.blend))
            advance()
    gathered = gather_to_main((rows, written))
    if gathered is None:
        return
    rows = sorted((row for part, _ in gathered for row in part), key=lambda row: order[Path(row["file"])])
    if args.csv:
        atomic_write(Path(args.csv), csv_text(rows))
    show_summary(console, rows, args, sum(n for _, n in gathered))


@contextmanager
def progress(console: Console, total: int):
    """Gives `advance()`: a rich bar in a terminal, one plain line per tenth of the images otherwise."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if console.is_terminal:
        with Progress(TextColumn("predicting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console, transient=True) as shown:
            task = shown.add_task("predict", total=total)
            yield lambda: shown.advance(task)
        return
    done = iter(range(1, total + 1))

    def advance():
        n = next(done)
        if n * 10 // total != (n - 1) * 10 // total:  # at each tenth: at most 10 lines
            console.print(f"predicted {n}/{total} images", markup=False, highlight=False, soft_wrap=True)
    yield advance


def csv_text(rows: list[dict]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def show_summary(console: Console, rows: list[dict], args, written: int):
    """The first rows as a table, and where everything went."""
    from rich.table import Table

    table = Table(title=f"{len(rows)} images" + (f" (first {SHOWN})" if len(rows) > SHOWN else ""),
                  title_justify="left")
    for key in rows[0]:
        table.add_column(key, overflow="fold")
    for row in rows[:SHOWN]:
        table.add_row(*[f"{v:.1%}" if isinstance(v, float) else str(v) for v in row.values()])
    console.print(table)
    if args.csv:
        console.print(f"wrote {len(rows)} rows to {args.csv}", markup=False, highlight=False, soft_wrap=True)
    elif len(rows) > SHOWN:
        console.print("pass --csv FILE for every row", markup=False, highlight=False, soft_wrap=True)
    if args.out:
        console.print(f"wrote {written} files under {args.out}", markup=False, highlight=False, soft_wrap=True)


def check_folder(out: Path):
    """--out for many images is a folder (made when missing), not a file nor under one."""
    from fashionseg.errors import FashionsegError
    from fashionseg.utils.files import check_not_under_file

    if out.exists() and not out.is_dir():
        raise FashionsegError(f"--out {out} is a file; with several images --out names a folder for their outputs")
    check_not_under_file(out, "--out")
