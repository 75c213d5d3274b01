"""kornia's batch augmentation: a mask moves exactly with its image under every geometric transform, pixels
moved in from outside are void, colour leaves masks alone, and the vocabulary parses strengths and presets."""
import pytest
import torch
from fastai.torch_core import TensorCategory, TensorImage, TensorImageBW, TensorMask

from fashionseg.data.augment import augmentations
from fashionseg.data.kornia_augment import KorniaBatch, kornia_part
from fashionseg.errors import FashionsegError

VOID = 255


def blocky_batch(n=6, size=48, seed=0):
    """Masks of 8x8 blocks of 3 classes, and images one-hot of the class (channel c is 1 in class c): an image
    pixel resampled inside a block is exactly one-hot and names its class; one blended across a border is not;
    one moved in from outside is all zero."""
    gen = torch.Generator().manual_seed(seed)
    blocks = torch.randint(0, 3, (n, size // 8, size // 8), generator=gen)
    mask = blocks.repeat_interleave(8, 1).repeat_interleave(8, 2)
    return TensorImage(torch.nn.functional.one_hot(mask, 3).permute(0, 3, 1, 2).float()), TensorMask(mask)


def named_classes(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per pixel: the class an exactly one-hot pixel names, which pixels are one-hot, which are exactly zero."""
    image = image.as_subclass(torch.Tensor)
    exact = ((image - image.round()).abs() < 1e-5).all(1)
    ones = image.round().sum(1)
    return image.argmax(1), exact & (ones == 1), exact & (ones == 0)


@pytest.mark.parametrize("part", ["crop0.5", "scale0.3", "rot30", "persp0.4", "elastic2", "flip-rot20-crop0.6"])
def test_a_mask_moves_exactly_with_its_image(part):
    torch.manual_seed(1)
    image, mask = blocky_batch()
    tfm = augmentations(part, void=VOID)[-1]
    out_image, out_mask = tfm((image, mask), split_idx=0)
    assert isinstance(out_mask, TensorMask) and out_mask.dtype == torch.long and out_mask.shape == mask.shape
    out_mask, mask = out_mask.as_subclass(torch.Tensor), mask.as_subclass(torch.Tensor)
    named, inside, outside = named_classes(out_image)
    assert inside.float().mean() > 0.5 and not torch.equal(out_mask, mask)  # most pixels name a class; it moved
    assert torch.equal(out_mask[inside], named[inside])
    assert (out_mask[outside] == VOID).all()
    if part in ("rot30", "persp0.4"):
        assert outside.any()  # rotating and warping bring pixels in from outside


def test_colour_blur_and_noise_leave_masks_alone_and_validation_unaugmented():
    image, mask = blocky_batch()
    tfm = augmentations("colour0.4-blur2-noise0.1", void=VOID)[-1]
    out_image, out_mask = tfm((image, mask), split_idx=0)
    assert torch.equal(out_mask, mask) and not torch.equal(out_image, image)
    assert tfm((image, mask), split_idx=1)[0] is image


def test_grey_classification_batches_take_colour_and_keep_labels():
    x, y = TensorImageBW(torch.rand(8, 1, 28, 28)), TensorCategory(torch.arange(8))
    out_x, out_y = augmentations("crop0.7-colour0.2")[-1]((x, y), split_idx=0)
    assert isinstance(out_x, TensorImageBW) and out_x.shape == x.shape and torch.equal(out_y, y)


def test_the_vocabulary_parses_strengths_presets_and_refuses_the_rest():
    assert kornia_part("rot15") == ("rot", 15.0) and kornia_part("crop") == ("crop", 0.5)
    assert kornia_part("color.3") == ("colour", 0.3) and kornia_part("flip") is None
    tfms = augmentations("flip-shift4-crop0.5-rot15")
    assert [type(t).__name__ for t in tfms] == ["RandomFlipBatch", "RandomShiftBatch", "KorniaBatch"]
    assert tfms[-1].parts == [("crop", 0.5), ("rot", 15.0)]
    segment = augmentations("segment")
    assert isinstance(segment[-1], KorniaBatch) and [p for p, _ in segment[-1].parts] == [
        "crop", "rot", "persp", "colour", "blur", "noise", "elastic"]
    assert "RandomEraseBatch" in [type(t).__name__ for t in augmentations("classify")]
    with pytest.raises(FashionsegError, match="cropS"):
        augmentations("flip-crunch")
