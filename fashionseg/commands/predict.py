"""`fashionseg predict <run-folder> <image> [--out file.png] [--blend ALPHA]`."""
import io
from pathlib import Path

from rich.console import Console
from rich.table import Table


def add_parser(sub):
    p = sub.add_parser("predict", help="segment a photo of any size with a trained segmentation run")
    p.add_argument("run", help="run folder of a segmentation recipe (holds config.json, data.json, model.pth)")
    p.add_argument("image", help="photo to segment (any size)")
    p.add_argument("--out", help="where to write the coloured PNG (default: ./<image name>_prediction.png)")
    p.add_argument("--blend", type=float, metavar="ALPHA", help="blend the colours over the photo, 0-1")
    p.set_defaults(func=predict)


def predict(args):
    from PIL import Image

    from ..predict import segment_file
    from ..runfolder import atomic_write
    from ..train import device

    picture, mask, info = segment_file(args.run, args.image, args.blend, device())
    out = Path(args.out or f"{Path(args.image).stem}_prediction.png")
    buf = io.BytesIO()
    Image.fromarray(picture.numpy()).save(buf, format="PNG")
    atomic_write(out, buf.getvalue())
    counts = mask.flatten().bincount(minlength=len(info["classes"]))
    table = Table(title=f"{args.image}: {mask.shape[1]}x{mask.shape[0]} pixels", title_justify="left")
    table.add_column("class")
    table.add_column("share", justify="right")
    for name, n in zip(info["classes"], counts.tolist()):
        table.add_row(name, f"{n / mask.numel():.1%}")
    console = Console()
    console.print(table)
    console.print(f"wrote {out}")
