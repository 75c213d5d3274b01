"""The fastai callbacks a run attaches, one module per concern: clocks and heartbeat (`clock`), logs
(`logs`), console progress (`progress`), stopping and signals (`stopping`), last.pth and best-k
checkpoints (`checkpoints`), weight EMA (`ema`), precision (`precision`), fine-tuning (`finetune`),
progressive resizing (`resize`), training snapshots (`snapshots`), gradient accumulation and clipping
(`gradients`), MixUp/CutMix (`mixing`). Their order is one table in `core`."""
