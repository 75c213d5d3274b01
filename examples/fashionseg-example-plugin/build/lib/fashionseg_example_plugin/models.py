"""The example's model; imported only when a run builds it (this is where torch comes in)."""
from torch import nn

SIZE = 28  # declared as the architecture's input_size: a flatten feeds a linear layer


def tiny_mlp(n_classes: int, n_in: int, hidden: int = 128) -> nn.Module:
    """A two-layer perceptron over the flattened image; `hidden` is an arch option."""
    return nn.Sequential(nn.Flatten(), nn.Linear(n_in * SIZE * SIZE, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_classes))
