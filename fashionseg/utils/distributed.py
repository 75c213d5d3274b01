"""Data-parallel training in processes a launcher started (`torchrun`, `accelerate launch`):
fastai's distributed trainer with accelerate underneath, gloo on CPUs and NCCL on GPUs. Each rank
trains on its shard of every batch, validation predictions are gathered before the metrics, and
rank 0 alone writes (see `fashionseg.rank`). fastai's distributed module (and accelerate under it, 0.2 s of
every start) is imported only in a launched process (`fashionseg.utils.sharded`)."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import torch

from fashionseg.errors import FashionsegError


def launched() -> bool:
    """True in one of several processes a launcher started (WORLD_SIZE > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def join():
    """Join the launcher's process group through accelerate (gloo on CPUs, NCCL on GPUs) before
    anything is built, so that fastai's default device is this rank's own GPU. Once per process;
    nothing in a single process."""
    if launched():
        from accelerate import PartialState

        PartialState(cpu=not torch.cuda.is_available())


def leave():
    """End a launched command that finished on every rank: meet, then tear down the process group. A rank
    that exits on its own closes its gloo connections under a peer still finishing, which then aborts."""
    if launched() and torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def shard(items: list) -> list:
    """This process's share of `items` when launched (every WORLD_SIZE-th, from its rank); all of them in one."""
    from fashionseg.utils.rank import rank

    return items[rank()::int(os.environ["WORLD_SIZE"])] if launched() else items


def gather_to_main(value) -> list | None:
    """Every rank's `value`, in rank order, on rank 0 (None on the others); `[value]` in one process.
    A collective when launched: every rank must call it."""
    if not (launched() and torch.distributed.is_initialized()):
        return [value]
    from fashionseg.utils.rank import is_main

    gathered = [None] * torch.distributed.get_world_size() if is_main() else None
    torch.distributed.gather_object(value, gathered, dst=0)
    torch.distributed.barrier()  # no rank exits (tearing down its gloo pairs) while rank 0 still receives
    return gathered


def relaunch_words() -> list[str]:
    """The torchrun words that start as many processes again (a run on several machines also needs
    its rendezvous flags); none in one process."""
    if not launched():
        return []
    world = int(os.environ["WORLD_SIZE"])
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    nodes = ["--nnodes", str(world // per_node)] if world > per_node else ["--standalone"]
    return ["torchrun", *nodes, "--nproc_per_node", str(per_node), "-m"]


def main_first(func, *args):
    """`func(*args)` on rank 0 first (it may download or cache), then on the others: fastai's
    `rank0_first` when launched, a plain call in one process."""
    if not launched():
        return func(*args)
    from fastai.distributed import rank0_first

    return rank0_first(func, *args)


def check_sync_bn(sync_bn: bool, on: torch.device):
    """torch's SyncBatchNorm synchronises CUDA tensors only: on CPU processes it is refused up front."""
    if sync_bn and launched() and on.type != "cuda":
        raise FashionsegError("sync_bn needs CUDA GPUs (torch's SyncBatchNorm does not run on CPU processes); "
                              "drop --sync-bn when training on CPUs")


def group_device() -> torch.device:
    """Where the process group's tensors must live: CUDA for NCCL, the CPU for gloo."""
    return torch.device("cuda") if torch.distributed.get_backend() == "nccl" else torch.device("cpu")


def largest(value: int) -> int:
    """The largest of every rank's `value`, so that all ranks decide alike; `value` in one process.
    A collective when launched: every rank must call it."""
    if not (launched() and torch.distributed.is_initialized()):
        return value
    t = torch.tensor(value, dtype=torch.long, device=group_device())
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return int(t)


@contextmanager
def leave_together(*agreed: type[BaseException]):
    """When every rank stops with one of the `agreed` exceptions (a signal, a non-finite loss), the
    others wait until rank 0 has written why: a launcher stops all processes once one exits non-zero."""
    try:
        yield
    except agreed:
        if launched() and torch.distributed.is_initialized():
            torch.distributed.barrier()
        raise


def unsharded(dl):
    """The loader a launched run's `ShardedDL` wraps (it draws the batch order), or `dl` itself."""
    fastai_distributed = sys.modules.get("fastai.distributed")  # never imported: no loader is sharded
    if fastai_distributed is not None and isinstance(dl, fastai_distributed.DistributedDL):
        return dl.dl
    return dl


@contextmanager
def data_parallel(learn, sync_bn: bool = False, console=None):
    """What fastai's `distrib_ctx` does around a fit, with `DataParallel`, when launched; in one
    process nothing (and a note when `sync_bn` was asked for)."""
    if not launched():
        if sync_bn and console is not None:
            console.print("sync_bn: one process has no batch statistics to share; batch norm stays as it is")
        yield learn
        return
    from fashionseg.utils.sharded import DataParallel

    trainer = DataParallel(group_device(), sync_bn=sync_bn, cpu=not torch.cuda.is_available())
    learn.add_cb(trainer)
    try:
        yield learn
    finally:
        learn.remove_cb(trainer)
