"""Architectures from segmentation-models-pytorch, trained from scratch unless encoder weights are named: a
local file, or a name smp publishes (e.g. `imagenet`, what `--weights pretrained` asks for), downloaded from smp's
hub repository into the Hugging Face cache when not there; a timm encoder (`tu-<timm name>`) starts from the
weights timm publishes for that model (timm's hub repository or torch hub URL), its classifier left out."""
import segmentation_models_pytorch as smp

from fashionseg.plugin import FashionsegError, PadToMultiple, hub_file, load_pretrained, main_console, unknown_name


def _from_scratch(model, encoder_weights, encoder: str):
    if encoder_weights:  # the load report, printed: nothing is skipped silently
        target, path, rename = model.encoder, None, None
        if encoder.startswith("tu-") and encoder_weights == "imagenet":  # timm's own published weights, through
            from fashionseg_plugins.architectures.timm_classifiers import published_weights  # timm's loader's places

            # smp wraps the timm model (features only) as `encoder.model`; timm's features-only models name a
            # flattened sequential's parts `stem_0` where the whole model has `stem.0`
            target, path = model.encoder.model, published_weights(encoder[3:])
            own = {key.replace("_", "."): key for key in target.state_dict()}
            rename = lambda key: own.get(key.replace("_", "."), key)  # noqa: E731
        path = path or published_encoder(encoder, encoder_weights) or encoder_weights
        load_pretrained(target, path, rename=rename).show(main_console(), prefix="encoder ")
    return PadToMultiple(model, model.encoder.output_stride)


def published_encoder(encoder: str, weights: str):
    """The file of smp's published `weights` (e.g. imagenet) for `encoder`, from its hub repository at smp's pinned
    revision; None when `weights` is not such a name (a local file)."""
    settings = smp.encoders.encoders.get(encoder, {}).get("pretrained_settings", {})
    if weights == "imagenet" and not settings:
        raise FashionsegError(f"smp publishes no imagenet weights for encoder {encoder!r}; use a timm encoder "
                              "('tu-<timm name>', started from timm's published weights) or pass a weights file as "
                              "encoder_weights")
    if weights not in settings:
        return None
    repo = settings[weights]
    return hub_file(repo["repo_id"], ("model.safetensors",), f"{weights} weights for smp encoder {encoder}",
                    repo.get("revision"))


def _check_encoder(name: str):
    if not name.startswith("tu-") and name not in smp.encoders.get_encoder_names():
        raise unknown_name("encoder", name, smp.encoders.get_encoder_names())


def unet(n_classes, n_in=3, encoder="resnet34", encoder_weights=None, decoder_channels=(256, 128, 64, 32, 16)):
    """smp U-Net, encoder by name (resnet34; 'tu-<timm name>' for timm's), from scratch."""
    _check_encoder(encoder)
    model = smp.Unet(encoder_name=encoder, encoder_weights=None, in_channels=n_in, classes=n_classes,
                     encoder_depth=len(decoder_channels), decoder_channels=list(decoder_channels))
    return _from_scratch(model, encoder_weights, encoder)


def deeplabv3_resnet101(n_classes, n_in=3, encoder_weights=None, output_stride=8):
    """smp DeepLabv3 (ASPP head) on a dilated ResNet-101, from scratch."""
    model = smp.DeepLabV3(encoder_name="resnet101", encoder_weights=None, in_channels=n_in, classes=n_classes,
                          encoder_output_stride=output_stride)
    return _from_scratch(model, encoder_weights, "resnet101")
