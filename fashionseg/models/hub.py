"""Models and weights from the Hugging Face hub through its own client (`huggingface_hub`), into its standard
cache (`HF_HOME`, `HF_HUB_CACHE`) and only when a user names one (`hf-hub:ORG/NAME`); offline or unreachable,
one error naming what was wanted, the cache searched and how to fetch it elsewhere."""
from __future__ import annotations

from pathlib import Path

from fashionseg.errors import FashionsegError

HUB_PREFIX = "hf-hub:"


def hub_id(name) -> str | None:
    """The repository id of an `hf-hub:ORG/NAME` name; None for anything else (a path)."""
    text = str(name)
    return text[len(HUB_PREFIX):] if text.startswith(HUB_PREFIX) else None


def hub_folder(repo_id: str) -> Path:
    """The repository's files in the hub cache, downloaded (with the client's progress bars) when not there."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id))
    except Exception as exc:  # the client's offline, HTTP and not-found errors, or a connection that fails
        raise hub_error(f"{HUB_PREFIX}{repo_id}", exc, f"hf download {repo_id}") from None


def hub_error(wanted: str, exc: Exception, fetch: str) -> FashionsegError:
    """One line: what was wanted, why it could not be had, the cache searched, and how to fetch it elsewhere."""
    from huggingface_hub import constants
    from huggingface_hub.errors import RepositoryNotFoundError

    if isinstance(exc, RepositoryNotFoundError):
        return FashionsegError(f"{wanted} does not exist on {constants.ENDPOINT} (or is private or gated: log in "
                               "with `hf auth login`); check the name")
    why = "HF_HUB_OFFLINE is set" if constants.HF_HUB_OFFLINE else f"{constants.ENDPOINT} cannot be reached"
    return FashionsegError(f"{wanted} is not in the Hugging Face cache {constants.HF_HUB_CACHE} and {why}; fetch it "
                           f"where there is a network (`{fetch}`) and copy the cache (HF_HOME) here, or pass a "
                           "local folder or file")


def hub_file(repo_id: str, filenames: tuple[str, ...], wanted: str, revision: str | None = None) -> Path:
    """The first of `filenames` the repository has, from the hub cache or downloaded into it (with the client's
    progress bar); `wanted` names it in the error when it can be had neither way."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    for filename in filenames:
        try:
            return Path(hf_hub_download(repo_id, filename, revision=revision))
        except EntryNotFoundError as exc:
            if isinstance(exc, LocalEntryNotFoundError):  # offline or unreachable, and not cached
                raise hub_error(f"{wanted} ({filename} of {HUB_PREFIX}{repo_id})", exc, f"hf download {repo_id}") from None
        except Exception as exc:  # no such repository, refused, a broken connection: one line
            raise hub_error(f"{wanted} ({filename} of {HUB_PREFIX}{repo_id})", exc, f"hf download {repo_id}") from None
    raise FashionsegError(f"{wanted}: {HUB_PREFIX}{repo_id} holds none of {', '.join(filenames)}")


def hub_weights(name: str) -> Path:
    """The weights file of `hf-hub:ORG/NAME` or of a local model folder: its model.safetensors, else pytorch_model.bin."""
    repo = hub_id(name)
    if repo:
        return hub_file(repo, WEIGHT_FILES, "weights")
    folder = Path(name).expanduser()
    found = [folder / f for f in WEIGHT_FILES if (folder / f).is_file()]
    if not found:
        raise FashionsegError(f"weights folder {folder} holds none of {', '.join(WEIGHT_FILES)}; pass the weights "
                              "file itself or a folder written by `fashionseg export --format hf` or timm")
    return found[0]


WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # what hub model folders hold, in timm's order of preference


def folder_stats(name: str) -> tuple[list[float], list[float]] | None:
    """The normalisation a model folder's (or `hf-hub:ORG/NAME`'s) weights expect, from its config.json: fashionseg's
    `mean`/`std` or timm's `pretrained_cfg`; None when it says nothing."""
    import json

    repo = hub_id(name)
    try:
        path = hub_file(repo, ("config.json",), "weights config") if repo else Path(name).expanduser() / "config.json"
        config = json.loads(path.read_text())
    except (FashionsegError, OSError, ValueError):
        return None
    source = config if config.get("mean") else config.get("pretrained_cfg") or {}
    return (list(source["mean"]), list(source["std"])) if source.get("mean") and source.get("std") else None


def torch_hub_path(url: str) -> Path:
    """Where torch hub keeps its download of `url` ($TORCH_HOME/hub/checkpoints)."""
    import os
    from urllib.parse import urlparse

    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def torch_hub_file(url: str, wanted: str) -> Path:
    """torch hub's cached copy of `url`, downloaded there (with progress) when absent; unreachable, one line."""
    import torch

    path = torch_hub_path(url)
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(url, str(path), progress=True)
        except Exception as exc:  # no network, refused, not found
            raise FashionsegError(f"{wanted} are not in the torch hub cache {path.parent} and {url} cannot be "
                                  f"fetched ({type(exc).__name__}); download the file where there is a network, put "
                                  "it there (TORCH_HOME), or pass a weights file") from None
    return path
