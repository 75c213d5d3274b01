"""facade-resnet18-fcn: a ResNet-18 trunk with a three-block upsampling decoder."""
from fashionseg import main
from fashionseg.registry.recipes import find_recipe

# facade-unet's protocol (Mini Facade, pairs 250-349 validate, test_dev tests, AP/IoU), another model.
recipe = find_recipe("facade-unet").override(
    name="facade-resnet18-fcn",
    description="ResNet-18 trunk (last stage dilated) and a 512-256-128-N decoder, from scratch "
                "(reported AP 0.74 / IoU 0.54 on a six-class set).",
    arch="resnet18-fcn",
    arch_options={"dilation": True},
    epochs=15, lr=2e-3, wd=1e-4, bs=16,
    data_options={"augment": "light"},
)

if __name__ == "__main__":
    main(recipe)
