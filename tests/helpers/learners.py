"""A tiny BN-free Learner on fixed random 4x4 'images' of 3 classes, for callback tests that compare fits."""
import torch
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from fastai.optimizer import Adam
from fastai.torch_core import TensorCategory, TensorImage


def toy_learner(bs: int, n_items: int = 24, opt=Adam, cbs=(), loss_func=None, learner=Learner) -> Learner:
    """The same data, order and initial weights every call: fits differ only by their settings (`learner`: the
    Learner class, fastai's or a subclass)."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(n_items, 1, 4, 4, generator=gen), torch.randint(0, 3, (n_items,), generator=gen)
    items = [(TensorImage(a), TensorCategory(b)) for a, b in zip(x, y)]
    dls = DataLoaders(DataLoader(items, bs=bs, shuffle=False, drop_last=False), DataLoader(items, bs=bs))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    return learner(dls, model, loss_func=loss_func or torch.nn.CrossEntropyLoss(), opt_func=opt, lr=1e-2,
                   cbs=list(cbs))
