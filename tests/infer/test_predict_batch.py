"""`fashionseg predict RUN INPUT...` over many images: files, folders and globs mixed, the CSV of
per-image results, mirrored mask names under --out, and one-line errors."""
import csv

import pytest
import torch
from PIL import Image
from helpers.runs import save_pngs

import fashionseg
from fashionseg import FashionsegError
from fashionseg.cli import main


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_files_folders_and_globs_give_one_sorted_top_k_row_per_image(fashion, tmp_path, capsys, monkeypatch):
    result, images, _ = fashion
    names = ["shoes/a.png", "shoes/deep/b.png", "bags/a.png", "loose/c.png", "loose/d.png", "loose/e.png"]
    paths = save_pngs(images[:6], tmp_path, names)
    (tmp_path / "shoes" / "notes.txt").write_text("not an image, skipped in folders")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results" / "preds.csv"
    code = main(["predict", str(result.run.path), "shoes", "loose/[cd].png", str(paths[2]), "loose/c.png",
                 "--csv", str(out), "--top-k", "4", "--bs", "2"])
    assert code == 0
    rows = read_csv(out)
    assert [r["file"] for r in rows] == ["shoes/a.png", "shoes/deep/b.png", "loose/c.png", "loose/d.png",
                                         str(paths[2])]  # in order, each once, notes.txt left out
    expected = fashionseg.load_run(result.run.path).predict([paths[i] for i in (0, 1, 3, 4, 2)])
    for row, pred in zip(rows, expected):
        probs = [float(row[f"prob_{k}"]) for k in range(1, 5)]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
        assert row["label_1"] == pred.label and probs[0] == pytest.approx(float(pred.probs.max()), abs=1e-6)
        assert len({row[f"label_{k}"] for k in range(1, 5)}) == 4
    printed = capsys.readouterr().out
    assert "5 images" in printed and f"wrote 5 rows to {out}" in printed and "predicted 5/5 images" in printed


def test_segmentation_writes_mirrored_masks_and_pixel_shares(facade, tmp_path, capsys):
    result, data = facade
    photo = data / "test_dev" / "eecs442_0001.jpg"
    for folder in ("north", "south"):  # two a.jpg in different folders must not collide
        (tmp_path / "in" / folder).mkdir(parents=True)
        Image.open(photo).resize((200, 150)).save(tmp_path / "in" / folder / "a.jpg")
    out, table = tmp_path / "masks", tmp_path / "shares.csv"
    code = main(["predict", str(result.run.path), str(tmp_path / "in"), "--out", str(out), "--csv", str(table)])
    assert code == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["north/a_classes.png", "north/a_prediction.png", "south/a_classes.png",
                       "south/a_prediction.png"]
    run = fashionseg.load_run(result.run.path)
    mask = run.predict(tmp_path / "in" / "north" / "a.jpg")[0]
    with Image.open(out / "north" / "a_classes.png") as raw, Image.open(out / "north" / "a_prediction.png") as shown:
        assert raw.size == shown.size == (200, 150) and shown.mode == "RGB"
        assert torch.equal(torch.tensor(list(raw.getdata())).view(150, 200), mask)
    for row in read_csv(table):
        shares = [float(row[f"share_{name}"]) for name in run.classes]
        assert sum(shares) == pytest.approx(1, abs=1e-5)
        assert shares == pytest.approx([float((mask == c).float().mean()) for c in range(5)], abs=1e-6)
    assert f"wrote 4 files under {out}" in capsys.readouterr().out


@pytest.mark.parametrize("inputs, options, message", [
    (["nothing-*.png"], [], "no images matched nothing-*.png"),
    (["missing.png"], [], "missing.png is neither a file, a folder nor a glob that matches"),
    (["imgs"], ["--out", "a-file"], "--out a-file is a file; with several images --out names a folder"),
    (["imgs"], ["--csv", "a-file/r.csv"], "--csv a-file/r.csv lies under a-file, which is a file"),
    (["imgs", "broken.png"], [], "broken.png is not an image that can be read"),
])
def test_errors_are_one_line_with_exit_2(fashion, tmp_path, monkeypatch, capsys, inputs, options, message):
    result, images, _ = fashion
    monkeypatch.chdir(tmp_path)
    save_pngs(images[:2], tmp_path / "imgs", ["x.png", "y.png"])
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "broken.png").write_text("not a picture")
    assert main(["predict", str(result.run.path), *inputs, *options]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "broken.png", "imgs"]  # nothing written


def test_the_cli_needs_only_the_run_folder(fashion, no_data_anywhere, tmp_path, capsys):
    from fashionseg.data import fashion_mnist

    fashion_mnist.load.cache_clear()  # loaded files are cached in memory: forget them, as a new process would
    result, images, _ = fashion
    save_pngs(images[:3], tmp_path / "in", ["a.png", "b.png", "c.png"])
    assert main(["predict", str(result.run.path), str(tmp_path / "in"), "--csv", str(tmp_path / "r.csv")]) == 0
    assert [r["file"] for r in read_csv(tmp_path / "r.csv")] == [str(tmp_path / "in" / n) for n in
                                                                ("a.png", "b.png", "c.png")]
    with pytest.raises(FashionsegError, match="fashion-mnist"):
        fashion_mnist.load()  # the training data really is out of reach


