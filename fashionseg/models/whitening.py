"""A model's first convolution started as whitening filters of the training images' patches (the data-dependent
first layer of the fastest small-image trainers, e.g. Keller Jordan's airbench): each filter is an eigenvector of
the patches' covariance scaled by one over the square root of its eigenvalue, with its negative beside it, so the
layer's outputs are decorrelated and of equal variance from the first step. The whitening filters stay fixed."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from fashionseg.errors import FashionsegError
from fashionseg.models.layers import first_conv

EPS = 5e-4  # added to each eigenvalue: the flattest directions (mostly noise) are not blown up


@dataclass
class Whitened:
    """What `whiten_first_conv` did, for the run's log."""

    layer: str  # the convolution's name in the model
    filters: int  # how many of its filters are whitening filters (fixed)
    out_channels: int  # all of its filters; the others keep their random start and train


def patch_covariance(images: torch.Tensor, kernel: tuple[int, int], rows: int = 1 << 20) -> torch.Tensor:
    """The covariance of every kernel-sized patch of `images` (N, C, H, W), in float64, summed over chunks of about
    `rows` patches so that large images (7x7 patches of colour photos) do not need all their patches at once."""
    if images.shape[2] < kernel[0] or images.shape[3] < kernel[1] or len(images) == 0:
        raise FashionsegError(f"whiten needs images at least the size of the first convolution's {kernel[0]}x"
                              f"{kernel[1]} kernel; it sees {tuple(images.shape[2:])}")
    dims = images.shape[1] * kernel[0] * kernel[1]
    per_image = (images.shape[2] - kernel[0] + 1) * (images.shape[3] - kernel[1] + 1)
    step = max(1, rows // per_image)
    total, outer, count = torch.zeros(dims, dtype=torch.float64), torch.zeros(dims, dims, dtype=torch.float64), 0
    for start in range(0, len(images), step):
        patches = F.unfold(images[start:start + step].float(), kernel)  # (n, dims, L)
        patches = patches.transpose(1, 2).reshape(-1, dims).double()
        total += patches.sum(0)
        outer += patches.T @ patches
        count += len(patches)
    mean = total / count
    return (outer - count * torch.outer(mean, mean)) / (count - 1)


def whitening_filters(images: torch.Tensor, kernel: tuple[int, int], n: int, eps: float = EPS) -> torch.Tensor:
    """`n` filters of shape (channels, *kernel) from `images` (N, C, H, W): the top eigenvectors of the covariance of
    their kernel-sized patches, each divided by the square root of its eigenvalue (plus `eps`), followed by their
    negatives, so that `n` may be up to twice the patch's size."""
    values, vectors = torch.linalg.eigh(patch_covariance(images, kernel))
    values, vectors = values.flip(0).clamp_min(0), vectors.flip(1)  # largest variance first
    half = (n + 1) // 2
    filters = (vectors[:, :half].T / torch.sqrt(values[:half, None] + eps)).float()
    return torch.cat([filters, -filters])[:n].reshape(n, images.shape[1], *kernel)


class _Seen(Exception):
    """Ends a forward pass once the first convolution's input is captured."""


def conv_inputs(model: nn.Module, conv: nn.Conv2d, images: torch.Tensor) -> torch.Tensor:
    """What `conv` receives when `model` runs on `images`: the images themselves, or what layers before it (a
    space-to-depth stem, a normalisation) made of them. The forward pass stops there."""
    seen = []

    def capture(module, args):
        seen.append(args[0].detach().as_subclass(torch.Tensor).float())
        raise _Seen

    handle = conv.register_forward_pre_hook(capture)
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(images)
    except _Seen:
        pass
    except Exception as exc:  # the model cannot take these images: say so in one line
        raise FashionsegError(f"whiten could not run the model on training images ({type(exc).__name__}: "
                              f"{exc}); train it without --whiten") from None
    finally:
        handle.remove()
        model.train(training)
    if not seen:
        raise FashionsegError("whiten: the model's first convolution is not used in its forward pass; train it "
                              "without --whiten")
    return seen[0]


def whiten_first_conv(model: nn.Module, images: torch.Tensor) -> Whitened:
    """Set the first convolution's filters (up to twice its patch size) to the whitening filters of what it sees
    of `images` and keep them fixed: the whole layer is frozen when every filter is a whitening filter, otherwise
    their gradients are zeroed and the remaining filters train from their random start."""
    found = first_conv(model)
    if found is None:
        raise FashionsegError("whiten needs a model whose first layer is a convolution; this architecture has no "
                              "nn.Conv2d: train it without --whiten")
    name, conv = found
    if conv.groups != 1 or conv.dilation != (1, 1):
        raise FashionsegError(f"whiten sets a plain convolution; the model's first one ({name}) is grouped or "
                              f"dilated: train it without --whiten")
    inputs = conv_inputs(model, conv, images)
    if inputs.shape[1] != conv.in_channels:
        raise FashionsegError(f"whiten: the first convolution ({name}) takes {conv.in_channels} channels but the "
                              f"training images give it {inputs.shape[1]}")
    size = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
    n = min(conv.out_channels, 2 * size)
    with torch.no_grad():
        conv.weight[:n] = whitening_filters(inputs, conv.kernel_size, n).to(conv.weight)
        if conv.bias is not None:
            conv.bias[:n] = 0
    if n == conv.out_channels:
        conv.requires_grad_(False)
    else:
        mask = torch.ones_like(conv.weight)
        mask[:n] = 0
        conv.weight.register_hook(lambda grad: grad * mask.to(grad))
        if conv.bias is not None:
            bias_mask = torch.ones_like(conv.bias)
            bias_mask[:n] = 0
            conv.bias.register_hook(lambda grad: grad * bias_mask.to(grad))
    return Whitened(name, n, conv.out_channels)


def training_images(dl, items: int = 2048, batches: int = 16) -> torch.Tensor:
    """Up to `items` training images (at most `batches` batches) as the model sees them, augmented and normalised,
    for statistics such as the whitening filters'."""
    chunks, seen = [], 0
    for i, batch in enumerate(dl):
        x = batch[0]
        chunks.append(x.as_subclass(torch.Tensor).detach().float().cpu())
        seen += len(x)
        if seen >= items or i + 1 >= batches:
            break
    if not chunks:
        raise FashionsegError("whiten needs training images, and the training set is empty")
    return torch.cat(chunks)[:items]
