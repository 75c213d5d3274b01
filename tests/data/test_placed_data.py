"""placed-fashion-mnist: geometry of the paste, labels, determinism, exact normalisation."""
import torch

from fashionseg import Recipe
from fashionseg.build.learner import build_data
from fashionseg.data import fashion_mnist
from fashionseg.data.placed import PasteOnCanvas, canvas_stats, paste_boxes, paste_offsets


def placed(fashion_mnist_dir, **options):
    recipe = Recipe(name="placed", dataset="placed-fashion-mnist", arch="cam-cnn", bs=32, limit=64,
                    data_options={"path": str(fashion_mnist_dir), **options}, eval_limit=64)
    return build_data(recipe, on=torch.device("cpu"))


def test_boxes_lie_inside_the_canvas_and_cover_all_positions():
    offsets = paste_offsets(20000, canvas=40, size=28, seed=3)
    boxes = paste_boxes(offsets, 28)
    assert boxes.shape == (20000, 4)
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 40).all()
    assert (boxes[:, 2:] - boxes[:, :2] == 28).all()
    assert set(offsets.flatten().tolist()) == set(range(13))  # every position 0..40-28 is used


def test_paste_puts_the_image_in_its_box_and_nothing_elsewhere():
    images = torch.randint(1, 256, (5, 28, 28), dtype=torch.uint8)
    offsets = paste_offsets(5, 56, 28, seed=0)
    canvases = PasteOnCanvas(images, offsets, 56)(torch.arange(5))
    assert canvases.shape == (5, 1, 56, 56) and canvases.dtype == torch.uint8
    for i, (top, left, bottom, right) in enumerate(paste_boxes(offsets, 28).tolist()):
        assert torch.equal(canvases[i, 0, top:bottom, left:right], images[i])
        assert int((canvases[i] > 0).sum()) == 28 * 28
    single = PasteOnCanvas(images, offsets, 56)(2)
    assert torch.equal(single, canvases[2])


def test_placement_depends_only_on_index_and_seed():
    assert torch.equal(paste_offsets(100, 56, 28, seed=7), paste_offsets(100, 56, 28, seed=7))
    assert not torch.equal(paste_offsets(100, 56, 28, seed=7), paste_offsets(100, 56, 28, seed=8))


def test_canvas_stats_are_exact():
    images = torch.randint(0, 256, (30, 28, 28), dtype=torch.uint8)
    canvases = PasteOnCanvas(images, paste_offsets(30, 50, 28, seed=1), 50)(torch.arange(30)).double() / 255
    mean, std = canvas_stats(images, 50)
    assert abs(mean - canvases.mean().item()) < 1e-9
    assert abs(std - canvases.std(unbiased=False).item()) < 1e-9


def test_data_set_batches_are_the_source_images_in_their_boxes_with_their_labels(fashion_mnist_dir):
    data = placed(fashion_mnist_dir, canvas=48)
    raw = fashion_mnist.load(str(fashion_mnist_dir))
    n_train = len(raw["train_labels"])
    xb, yb = data.dls.valid.one_batch()
    assert xb.shape == (32, 1, 48, 48)
    items = list(data.test_dl.dataset.items)[:32]
    assert items[0] == n_train  # valid="test": the official test set, in order
    pixels = (data.denormalize(xb) * 255).round().byte()
    for i, item in enumerate(items):
        top, left, bottom, right = data.boxes[item].tolist()
        assert 0 <= top and bottom <= 48 and 0 <= left and right <= 48
        assert torch.equal(pixels[i, 0, top:bottom, left:right].cpu(), raw["test_images"][item - n_train])
        assert int(yb[i]) == int(raw["test_labels"][item - n_train])
    assert len(data.test_dl.dataset) == 64


def test_data_set_is_deterministic_and_seeded(fashion_mnist_dir):
    first = placed(fashion_mnist_dir)
    again = placed(fashion_mnist_dir)
    other = placed(fashion_mnist_dir, placement_seed=1)
    assert torch.equal(first.boxes, again.boxes)
    assert torch.equal(first.dls.valid.one_batch()[0], again.dls.valid.one_batch()[0])
    assert not torch.equal(first.boxes, other.boxes)
