"""The `Recipe`: one experiment's components (by name) and settings, with their checks."""
from __future__ import annotations

import ast
import re
import copy
import dataclasses
from dataclasses import dataclass, field

from fashionseg.errors import FashionsegError, unknown_name
from fashionseg.recipe.sizes import size_schedule

SCHEDULES = ("one-cycle", "constant", "step")


PRECISIONS = ("32", "bf16", "fp16")


OPTIMIZERS = ("adam", "torch-adam", "sgd")


TRACKERS = ("mlflow", "wandb", "tensorboard")


def setting(help: str, default=dataclasses.MISSING, choices=(), option: bool = True):
    """A Recipe field with its help text and choices: the one source of the command-line options."""
    meta = {"help": help, "choices": tuple(choices), "option": option}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Recipe:
    """Everything needed to reproduce a run; written to the run folder as config.json."""

    name: str = setting("the run's name; run folders are named after it", option=False)
    dataset: str = setting("data set name (see `fashionseg list datasets`)")
    arch: str = setting("architecture name (see `fashionseg list architectures`)")
    metrics: list[str] = setting("metric names, comma-separated (see `fashionseg list metrics`)", [])
    epochs: int = setting("training epochs", 5)
    lr: float = setting("learning rate (the peak of the one-cycle schedule, the start of the step schedule)", 1e-3)
    bs: int = setting("batch size", 128)
    wd: float = setting("weight decay", 1e-4)
    schedule: str = setting("learning-rate schedule: one-cycle (peak lr), constant, or step (lr times step_factor "
                            "every step_every epochs)", "one-cycle", SCHEDULES)
    step_factor: float = setting("the step schedule multiplies the rate by this", 0.9)
    step_every: int = setting("the step schedule's period in epochs", 10)
    early_stop: int = setting("stop when the monitored value has not improved for this many epochs (0: never)", 0)
    monitor: str = setting("what early stopping watches: valid_loss, train_loss or an epoch metric's name such as "
                           "accuracy (lower is better for losses and errors, higher for the rest)", "valid_loss")
    precision: str = setting("training precision: 32, bf16 (autocast; on CPU too) or fp16 (CUDA only, with a grad "
                             "scaler)", "32", PRECISIONS)
    opt: str = setting("optimizer: adam is fastai's Adam (decoupled weight decay, i.e. AdamW), torch-adam is "
                       "torch.optim.Adam (fused) with L2 weight decay, sgd is fastai's SGD", "adam", OPTIMIZERS)
    valid: str = setting("what validates: 'test' (the official test set), a hold-out fraction of the training "
                         "items such as 0.1, training items such as 250-350, or fold I of K of the training items "
                         "such as fold0/5 (as --folds sets it)", "test")
    folds: int = setting("k-fold cross-validation: train K runs under one folder, each validating on one of K "
                         "folds of the training items (stratified by class for classification) and tested on the "
                         "test set, then a table of each metric's mean and spread (0: one run)", 0)
    seed: int = setting("random seed", 42)
    label_smoothing: float = setting("label smoothing of the loss (0: none)", 0.0)
    accumulate: int = setting("gradient accumulation: one optimizer step every N batches, the update of one batch "
                              "N x bs large (the schedule counts optimizer steps; batch norm still sees bs items)", 1)
    clip: float = setting("gradient clipping: scale the gradients down to at most this global L2 norm before each "
                          "step (0: off)", 0.0)
    mixup: float = setting("classification: MixUp strength, the Beta(alpha, alpha) of timm's Mixup that blends "
                           "pairs of training images and their labels (0.2-0.4 is usual; 0: off)", 0.0)
    cutmix: float = setting("classification: CutMix strength, the Beta(alpha, alpha) of timm's Mixup that pastes "
                            "a box of one training image into another (1.0 is usual; 0: off); with mixup, each "
                            "batch takes one of the two", 0.0)
    ema: float = setting("weight EMA: keep an exponential moving average of the weights with this decay (e.g. "
                         "0.999), validate it each epoch and keep it as the run's weights (0: off)", 0.0)
    loss: str = setting("loss name: cross-entropy, focal, dice-ce, bce, asl, mse; '' is the task's own "
                        "(cross-entropy for classification and segmentation, bce for multi-label)", "")
    loss_options: dict = setting("loss options as a dict, e.g. \"{'weight': [1, 1, 4, 1, 2]}\" for per-class "
                                 "weights; or --set loss_options.KEY=VALUE", {})
    train_items: str = setting("train on these training items only, a range such as 0-250 (items 0 to 249, less "
                               "any that validate); '' trains on every training item that does not validate", "")
    limit: int = setting("train on only this many items (0: all); for quick checks", 0)
    eval_limit: int = setting("validate and test on only this many items (0: all); for quick checks", 0)
    channels_last: bool = setting("channels-last memory format: often faster for convolutions, on CPU as on GPU",
                                  False)
    sync_bn: bool = setting("synchronise batch-norm statistics across processes in multi-process training "
                            "(torch's SyncBatchNorm: CUDA GPUs only; in one process it changes nothing)", False)
    sizes: list = setting("[[epoch, size], ...]: the model's input size from that epoch on (progressive "
                          "resizing), e.g. \"[[0, 128], [8, 256]]\"", [])
    arch_options: dict = setting("architecture options as a dict; or --set arch_options.KEY=VALUE", {})
    data_options: dict = setting("data set options as a dict, e.g. \"{'augment': 'flip'}\"; or "
                                 "--set data_options.KEY=VALUE", {})
    weights: str = setting("pretrained weights to start from: a local file (a state_dict, {'state_dict': ...}, "
                           "{'model': ...} or .safetensors), a model folder, hf-hub:ORG/NAME, or 'pretrained' for "
                           "the architecture's published weights (downloaded into the Hugging Face / torch hub cache "
                           "when not there; '': from scratch)", "")
    whiten: bool = setting("start the model's first convolution as whitening filters of the training images' "
                           "patches (their covariance's eigenvectors, each with its negative; airbench's first layer) "
                           "and keep those filters fixed: faster early training from scratch. Filters beyond twice "
                           "the patch size (e.g. 18 for a 3x3 convolution of grey images) train from random",
                           False)
    freeze_epochs: int = setting("fine-tune as fastai's fine_tune: train only the head (and norm layers) for this "
                                 "many of the epochs, then all of it with discriminative learning rates (0: off)", 0)
    tta: bool = setting("final test evaluation with flip test-time augmentation: the mean softmax of each image "
                        "and its left-right mirror (segmentation: the mirror's map flipped back)", False)
    tile: int = setting("segmentation: predict the test images at their own size by a sliding window of "
                        "tile x tile crops, blended with a Gaussian window (0: the whole image at once)", 0)
    overlap: float = setting("the sliding window's overlap, a fraction of the tile", 0.25)
    show_epochs: list[int] = setting("epochs (0 is the first, as in metrics.csv) at whose end the predictions on "
                                     "show_items fixed validation images are saved in snapshots/ and drawn in "
                                     "figures/training_snapshots.png, e.g. 0,4,9", [])
    show_items: int = setting("how many fixed validation images show_epochs follows", 4)
    figures: bool = setting("after training, draw the report's figures into figures/ (loss and training curves, "
                            "first-layer filters, the task's figures such as the confusion matrix and top losses); "
                            "--no-figures leaves them out of the run folder and report, for quick checks, sweeps "
                            "and tuning trials (figures asked for by name, as show_epochs and tsne, stay)", True)
    keep_best: int = setting("keep this many checkpoints with the lowest validation loss, for ensembles "
                             "(0: none)", 0)
    ensemble: int = setting("after training, test the best checkpoint and the average of the K best beside the "
                            "final weights, in the report (needs keep_best >= K; 0: off)", 0)
    tsne: int = setting("after training, a t-SNE figure of this many test images' features in the report "
                        "(0: off)", 0)
    log_every: int = setting("training iterations between rows of iterations.csv", 100)
    track: list[str] = setting("experiment trackers, comma-separated: mlflow (a local SQLite store beside the run "
                               "folders unless $MLFLOW_TRACKING_URI is set), wandb (offline unless $WANDB_MODE is set), "
                               "tensorboard (event files in the run folder)", [], TRACKERS)
    experiment: str = setting("what trackers file the run under (MLflow experiment, W&B project); '' is the "
                              "recipe's name, for a sweep's variants the swept recipe's", "")
    description: str = setting("what the experiment is for, one line", "", option=False)
    tune_space: list[str] = setting("`fashionseg tune`'s search space, as --space takes it, e.g. "
                                    "[\"lr=log:1e-4:1e-2\", \"bs=choice:64,128\"]", [], option=False)

    def __post_init__(self):
        self.validate()

    def validate(self):
        if self.schedule not in SCHEDULES:
            raise FashionsegError(f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        if self.opt not in OPTIMIZERS:
            raise FashionsegError(f"opt must be one of {', '.join(OPTIMIZERS)}, not {self.opt!r}")
        self.precision = str(self.precision)  # precision=32 in a recipe script means "32"
        if isinstance(self.track, str):  # track="mlflow" in a recipe script
            self.track = [t for t in self.track.split(",") if t]
        unknown = [t for t in self.track if t not in TRACKERS]
        if unknown:
            raise FashionsegError(f"track takes {', '.join(TRACKERS)}, not {unknown[0]!r}")
        if self.precision not in PRECISIONS:
            raise FashionsegError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if not float(self.step_factor) > 0:
            raise FashionsegError(f"step_factor must be positive, got {self.step_factor}")
        for name, lo in (("epochs", 1), ("bs", 1), ("limit", 0), ("eval_limit", 0), ("keep_best", 0), ("ensemble", 0),
                         ("tsne", 0), ("log_every", 1), ("early_stop", 0), ("step_every", 1), ("freeze_epochs", 0),
                         ("tile", 0), ("show_items", 1), ("accumulate", 1)):
            if int(getattr(self, name)) < lo:
                raise FashionsegError(f"{name} must be at least {lo}, got {getattr(self, name)}")
        if not float(self.lr) > 0:
            raise FashionsegError(f"lr must be positive, got {self.lr}")
        if not 0 <= float(self.label_smoothing) < 1:
            raise FashionsegError(f"label_smoothing must be at least 0 and below 1 (0.1 is usual), "
                                  f"got {self.label_smoothing}")
        if self.whiten and self.weights:
            raise FashionsegError("whiten starts the first convolution from the training images, weights from "
                                  "pretrained weights: use one of them (--no-whiten or --weights '')")
        if self.whiten and self.freeze_epochs:
            raise FashionsegError("whiten keeps the first convolution's whitening filters fixed, and freeze_epochs "
                                  "unfreezes every layer after its epochs: use one of them (--no-whiten or "
                                  "--freeze-epochs 0)")
        if not 0 <= float(self.ema) < 1:
            raise FashionsegError(f"ema is the average's decay, at least 0 and below 1 (0.999 is usual; 0: off), "
                                  f"got {self.ema}")
        self.check_regularisers()
        try:
            self.show_epochs = [int(e) for e in self.show_epochs]  # "0,4,9" from the command line
        except (TypeError, ValueError):
            raise FashionsegError(f"show_epochs must be epoch numbers such as 0,4,9, not "
                                  f"{self.show_epochs!r}") from None
        late = [e for e in self.show_epochs if not 0 <= e < int(self.epochs)]
        if late:
            raise FashionsegError(f"show_epochs names epoch {late[0]}, but epochs run from 0 to {int(self.epochs) - 1}")
        if not 0 <= float(self.overlap) < 1:
            raise FashionsegError(f"overlap must be a fraction of the tile, at least 0 and below 1, got {self.overlap}")
        size_schedule(self.sizes)
        self.train_items = str(self.train_items or "")
        if self.train_items and valid_range(self.train_items) is None:
            raise FashionsegError(f"train_items must be a range of training items such as 0-250, not "
                                  f"{self.train_items!r}")
        if int(self.ensemble) > int(self.keep_best):
            raise FashionsegError(f"ensemble {self.ensemble} averages the {self.ensemble} best checkpoints; keep that "
                                  f"many with keep_best={self.ensemble} (now {self.keep_best})")
        if int(self.ensemble) > int(self.epochs):
            raise FashionsegError(f"ensemble {self.ensemble} needs a checkpoint from each of {self.ensemble} epochs; "
                                  f"train at least that many (now {self.epochs}) or ensemble fewer")
        if int(self.freeze_epochs) and self.schedule != "one-cycle":
            raise FashionsegError(f"freeze_epochs follows fastai's fine_tune, two one-cycle phases; use --schedule "
                                  f"one-cycle instead of {self.schedule}")
        if int(self.freeze_epochs) >= int(self.epochs):
            raise FashionsegError(f"freeze_epochs ({self.freeze_epochs}) must be fewer than epochs ({self.epochs}): "
                                  "epochs counts the frozen and the unfrozen ones")
        if int(self.folds) and (int(self.folds) < 2 or self.valid != "test"):
            raise FashionsegError(f"folds must be 0 (off) or at least 2, with valid left at 'test' (each fold "
                                  f"validates on its own items: add --valid test); got folds={self.folds}, valid={self.valid!r}")
        if self.valid != "test" and valid_fold(self.valid) is None and valid_range(self.valid) is None:
            try:
                frac = float(self.valid)
            except ValueError:
                frac = -1
            if not 0 < frac < 1:
                raise FashionsegError(
                    f"valid must be 'test', a fraction in (0, 1), a range such as 250-350 or a fold such as fold0/5, "
                    f"got {self.valid!r}")

    def check_regularisers(self):
        """Clipping, MixUp and CutMix take non-negative strengths; timm's Mixup pairs a batch's halves."""
        for name in ("clip", "mixup", "cutmix"):
            if not float(getattr(self, name)) >= 0:
                raise FashionsegError(f"{name} must be at least 0 (0: off), got {getattr(self, name)}")
        if (float(self.mixup) or float(self.cutmix)) and int(self.bs) % 2:
            raise FashionsegError(f"mixup and cutmix pair the two halves of each batch: use an even bs, not {self.bs}")

    def override(self, **changes) -> "Recipe":
        """A copy with `changes`; keys may name arch_options/data_options entries with a dot."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        values = dataclasses.asdict(self)
        for key, value in changes.items():
            if value is None:
                continue
            if "." in key:
                group, sub = key.split(".", 1)
                if group not in ("arch_options", "data_options", "loss_options"):
                    raise FashionsegError(f"cannot set {key!r}: only arch_options.X, data_options.X and "
                                          "loss_options.X take a dot")
                values[group] = {**values[group], sub: parse_value(value)}
                continue
            if key not in fields:
                raise unknown_name("recipe setting", key, fields)
            values[key] = coerce(fields[key], value)
        return Recipe(**values)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config: dict, source=None) -> "Recipe":
        """The recipe a run folder's config.json records (one from before `track` had `tensorboard: bool`);
        a wrong setting is one error naming `source` (the file) and the setting."""
        if "tensorboard" in config:
            config = {**config, "track": ["tensorboard"] if config["tensorboard"] else []}
            del config["tensorboard"]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        where = f"{source}: " if source else ""
        unknown = set(config) - set(fields)
        if unknown:
            raise FashionsegError(f"{where}config has settings this fashionseg does not know: "
                                  f"{', '.join(sorted(unknown))}; is the run from a newer version?")
        missing = [name for name, f in fields.items() if f.default is dataclasses.MISSING and
                   f.default_factory is dataclasses.MISSING and name not in config]
        if missing:
            raise FashionsegError(f"{where}config lacks the setting {missing[0]!r}; restore the run's own config.json")
        try:
            scalars = {k: coerce(fields[k], v) for k, v in config.items()
                       if fields[k].type in ("int", "float", "bool") and not isinstance(v, bool)}
            return cls(**{**config, **scalars})
        except FashionsegError as exc:
            fix = "; correct it or restore the run's own config.json" if source else ""
            raise FashionsegError(f"{where}{exc}{fix}") from None


def flat_settings(config: dict, prefix: str = "") -> dict:
    """Nested settings as dotted names, as `--set` takes them: {'arch_options': {'width': 8}} -> {'arch_options.width': 8}."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out.update(flat_settings(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def valid_range(valid) -> range | None:
    """`valid="250-350"` holds out training items 250 to 349; None when `valid` is no such range."""
    start, sep, stop = str(valid).partition("-")
    if not (sep and start.strip().isdigit() and stop.strip().isdigit()) or int(start) >= int(stop):
        return None
    return range(int(start), int(stop))


def valid_fold(valid) -> tuple[int, int] | None:
    """`valid="fold2/5"` validates on the third of five folds: (2, 5); None when `valid` is no such fold."""
    found = re.fullmatch(r"fold(\d+)/(\d+)", str(valid))
    if found is None:
        return None
    fold, k = int(found.group(1)), int(found.group(2))
    if not (k >= 2 and fold < k):
        raise FashionsegError(f"valid={valid} names fold {fold} of {k}; folds run from 0 to K-1 and K is at least 2")
    return fold, k


def parse_value(text):
    """A command-line value as a Python literal where it is one, else the string."""
    if not isinstance(text, str):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def coerce(f: dataclasses.Field, value):
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return value if isinstance(value, bool) else _bool(value)
        if kind.startswith("list"):
            parsed = parse_value(value)
            return parsed if isinstance(parsed, list) else [v for v in str(value).split(",") if v]
        if kind == "dict":
            parsed = parse_value(value)
            if not isinstance(parsed, dict):
                raise ValueError(value)
            return parsed
    except ValueError:
        raise FashionsegError(f"{f.name} must be a {kind}, got {value!r}") from None
    return str(value)


def _bool(text: str) -> bool:
    if str(text).lower() in ("1", "true", "yes", "on"):
        return True
    if str(text).lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)
