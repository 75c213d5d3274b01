"""fastai's own `learn.export()` on a learner from `fashionseg.build_learner`: the pickle carries the model and
the transforms, never the data set, and `load_learner` in a fresh process predicts what the learner did."""
import io
import json
import subprocess
import sys
import zipfile

import pytest
import torch
from helpers.runs import mask_folder_recipe
from helpers.seg_folders import make_root

import fashionseg
from fashionseg import Recipe

PROBE = """
import json, sys
from fastai.learner import load_learner
learn = load_learner(sys.argv[1])
print(json.dumps([learn.predict(p)[1].tolist() for p in sys.argv[2:]]))
"""


def storage_bytes(path) -> int:
    """Bytes of all tensor storages in a file `torch.save` wrote (each storage is one member of its zip)."""
    with zipfile.ZipFile(path) as z:
        return sum(i.file_size for i in z.infolist() if "/data/" in i.filename and not i.filename.endswith(".pkl"))


def model_bytes(model) -> int:
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return storage_bytes(buf)


def fashion_case(tmp_path, fashion_mnist_dir):
    """A Fashion-MNIST learner and three of the official test images as PNG files."""
    from PIL import Image

    from fashionseg.data.idx import read_idx

    recipe = Recipe(name="tiny", dataset="fashion-mnist", arch="seed000-cnn", metrics=["accuracy"], bs=64, limit=200,
                    eval_limit=50, data_options={"path": str(fashion_mnist_dir)})
    images = read_idx(fashion_mnist_dir / "t10k-images-idx3-ubyte.gz")[:3]
    paths = [tmp_path / f"{i}.png" for i in range(3)]
    for image, path in zip(images, paths):
        Image.fromarray(image.numpy()).save(path)
    return recipe, paths


def masks_case(tmp_path, fashion_mnist_dir):
    """A segmentation learner on a generated mask folder and three of its test photos."""
    root = make_root(tmp_path / "masks", n_train=12, n_test=4)
    return mask_folder_recipe(root), sorted((root / "test").glob("*[0-9].png"))[:3]


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("case", [fashion_case, masks_case])
def test_export_pickle_holds_the_model_not_the_data(case, tmp_path, fashion_mnist_dir):
    recipe, images = case(tmp_path, fashion_mnist_dir)
    learn = fashionseg.build_learner(recipe)
    learn.export(tmp_path / "export.pkl")
    stored, model = storage_bytes(tmp_path / "export.pkl"), model_bytes(learn.model)
    assert model <= stored <= model + 4096, f"{stored - model} bytes besides the model's weights"
    assert len(learn.dls.train_ds) and learn.dls.one_batch()[0].shape[0] == recipe.bs, "the learner keeps its data"

    expected = [learn.predict(p)[1].tolist() for p in images]
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "export.pkl"), *map(str, images)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == expected
