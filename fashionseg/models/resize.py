"""A model run at one input size: inputs resized on the way in, score maps back to the input's size on the way out."""
from __future__ import annotations

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
