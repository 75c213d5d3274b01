"""`fashionseg cam <run>`: class activation maps of one test image, pointing accuracy over
the test set, and optionally the feature maps of a named layer."""
from rich.progress import Progress
from rich.table import Table

from fashionseg.errors import FashionsegError
from fashionseg.utils.console import console as make_console


def add_parser(sub):
    p = sub.add_parser("cam", help="class activation maps (CAM or Grad-CAM) and pointing accuracy of a run")
    p.add_argument("run", help="a classification run folder")
    p.add_argument("--index", type=int, default=0, help="position of the test image to draw (default 0)")
    p.add_argument("--method", choices=["auto", "cam", "gradcam"], default="auto",
                   help="cam needs an architecture with a class-map head (e.g. cam-cnn); auto picks it when declared, "
                        "else gradcam")
    p.add_argument("--target-layer", help="the layer Grad-CAM explains (default: the last with 2-D maps)")
    p.add_argument("--layer", help="also draw the feature maps of this layer for the image")
    p.add_argument("--no-pointing", action="store_true", help="skip the pass over the test set")
    p.set_defaults(func=cam)


def cam(args):
    import torch

    from fashionseg.analysis.cam import class_mapper, pick_method
    from fashionseg.infer.trained import load_run
    from fashionseg.report.sections import update_metrics

    console = make_console()
    loaded = load_run(args.run, command="cam", require=lambda t: pick_method(t.arch, args.method, args.target_layer))
    n_test = len(loaded.test_items())
    if not 0 <= args.index < n_test:
        raise FashionsegError(f"--index must be between 0 and {n_test - 1}, the test set's size less one")
    xb, yb = next(iter(loaded.test_loader([args.index], bs=1)))
    x, true = xb.as_subclass(torch.Tensor), int(yb[0])
    method = pick_method(loaded.arch, args.method, args.target_layer)
    mapper = class_mapper(loaded.model, x, method, loaded.arch, args.target_layer)
    values = {"figures": draw_class_maps(loaded, mapper, x, true, args.index)}
    if args.layer:
        values["figures"].update(draw_feature_maps(loaded, x, args.layer, args.index))
    if loaded.data.boxes is None:
        console.print("[yellow]pointing accuracy needs paste boxes (a placed data set such as "
                      "placed-fashion-mnist); skipped[/]")
    elif not args.no_pointing:
        values[mapper.method] = measure_pointing(loaded, mapper, console)
    record = update_metrics(loaded.run, "class_maps", values)
    write_section(loaded.run, record)
    console.print(cam_table(loaded, record))
    for title, path in values["figures"].items():
        console.print(f"{title}: {loaded.run.path / path}")


def draw_class_maps(loaded, mapper, x, true: int, index: int) -> dict:
    """The image and every class's map over it, saved; returns {title: path}."""
    import torch

    from fashionseg.report.figures import class_maps_figure

    classes = loaded.data.classes
    every_class = torch.arange(len(classes), device=x.device)
    maps = mapper.display(mapper(x.expand(len(classes), *x.shape[1:]), every_class)).cpu()
    with torch.no_grad():
        probs = loaded.model(x).float().softmax(1)[0].cpu()
    boxes = loaded.data.boxes
    box = boxes[loaded.test_items()[index]] if boxes is not None else None
    name = "CAM" if mapper.method == "cam" else f"Grad-CAM on {mapper.layer_name!r}"
    title = f"{name}, test image {index}: true {classes[true]}, predicted {classes[int(probs.argmax())]}"
    fig = class_maps_figure(loaded.display(x[0]), maps, mapper.geometry.extent(maps.shape[-2:]), classes, true,
                            probs, box, title)
    return {f"{name}, test image {index}": loaded.run.save_figure(fig, f"{mapper.method}-{index}")}


def measure_pointing(loaded, mapper, console) -> dict:
    """Pointing accuracy of `mapper` over the whole test set, with a progress bar."""
    from fashionseg.analysis.cam import pointing_accuracy

    items = loaded.test_items()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"pointing accuracy ({mapper.method})", total=len(items))
        accuracy = pointing_accuracy(mapper, loaded.test_loader(), loaded.data.boxes[items],
                                     lambda n: progress.advance(task, n))
    return {"layer": mapper.layer_name, "images": len(items), "pointing_accuracy": accuracy}


def draw_feature_maps(loaded, x, layer: str, index: int) -> dict:
    from fashionseg.analysis.layers import feature_maps, named_layer
    from fashionseg.report.figures import feature_maps_figure

    maps = feature_maps(loaded.model, named_layer(loaded.model, layer, x), x)[0].float().cpu()
    fig = feature_maps_figure(loaded.display(x[0]), maps, layer)
    return {f"Feature maps of {layer!r}, test image {index}": loaded.run.save_figure(fig, f"features-{layer}-{index}")}


def method_rows(record: dict) -> list[list]:
    rows = []
    for method in ("cam", "gradcam"):
        if method in record:
            r = record[method]
            rows.append([method, r["layer"], r["images"], r["pointing_accuracy"]])
    return rows


def cam_table(loaded, record: dict) -> Table:
    table = Table(title=f"Class activation maps: {loaded.run.path.name}", title_justify="left")
    for col in ("method", "layer", "test images", "pointing accuracy"):
        table.add_column(col, justify="left" if col in ("method", "layer") else "right")
    for row in method_rows(record):
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    accuracy = loaded.run.read_json("metrics.json").get("accuracy")
    if accuracy is not None:
        table.caption = f"test accuracy of the run: {accuracy:.4f}"
    return table


def write_section(run, record: dict):
    from fashionseg.report.sections import set_report_section
    from fashionseg.report.tables import figure_links, markdown_table

    lines = ["## Class activation maps", "",
             "Pointing accuracy: the share of test images whose true-class map peaks inside the pasted image.", "",
             *markdown_table(["method", "layer", "test images", "pointing accuracy"], method_rows(record)), "",
             *figure_links(record.get("figures", {}).items())]
    set_report_section(run, "class-maps", "\n".join(lines))
