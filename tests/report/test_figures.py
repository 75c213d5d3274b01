"""The figures' content: what a reader of the report sees is what the weights hold."""
import numpy as np
import torch

from fashionseg.report.figures import first_conv_filters


def test_first_conv_filters_show_each_channel_averaged_kernel_scaled_to_its_own_range():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 10, 5)
    fig = first_conv_filters(torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.Conv2d(10, 4, 3)))
    (ax,) = fig.axes
    (image,) = ax.get_images()
    mosaic = image.get_array()
    assert "10 learned (5, 5) filters" in fig._suptitle.get_text()
    kernels = conv.weight.detach().mean(1).numpy()
    cols, step = 8, 5 + 1  # 8 filters a row, a 1-pixel gap
    assert mosaic.shape == (2 * step - 1, cols * step - 1)
    for i, k in enumerate(kernels):
        r, c = divmod(i, cols)
        cell = mosaic[r * step:r * step + 5, c * step:c * step + 5]
        assert not np.ma.getmaskarray(cell).any()
        np.testing.assert_allclose(cell, (k - k.min()) / (k.max() - k.min()), atol=1e-6)
    assert np.ma.getmaskarray(mosaic)[:, 5].all()  # the gap between filters is blank
    assert np.ma.getmaskarray(mosaic)[step:, 2 * step:].all()  # the unused cells of the last row too
    assert first_conv_filters(torch.nn.Linear(3, 2)) is None
    conv.requires_grad_(False)  # a fixed first layer (`whiten`) is not called learned
    assert "10 fixed (5, 5) filters" in first_conv_filters(conv)._suptitle.get_text()
