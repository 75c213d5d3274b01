"""`fashionseg predict <run-folder> <image> [--out file.png] [--blend ALPHA]`."""
from pathlib import Path

from rich.console import Console


def add_parser(sub):
    p = sub.add_parser("predict", help="predict one image of any size with a trained run (classes, or a mask)")
    p.add_argument("run", help="run folder (holds config.json, data.json, model.pth)")
    p.add_argument("image", help="image to predict (any size)")
    p.add_argument("--out", help="where to write the prediction when the task draws one, e.g. a segmentation "
                                 "run's coloured PNG (default: ./<image name>_prediction.png)")
    p.add_argument("--blend", type=float, metavar="ALPHA", help="blend a mask's colours over the photo, 0-1")
    p.set_defaults(func=predict)


def predict(args):
    from ..errors import FashionsegError
    from ..predict import predict_file
    from ..report import section_table

    if args.blend is not None and not 0 <= args.blend <= 1:
        raise FashionsegError(f"--blend takes a weight between 0 and 1, not {args.blend}")
    out = Path(args.out or f"{Path(args.image).stem}_prediction.png")
    if args.out:
        check_out(out)
    trained, image, prediction = predict_file(args.run, args.image)
    summary = trained.summary
    written = trained.task.save_prediction(prediction, image, summary, out, args.blend)
    section = trained.task.describe(prediction, summary)
    section.title = f"{args.image}: {section.title}"
    console = Console()
    console.print(section_table(section))
    if written:
        console.print(f"wrote {written}")


def check_out(out: Path):
    """--out names a file that can be made: not a folder, not under a file (checked before predicting)."""
    from ..errors import FashionsegError

    if out.is_dir():
        raise FashionsegError(f"--out {out} is a folder; name a file in it, e.g. {out / 'prediction.png'}")
    blocker = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise FashionsegError(f"--out {out} lies under {blocker}, which is a file, not a folder; choose another path")
