"""fastai's distributed trainer and loader as launched runs use them; imported only in a launched process
(`fashionseg.utils.distributed.data_parallel`), as fastai.distributed brings accelerate."""
from __future__ import annotations

import torch
from fastai.distributed import DistributedDL, DistributedTrainer


class ShardedDL(DistributedDL):
    """fastai's DistributedDL, whose rank 0 broadcasts the batch order on `group_device`, the process group's
    (fastai's always uses CUDA, which gloo on CPUs cannot)."""

    def __init__(self, dl, group_device: torch.device, **kwargs):
        super().__init__(dl, **kwargs)
        self.group_device = group_device

    def _broadcast(self, t, rank):
        t = torch.tensor(t, dtype=torch.long, device=self.group_device)
        torch.distributed.broadcast(t, rank)
        return t.cpu().tolist()


class DataParallel(DistributedTrainer):
    """fastai's DistributedTrainer (accelerate's DDP model, SyncBatchNorm when asked) with `ShardedDL` loaders
    broadcasting on `group_device`."""

    def __init__(self, group_device: torch.device, **kwargs):
        super().__init__(**kwargs)
        self.group_device = group_device

    def _wrap_dl(self, dl):
        if isinstance(dl, DistributedDL):
            return dl
        return ShardedDL(dl, self.group_device, device=self.learn.model.device)
