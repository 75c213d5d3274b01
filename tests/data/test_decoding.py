"""Decoding that never lies: orientation, 16-bit, alpha, palette and CMYK images read as a viewer shows them."""
import numpy as np
import pytest
from PIL import Image

from fashionseg import FashionsegError
from fashionseg.data.decode_cache import decoded_images
from fashionseg.data.images import as_image, read_image


def test_exif_orientation_is_applied(tmp_path):
    array = np.zeros((10, 20, 3), dtype=np.uint8)
    array[:, :10] = 255  # stored landscape, bright on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    Image.fromarray(array).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    image = read_image(tmp_path / "phone.jpg")
    assert tuple(image.shape) == (3, 20, 10)  # shown portrait
    assert image[:, :10].float().mean() > 200 and image[:, 10:].float().mean() < 50  # bright half on top


def test_16_bit_png_is_scaled_to_8_bits(tmp_path):
    array = np.linspace(0, 65535, 12 * 10).reshape(12, 10).astype(np.uint16)
    Image.fromarray(array).save(tmp_path / "deep.png")
    image = read_image(tmp_path / "deep.png", n_in=1)[0].numpy().astype(int)
    assert np.abs(image - np.round(array / 257)).max() <= 1  # not clipped to solid white
    assert image.min() == 0 and image.max() == 255


def test_transparency_is_composited_over_white(tmp_path):
    array = np.zeros((4, 4, 4), dtype=np.uint8)
    array[..., 0] = 200  # red under every pixel
    array[:2, :, 3] = 255  # top half opaque, bottom half fully transparent
    Image.fromarray(array, "RGBA").save(tmp_path / "cutout.png")
    image = read_image(tmp_path / "cutout.png")
    assert image[:, :2].permute(1, 2, 0).reshape(-1, 3).tolist()[0] == [200, 0, 0]
    assert (image[:, 2:] == 255).all()  # transparent pixels are white, not the hidden red


def test_palette_and_cmyk_convert_as_pil_does(tmp_path):
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (6, 6, 3), dtype=np.uint8))
    pal, cmyk = rgb.convert("P"), rgb.convert("CMYK")
    pal.save(tmp_path / "p.png")
    cmyk.save(tmp_path / "c.jpg", quality=100)
    assert (read_image(tmp_path / "p.png").permute(1, 2, 0).numpy() == np.asarray(pal.convert("RGB"))).all()
    expected = np.asarray(Image.open(tmp_path / "c.jpg").convert("RGB"))
    assert (read_image(tmp_path / "c.jpg").permute(1, 2, 0).numpy() == expected).all()
    assert (as_image(pal, 3).permute(1, 2, 0).numpy() == np.asarray(pal.convert("RGB"))).all()


def write_set(folder, n_good=4, bad=("a.png", "b.jpg")):
    folder.mkdir()
    for i in range(n_good):
        Image.fromarray(np.full((5, 5, 3), 40 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    for name in bad:
        (folder / name).write_bytes(b"not an image")
    return sorted(str(p) for p in folder.iterdir())


def test_every_unreadable_file_is_named_in_one_error(tmp_path):
    files = write_set(tmp_path / "d")
    with pytest.raises(FashionsegError) as info:
        decoded_images(tmp_path / "d", files, None)
    message = str(info.value)
    assert "2 of 6 images cannot be read" in message and "\n" not in message
    assert str(tmp_path / "d" / "a.png") in message and str(tmp_path / "d" / "b.jpg") in message
    assert "data_options.skip_bad=true" in message
    assert not list((tmp_path / "d" / ".fashionseg-cache").glob("*.npy"))  # no cache from a failed decode


def test_skip_bad_leaves_unreadable_files_out_and_names_them(tmp_path):
    files = write_set(tmp_path / "d")
    decoded = decoded_images(tmp_path / "d", files, None, skip_bad=True)
    bad = [str(tmp_path / "d" / "a.png"), str(tmp_path / "d" / "b.jpg")]
    assert decoded.bad == bad and decoded.decoded
    assert decoded.images.shape == (6, 3, 5, 5)
    again = decoded_images(tmp_path / "d", files, None, skip_bad=True)
    assert not again.decoded and again.bad == bad  # the cache remembers what was skipped
    mean = np.mean([0, 40, 80, 120]) / 255
    assert abs(decoded.stats[0][0] - mean) < 1e-6  # statistics of the readable images only
