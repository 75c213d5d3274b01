"""A trained run as a ready Hugging Face Space: the model folder, a Gradio `app.py` (the `fashionseg demo` app),
`requirements.txt` and a README with the Space's metadata; `python app.py` runs it locally."""
from __future__ import annotations

import tempfile
from pathlib import Path

from fashionseg.infer.demo import test_examples
from fashionseg.infer.model_folder import check_out_folder, export_model_folder
from fashionseg.infer.trained import load_run
from fashionseg.utils.files import atomic_write
from fashionseg.version import __version__

APP = '''"""A Hugging Face Space for a fashionseg model: `python app.py` serves it on 127.0.0.1:7860
(GRADIO_SERVER_NAME and GRADIO_SERVER_PORT change that; a Space sets them itself)."""
from pathlib import Path

import fashionseg
from fashionseg.infer.demo import build_demo

HERE = Path(__file__).resolve().parent
examples = sorted(str(p) for p in (HERE / "examples").glob("*.png"))
demo = build_demo(fashionseg.load_run(HERE / "model"), examples)

if __name__ == "__main__":
    demo.launch()
'''


def export_space(path, out, with_examples: bool = False) -> tuple[Path, list[str]]:
    """Write run `path` as a Space folder `out` (new or empty); test images as examples only `with_examples`."""
    import gradio

    out = Path(out)
    check_out_folder(out)
    _, figures = export_model_folder(path, out / "model", with_examples)
    if with_examples:
        with tempfile.TemporaryDirectory() as tmp:
            for example in test_examples(load_run(path), Path(tmp)):
                atomic_write(out / "examples" / Path(example).name, Path(example).read_bytes())
    atomic_write(out / "app.py", APP)
    atomic_write(out / "requirements.txt", f"fashionseg[demo]=={__version__}\n")
    atomic_write(out / "README.md", space_card(Path(path).name, gradio.__version__))
    return out, figures


def space_card(name: str, gradio_version: str) -> str:
    """The Space's README: the metadata the hub reads (Gradio SDK, app file), then where the model card is."""
    return (f"---\ntitle: {name}\nemoji: 👗\ncolorFrom: indigo\ncolorTo: gray\nsdk: gradio\n"
            f"sdk_version: {gradio_version}\napp_file: app.py\npinned: false\n---\n\n"
            f"# {name}\n\nA browser demo of a fashionseg model: upload an image and see the prediction. The model "
            "and its card are in `model/` (`model/README.md`). Run it here with `pip install -r requirements.txt && "
            "python app.py`; publish it with `hf upload ORG/NAME . --repo-type space`.\n")
