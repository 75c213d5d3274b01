"""torchvision's ImageNet weights for the trunks of the built-in segmentation models, through torch hub."""
from fashionseg.plugin import load_pretrained, main_console, torch_hub_file


def start_from(module, weights, url: str, what: str, head: str | None = None):
    """Load `weights` into `module`: a file, or `imagenet` for the file at torchvision's `url` (torch hub's cache,
    downloaded there when absent); the load report is printed, nothing is skipped silently."""
    if weights:
        path = torch_hub_file(url, f"ImageNet weights for the {what}") if weights == "imagenet" else weights
        load_pretrained(module, path, head=head).show(main_console(), prefix=f"{what} ")
    return module
