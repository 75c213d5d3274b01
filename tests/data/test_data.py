"""IDX reading on the real files, data location, and the tensor DataBlock's batches."""
import gzip

import pytest
import torch
from fastai.torch_core import TensorCategory, TensorImageBW

from fashionseg import FashionsegError, Recipe
from fashionseg.build.learner import build_data
from fashionseg.data import fashion_mnist, split_indices
from fashionseg.data.idx import read_idx
from fashionseg.data.locate import DATA_ENV, find_data


def test_real_idx_files_decode_to_expected_shapes(fashion_mnist_dir):
    images = read_idx(fashion_mnist_dir / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(fashion_mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10000,)
    assert torch.bincount(labels.long()).tolist() == [1000] * 10  # the test set is balanced
    assert 60 < images.float().mean() < 80  # Fashion-MNIST's mean pixel is about 73


def test_bad_idx_files_are_user_errors(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(gzip.compress(b"\x00\x00\x0d\x01\x00\x00\x00\x02ab"))
    with pytest.raises(FashionsegError, match="bad magic"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    with pytest.raises(FashionsegError, match="promises shape"):
        read_idx(short)


def test_location_order_explicit_then_env(tmp_path, monkeypatch, fashion_mnist_dir):
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))  # no data roots recorded by set-up
    monkeypatch.setenv(DATA_ENV, str(fashion_mnist_dir.parent))
    assert find_data("fashion-mnist", list(fashion_mnist.FILES)) == fashion_mnist_dir
    with pytest.raises(FashionsegError, match="lacks"):
        find_data("fashion-mnist", list(fashion_mnist.FILES), explicit=tmp_path)
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("fashionseg.data.locate.SYSTEM_ROOT", tmp_path / "system")
    with pytest.raises(FashionsegError, match=r"not found \(looked in"):
        fashion_mnist.locate()


def test_hold_out_split_is_disjoint_and_keeps_test_apart():
    train, valid, test = split_indices(1000, 200, "0.1", seed=0)
    assert len(valid) == 100 and len(train) == 900 and len(test) == 200
    assert not set(train) & set(valid) and min(test) == 1000
    assert split_indices(1000, 200, "0.1", seed=0)[1] == valid  # deterministic
    train, valid = split_indices(1000, 200, "test", seed=0, limit=50)
    assert len(train) == 50 and valid == list(range(1000, 1200))


def _data(**kw):
    recipe = Recipe(name="t", dataset="fashion-mnist", arch="basenet", bs=64, **kw)
    return build_data(recipe, on=torch.device("cpu"))


def test_datablock_batch_is_normalised_typed_and_labelled(fashion_mnist_dir):
    data = _data()
    xb, yb = data.dls.valid.one_batch()
    assert isinstance(xb, TensorImageBW) and xb.shape == (64, 1, 28, 28) and xb.dtype == torch.float32
    assert isinstance(yb, TensorCategory) and yb.shape == (64,)
    assert abs(float(xb.mean())) < 0.2 and 0.8 < float(xb.std()) < 1.2
    raw = fashion_mnist.load()
    expected = (raw["test_images"][:64].float() / 255 - 0.2860) / 0.3530
    assert torch.allclose(xb[:, 0], expected, atol=1e-5)  # validation order is the test file's order
    assert torch.equal(yb, raw["test_labels"][:64].long())
    assert data.test_is_valid and len(data.dls.train.dataset) == 60000


def test_hold_out_gives_three_loaders_and_augmentation_only_in_training(fashion_mnist_dir):
    data = _data(valid="0.1", limit=512, data_options={"augment": "flip-shift"})
    assert not data.test_is_valid
    assert len(data.dls.train.dataset) == 512 and len(data.dls.valid.dataset) == 6000
    assert len(data.test_dl.dataset) == 10000
    v1, _ = data.dls.valid.one_batch()
    v2, _ = data.dls.valid.one_batch()
    assert torch.equal(v1, v2)  # no augmentation outside training


def test_unknown_data_option_is_a_user_error(fashion_mnist_dir):
    with pytest.raises(FashionsegError, match="augment"):
        _data(data_options={"augment": "rotate"})


def test_augmentation_names_build_flips_and_shifts_of_the_stated_size():
    from fastai.torch_core import TensorImage

    from fashionseg.data.augment import RandomFlipBatch, RandomShiftBatch, augmentations

    assert augmentations("none") == []
    flip, shift = augmentations("flip-shift6")
    assert isinstance(flip, RandomFlipBatch) and isinstance(shift, RandomShiftBatch) and shift.pad == 6
    assert augmentations("shift")[0].pad == 2
    for bad in ("rotate", "flip-shift0", "flip-", "shiftx"):
        with pytest.raises(FashionsegError, match="not understood"):
            augmentations(bad)
    # one bright pixel in the middle of each image: a shift moves it by at most 6 in each direction,
    # and over 64 images it lands on many different places
    x = torch.zeros(64, 1, 32, 32)
    x[:, :, 16, 16] = 1.0
    moved = shift(TensorImage(x), split_idx=0)
    assert moved.shape == x.shape and torch.equal(moved.sum((1, 2, 3)), torch.ones(64))
    places = {tuple((m[0] == 1).nonzero()[0].tolist()) for m in moved}
    assert all(abs(r - 16) <= 6 and abs(c - 16) <= 6 for r, c in places) and len(places) > 10
    assert torch.equal(shift(TensorImage(x), split_idx=1), x)  # not outside training
    mirrored = RandomFlipBatch(p=1.0)(TensorImage(torch.arange(4.0).view(1, 1, 1, 4)), split_idx=0)
    assert mirrored.flatten().tolist() == [3.0, 2.0, 1.0, 0.0]


def test_the_environments_data_roots_are_searched_and_the_error_lists_every_place(tmp_path, monkeypatch,
                                                                                  fashion_mnist_dir):
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("fashionseg.data.locate.SYSTEM_ROOT", tmp_path / "system")
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    roots = tmp_path / "venv" / "etc" / "fashionseg" / "data-roots"
    roots.parent.mkdir(parents=True)
    roots.write_text(f"{tmp_path / 'elsewhere'}\n{fashion_mnist_dir.parent}\n")
    assert fashion_mnist.locate() == fashion_mnist_dir  # what scripts/setup.sh records: no sourcing needed
    roots.write_text(f"{tmp_path / 'elsewhere'}\n")
    with pytest.raises(FashionsegError) as err:
        fashion_mnist.locate()
    message = str(err.value)
    for place in ("elsewhere/fashion-mnist", "system/fashion-mnist", "cache/fashionseg/fashion-mnist", DATA_ENV,
                  "not downloaded unless you ask", "data_options.download=true"):
        assert place in message


def test_erase_replaces_a_box_of_about_half_the_training_images_after_normalising(fashion_mnist_dir):
    from fastai.torch_core import TensorImage, TensorMask

    from fashionseg.data.augment import RandomEraseBatch, augmentations

    erase = augmentations("flip-erase")[1]
    assert isinstance(erase, RandomEraseBatch) and erase.order > 99  # fastai's Normalize is 99
    x = TensorImage(torch.zeros(200, 1, 28, 28))
    out = erase(x, split_idx=0)
    changed = (out != 0).flatten(1)
    hit = changed.any(1)
    assert 60 < int(hit.sum()) < 140 and torch.equal(x, torch.zeros_like(x))  # about half, input untouched
    share = changed[hit].float().mean(1)
    assert float(share.min()) >= 0.015 and float(share.max()) <= 0.4  # one box of 2-33% (rounded to pixels)
    assert torch.equal(erase(x, split_idx=1), x)  # not outside training
    mask = TensorMask(torch.zeros(4, 28, 28, dtype=torch.long))
    assert torch.equal(erase(mask, split_idx=0), mask)  # masks are never erased
    data = _data(limit=256, data_options={"augment": "erase"})
    xb, _ = data.dls.train.one_batch()
    assert xb.shape[1:] == (1, 28, 28) and torch.isfinite(xb).all()


def test_fashionseg_data_is_used_or_refused_never_passed_over(tmp_path, monkeypatch, fashion_mnist_dir):
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    monkeypatch.setattr("fashionseg.data.locate.SYSTEM_ROOT", fashion_mnist_dir.parent)  # a complete copy exists there
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "absent"))
    with pytest.raises(FashionsegError, match=f"{DATA_ENV}={tmp_path / 'absent'} is not a folder"):
        find_data("fashion-mnist", list(fashion_mnist.FILES))
    partial = tmp_path / "data" / "fashion-mnist"
    partial.mkdir(parents=True)
    (partial / "train-images-idx3-ubyte.gz").symlink_to(fashion_mnist_dir / "train-images-idx3-ubyte.gz")
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "data"))
    with pytest.raises(FashionsegError) as info:
        find_data("fashion-mnist", list(fashion_mnist.FILES))
    assert str(partial) in str(info.value) and "lacks train-labels-idx1-ubyte.gz" in str(info.value)


def test_idx_test_images_of_another_size_are_one_error(tmp_path, fashion_mnist_dir):
    folder = tmp_path / "fm"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (folder / name).symlink_to(fashion_mnist_dir / name)
    header = b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") + (14).to_bytes(4, "big") * 2
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + bytes(2 * 14 * 14)))
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (2).to_bytes(4, "big")
                                                                     + bytes(2)))
    with pytest.raises(FashionsegError, match="holds 14x14 images but the training images are 28x28"):
        fashion_mnist.load(str(folder))