def test_flip_tta_averages_each_image_with_its_mirror(fashion, tmp_path):
    result, images, _ = fashion
    run = fashionseg.load_run(result.run.path)
    batch = images[:5]
    plain = [p.probs for p in run.predict(list(batch))]
    mirrored = [p.probs for p in run.predict(list(batch.flip(-1)))]
    tta = run.predict(list(batch), tta=True)
    for got, a, b in zip(tta, plain, mirrored):
        assert torch.allclose(got.probs, (a + b) / 2, atol=1e-5)
        assert got.index == int(((a + b) / 2).argmax())
    assert any(not torch.allclose(a, b, atol=1e-3) for a, b in zip(plain, mirrored))  # the mirror is not a no-op
    paths = save_pngs(batch, tmp_path, [f"{i}.png" for i in range(5)])
    out = tmp_path / "tta.csv"
    assert main(["predict", str(result.run.path), *map(str, paths), "--tta", "--csv", str(out)]) == 0
    for row, pred in zip(read_csv(out), tta):
        assert row["label_1"] == pred.label and float(row["prob_1"]) == pytest.approx(float(pred.probs.max()), abs=1e-5)


def test_tiles_predict_a_photo_at_its_own_size(facade, tmp_path):
    from fashionseg.infer.predict import normalize
    from fashionseg.infer.tta import sliding_window

    result, data = facade
    run = fashionseg.load_run(result.run.path)
    photo = tmp_path / "photo.jpg"
    Image.open(data / "test_dev" / "eecs442_0001.jpg").resize((200, 150)).save(photo)
    tiled = run.predict(photo, tile=64, overlap=0.5)[0]
    assert tiled.shape == (150, 200)
    image = torch.tensor(list(Image.open(photo).convert("RGB").getdata()), dtype=torch.uint8).view(150, 200, 3)
    x = normalize(image.permute(2, 0, 1)[None], run.summary)
    with torch.no_grad():
        expected = sliding_window(run.model.eval(), x, 64, 0.5).argmax(1)[0]
    assert torch.equal(tiled, expected)
    assert not torch.equal(tiled, run.predict(photo)[0])  # 64 px windows at full size, not the photo shrunk to 64 px
    small = tmp_path / "small.png"
    Image.open(photo).resize((64, 64)).save(small)
    assert torch.equal(run.predict(small, tile=64)[0], run.predict(small)[0])  # one window covering it: the plain pass
    masks = tmp_path / "masks"
    assert main(["predict", str(result.run.path), str(photo), str(small), "--tile", "64", "--overlap", "0.5",
                 "--out", str(masks)]) == 0
    with Image.open(masks / "photo_classes.png") as raw:
        assert torch.equal(torch.tensor(list(raw.getdata())).view(150, 200), tiled)


def test_tiles_and_overlap_out_of_range_are_one_line_errors(fashion, tmp_path, capsys):
    result, images, _ = fashion
    path = save_pngs(images[:1], tmp_path, ["one.png"])[0]
    assert main(["predict", str(result.run.path), str(path), "--tile", "16"]) == 2
    assert "--tile applies to runs whose task predicts maps" in capsys.readouterr().err
    assert main(["predict", str(result.run.path), str(path), "--overlap", "1.5"]) == 2
    assert "--overlap a fraction at least 0 and below 1" in " ".join(capsys.readouterr().err.split())


def test_folders_list_numbered_files_in_natural_order(tmp_path):
    from fashionseg.infer.predict import find_images

    names = ["10.png", "2.png", "1.png", "img10.png", "img9.png", "sub/3.png", "sub10/1.png", "sub2/1.png"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (4, 4)).save(tmp_path / name)
    found = [p.relative_to(tmp_path).as_posix() for p in find_images([str(tmp_path)])]
    assert found == ["1.png", "2.png", "10.png", "img9.png", "img10.png", "sub/3.png", "sub2/1.png", "sub10/1.png"]
    globbed = [p.relative_to(tmp_path).as_posix() for p in find_images([str(tmp_path / "*.png")])]
    assert globbed == ["1.png", "2.png", "10.png", "img9.png", "img10.png"]


def test_a_batch_of_one_size_is_resized_as_each_image_alone(fashion):
    """Images of one size other than the model's are normalised and resized as one batch: the same answer."""
    from fashionseg.infer.predict import predict_images
    from fashionseg.infer.trained import load_run

    result, images, _ = fashion
    trained = load_run(result.run.path, on=torch.device("cpu"))
    big = [torch.nn.functional.interpolate(im[None, None].float(), size=(40, 36)).round().to(torch.uint8)[0]
           for im in images[:5]]
    together = predict_images(trained, big)
    alone = [predict_images(trained, [im])[0] for im in big]
    assert torch.allclose(torch.stack([p.probs for p in together]), torch.stack([p.probs for p in alone]), atol=1e-5)
