"""Architectures from segmentation-models-pytorch, trained from scratch unless local encoder
weights are named (nothing is downloaded)."""
import segmentation_models_pytorch as smp

from fashionseg.plugin import PadToMultiple, load_pretrained, main_console, unknown_name


def _from_scratch(model, encoder_weights):
    if encoder_weights:  # the load report, printed: nothing is skipped silently
        load_pretrained(model.encoder, encoder_weights).show(main_console(), prefix="encoder ")
    return PadToMultiple(model, model.encoder.output_stride)


def _check_encoder(name: str):
    if not name.startswith("tu-") and name not in smp.encoders.get_encoder_names():
        raise unknown_name("encoder", name, smp.encoders.get_encoder_names())


def unet(n_classes, n_in=3, encoder="resnet34", encoder_weights=None, decoder_channels=(256, 128, 64, 32, 16)):
    """smp U-Net, encoder by name (resnet34; 'tu-<timm name>' for timm's), from scratch."""
    _check_encoder(encoder)
    model = smp.Unet(encoder_name=encoder, encoder_weights=None, in_channels=n_in, classes=n_classes,
                     encoder_depth=len(decoder_channels), decoder_channels=list(decoder_channels))
    return _from_scratch(model, encoder_weights)


def deeplabv3_resnet101(n_classes, n_in=3, encoder_weights=None, output_stride=8):
    """smp DeepLabv3 (ASPP head) on a dilated ResNet-101, from scratch."""
    model = smp.DeepLabV3(encoder_name="resnet101", encoder_weights=None, in_channels=n_in, classes=n_classes,
                          encoder_output_stride=output_stride)
    return _from_scratch(model, encoder_weights)
