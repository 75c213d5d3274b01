"""The notebook API, used the way a notebook would: `fashionseg.load_run(path)` and its `predict`,
`model`, `classes`, `config` and `learner()`, and `fashionseg.build_learner(recipe, **overrides)`
with fastai's own `get_preds`, `predict`, `show_results` and `lr_find`."""
import numpy as np
import pytest
import torch
from fastai.learner import Learner
from PIL import Image
from helpers.runs import FASHION_TEST, save_pngs

import fashionseg
from fashionseg import FashionsegError


def stacked(preds):
    return torch.stack([p.probs for p in preds])


def test_load_run_predicts_exactly_what_the_run_evaluated(fashion):
    result, images, labels = fashion
    run = fashionseg.load_run(result.run.path)
    assert run.classes[1] == "Trouser" and len(run.classes) == 10
    assert run.config.arch == "seed000-cnn" and isinstance(run.model, torch.nn.Module)
    preds = run.predict(images[:, None])  # a uint8 batch (B, 1, 28, 28)
    assert len(preds) == FASHION_TEST
    accuracy = sum(p.index == int(y) for p, y in zip(preds, labels)) / FASHION_TEST
    assert accuracy == pytest.approx(result.results["accuracy"], abs=1e-6) and accuracy > 0.5  # one image is 0.0033
    assert all(p.label == run.classes[p.index] and p.index == int(p.probs.argmax()) for p in preds)
    assert torch.allclose(stacked(preds).sum(1), torch.ones(FASHION_TEST), atol=1e-5)


def test_paths_pil_images_arrays_and_batches_predict_alike(fashion, tmp_path):
    result, images, _ = fashion
    run = fashionseg.load_run(result.run.path)
    paths = save_pngs(images[:4], tmp_path, [f"{i}.png" for i in range(4)])
    expected = stacked(run.predict(images[:4, None]))
    for given in ([str(p) for p in paths], [Image.open(p) for p in paths], [im.numpy() for im in images[:4]],
                  [im[None] for im in images[:4]]):
        assert torch.allclose(stacked(run.predict(given)), expected, atol=1e-5)
    assert torch.allclose(run.predict(paths[2])[0].probs, expected[2], atol=1e-5)  # one path: a list of one
    rgba = np.stack([images[1].numpy()] * 3 + [np.full((28, 28), 255, np.uint8)], -1)  # grey as RGBA: same grey
    assert torch.allclose(run.predict(rgba)[0].probs, expected[1], atol=1e-5)
    assert torch.allclose(stacked(run.predict(list(images[:4, None]), bs=3)), expected, atol=1e-5)
    xb, _ = run.learner().dls.valid.one_batch()  # normalised float input, as the DataLoaders give it
    assert torch.allclose(stacked(run.predict(xb))[:4], expected, atol=1e-4)
    with pytest.raises(FashionsegError, match="an image is a file path, PIL image, uint8 array"):
        run.predict([np.zeros((28, 28), dtype=np.float64)])


def test_the_runs_learner_gets_preds_shows_results_and_predicts_like_fastai(fashion, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    result, images, _ = fashion
    run = fashionseg.load_run(result.run.path)
    learn = run.learner()
    probs, targets = learn.get_preds()  # the run's validation set: here the test set
    assert torch.allclose(probs, stacked(run.predict(images[:, None])), atol=1e-5)
    label, index, item_probs = learn.predict(learn.dls.valid.dataset.items[5])
    assert int(index) == int(probs[5].argmax()) and label == run.classes[int(index)]
    assert torch.allclose(item_probs, probs[5], atol=1e-5)
    photo = save_pngs(images[5:6], tmp_path, ["five.png"])[0]
    assert learn.predict(photo)[1] == index and learn.predict(images[5])[1] == index  # a file, a uint8 image
    matplotlib.pyplot.close("all")
    learn.show_results(max_n=4)  # one grid of 4 images with their predicted and true labels
    assert matplotlib.pyplot.get_fignums() == [1] and len(matplotlib.pyplot.gcf().axes) == 4


def test_a_run_predicts_from_its_folder_alone_and_its_learner_asks_for_the_data(fashion, no_data_anywhere):
    from fashionseg.data import fashion_mnist

    fashion_mnist.load.cache_clear()  # loaded files are cached in memory: forget them, as a new process would
    result, images, labels = fashion
    run = fashionseg.load_run(result.run.path)
    preds = run.predict(images[:8, None])
    assert len(preds) == 8 and [p.index for p in preds] == [int(p.argmax()) for p in stacked(preds)]
    with pytest.raises(FashionsegError, match=r"run.learner\(\) needs the data .* was trained on"):
        run.learner()


@pytest.mark.slow
def test_build_learner_takes_a_recipe_name_and_overrides_and_makes_no_run_folder(fashion_mnist_dir, tmp_path,
                                                                                   monkeypatch):
    from fashionseg.data.fashion_mnist import CLASSES

    monkeypatch.chdir(tmp_path)
    learn = fashionseg.build_learner("fashion-fast", limit=512, eval_limit=64, bs=64, lr=3e-3)
    assert isinstance(learn, Learner) and list(tmp_path.iterdir()) == []
    assert len(learn.dls.train.dataset) == 512 and len(learn.dls.valid.dataset) == 64
    learn.fit_one_cycle(1, 3e-3)
    probs, targets = learn.get_preds()
    assert (probs.argmax(1) == targets).float().mean() > 0.3  # chance is 0.1
    label, index, item_probs = learn.predict(learn.dls.valid.dataset.items[3])
    assert int(index) == int(probs[3].argmax()) and label == CLASSES[int(index)]
    assert learn.lr_find(num_it=10, show_plot=False).valley > 0


def test_segmentation_masks_from_load_run_match_the_learner_and_fastai_predict(facade):
    result, data = facade
    run = fashionseg.load_run(result.run.path)
    assert run.classes == ["others", "facade", "pillar", "window", "balcony"]
    photos = sorted((data / "test_dev").glob("*.jpg"))
    masks = run.predict(photos)
    assert [m.shape for m in masks] == [(256, 256)] * 8 and all(m.max() < 5 for m in masks)
    learn = run.learner()
    probs, _ = learn.get_preds(dl=learn.dls[2])  # the test set, held apart from validation
    agree = (torch.stack(masks) == probs.argmax(1)).float().mean()
    assert agree > 0.999
    mask, decoded, item_probs = learn.predict(learn.dls[2].dataset.items[1])
    assert mask.shape == (256, 256) and (decoded == masks[1]).float().mean() > 0.999
    odd = run.predict(np.asarray(Image.open(photos[0]).resize((250, 190))))[0]
    assert odd.shape == (190, 250)
