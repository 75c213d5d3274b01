"""A model run at one input size: inputs resized on the way in, score maps back to the input's size on the way out."""
from __future__ import annotations

from contextlib import contextmanager

import torch.nn.functional as F

from fashionseg.recipe.sizes import as_size


class RunAtSize:
    """Forward hooks that resize a model's input to `size` and its score maps back to the input size.

    Hooks rather than a wrapper module, so the saved weights stay the architecture's own state_dict.
    """

    def __init__(self, model, size=None):
        self.size = as_size(size) if size is not None else None
        self.handles = [model.register_forward_pre_hook(self.shrink), model.register_forward_hook(self.restore)]

    def shrink(self, module, args):
        x = args[0]
        self.input_size = tuple(x.shape[-2:])
        if self.size is None or self.input_size == self.size:
            return None
        return (F.interpolate(x, size=self.size, mode="bilinear", antialias=True, align_corners=False), *args[1:])

    def restore(self, module, args, output):
        if output.ndim != 4 or tuple(output.shape[-2:]) == self.input_size:
            return None
        return F.interpolate(output, size=self.input_size, mode="bilinear", align_corners=False)

    def remove(self):
        for handle in self.handles:
            handle.remove()


@contextmanager
def at_own_size(model):
    """Inputs reach `model` (and its submodules) at their own size while inside: its `RunAtSize` hooks pause.
    A run trained without `sizes` was tested so: sliding-window tiles reached it at tile size."""
    resizers = [hook.__self__ for m in model.modules() for hook in m._forward_pre_hooks.values()
                if isinstance(getattr(hook, "__self__", None), RunAtSize)]
    sizes = [r.size for r in resizers]
    for r in resizers:
        r.size = None
    try:
        yield model
    finally:
        for r, size in zip(resizers, sizes):
            r.size = size
