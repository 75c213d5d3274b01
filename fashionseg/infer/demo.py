"""A browser demo of a trained run (Gradio): one prediction per upload, drawn as a person would want to see it.
Classification: the top-k classes as bars and, for architectures with a class-map head, the predicted class's map
over the image; segmentation: the mask over the photo with a colour legend and each class's share of the pixels.
An opacity slider sets the overlay; examples come from the run's test set (or a Space's examples/ folder)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from fashionseg.data.colors import colorize, default_colors
from fashionseg.data.images import as_image, resized
from fashionseg.errors import FashionsegError
from fashionseg.infer.predict import model_size, normalize
from fashionseg.infer.trained import TrainedRun

TOP_K = 5
HOST = "127.0.0.1"  # loopback unless the user names another interface
EXAMPLES = 6


def check_gradio():
    """Gradio is the optional `demo` extra: missing, one line saying how to install it."""
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise FashionsegError("the demo needs gradio: pip install 'fashionseg[demo]'") from None


def predict(trained: TrainedRun, path: str, opacity: float = 0.5) -> tuple[dict, np.ndarray | None]:
    """What the demo shows for the image file at `path`: `({class: probability or pixel share}, overlay image)`."""
    if not path:
        raise FashionsegError("upload an image first")
    image = as_image(path, trained.summary["n_in"])
    prediction = trained.predict(image)[0]
    if trained.task.tiles:  # a mask per image
        counts = prediction.flatten().bincount(minlength=len(trained.classes))[:len(trained.classes)]
        shares = {name: int(n) / prediction.numel() for name, n in zip(trained.classes, counts)}
        return shares, blend(image, colorize(prediction, colors(trained)), opacity)
    probs = {name: float(p) for name, p in zip(trained.classes, prediction[2])}
    return probs, class_map(trained, image, prediction[1], opacity)


def colors(trained: TrainedRun) -> list[str]:
    return trained.summary.get("colors") or default_colors(len(trained.classes))


def blend(image: torch.Tensor, painted: torch.Tensor, opacity: float) -> np.ndarray:
    """`painted` `(H, W, 3)` over the uint8 image `(C, H, W)` with weight `opacity`."""
    photo = image.expand(3, -1, -1).permute(1, 2, 0).float()
    return (photo * (1 - opacity) + painted.float() * opacity).round().to(torch.uint8).numpy()


@torch.no_grad()
def class_map(trained: TrainedRun, image: torch.Tensor, index: int, opacity: float) -> np.ndarray | None:
    """The predicted class's map from the architecture's class-map head (CAM) over the image; None without one."""
    head = trained.arch.class_maps
    if not head:
        return None
    from matplotlib import colormaps

    x = normalize(image[None], trained.summary)
    size = model_size(trained.summary)
    x = resized(x, size) if size else x
    maps = getattr(trained.model, head)(x.to(next(trained.model.parameters()).device))[0, index].float().cpu()
    maps = F.interpolate(maps[None, None], size=image.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    maps = (maps - maps.min()) / (maps.max() - maps.min()).clamp(min=1e-8)
    painted = torch.from_numpy(colormaps["jet"](maps.numpy())[..., :3] * 255)
    return blend(image, painted, opacity)


def legend_html(trained: TrainedRun) -> str:
    """Each class's colour as a swatch and its name."""
    items = (f'<span style="display:inline-block;margin:2px 8px"><span style="display:inline-block;width:14px;'
             f'height:14px;background:{c};border:1px solid #888;vertical-align:middle"></span> {name}</span>'
             for name, c in zip(trained.classes, colors(trained)))
    return "<div>" + "".join(items) + "</div>"


def test_examples(trained: TrainedRun, folder: Path, n: int = EXAMPLES) -> list[str]:
    """The first `n` test images of the run written as PNG files in `folder`; none when its data is not here."""
    from PIL import Image

    try:
        dataset = trained.data.test_dl.dataset
    except FashionsegError:  # a model folder or a run whose data is elsewhere: a demo without examples
        return []
    paths = []
    for i in range(min(n, len(dataset))):
        pixels = dataset[i][0].as_subclass(torch.Tensor)
        array = pixels[0].numpy() if pixels.shape[0] == 1 else pixels.permute(1, 2, 0).numpy()
        paths.append(str(folder / f"test-{i}.png"))
        Image.fromarray(array).save(paths[-1])
    return paths


def build_demo(trained: TrainedRun, examples: list[str] | None = None):
    """The Gradio app for `trained`; its one endpoint `/predict` takes an image file and the opacity."""
    import gradio as gr

    segmentation = bool(trained.task.tiles)
    examples = examples if examples is not None else test_examples(trained, Path(tempfile.mkdtemp(prefix="demo-")))
    with gr.Blocks(title=f"fashionseg: {trained.recipe.name}") as demo:
        gr.Markdown(f"# {trained.recipe.name}\n`{trained.recipe.arch}`, {trained.summary['task']} over "
                    f"{len(trained.classes)} classes. Upload an image.")
        with gr.Row():
            with gr.Column():
                image = gr.Image(type="filepath", label="image")
                overlay = segmentation or bool(trained.arch.class_maps)  # nothing to blend otherwise
                opacity = gr.Slider(0, 1, value=0.5, step=0.05, label="overlay opacity", visible=overlay)
                button = gr.Button("Predict", variant="primary")
            with gr.Column():
                label = gr.Label(num_top_classes=len(trained.classes) if segmentation else TOP_K,
                                 label="pixel share per class" if segmentation else f"top {TOP_K} classes")
                shown = gr.Image(format="png", label="mask over the image" if segmentation else "class activation map",
                                 visible=overlay)
                if segmentation:
                    gr.HTML(legend_html(trained))
        inputs, outputs = [image, opacity], [label, shown]
        button.click(lambda p, o: predict(trained, p, o), inputs, outputs, api_name="predict")
        opacity.release(lambda p, o: predict(trained, p, o) if p else (None, None), inputs, outputs, api_name=False)
        if examples:
            gr.Examples(examples, inputs=[image])
    return demo


def launch(trained: TrainedRun, host: str = HOST, port: int | None = None, block: bool = True, examples=None):
    """Serve the demo on `host:port` (loopback by default); returns the app, serving in the background unless `block`."""
    demo = build_demo(trained, examples)
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=not block, quiet=True)
    return demo
