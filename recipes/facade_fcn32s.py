"""facade-fcn32s: FCN-32s on VGG-16 (batch-norm) features, trained from scratch."""
from fashionseg import main
from fashionseg.registry.recipes import find_recipe

# facade-unet's protocol (Mini Facade, pairs 250-349 validate, test_dev tests, AP/IoU), another model.
recipe = find_recipe("facade-unet").override(
    name="facade-fcn32s",
    description="FCN-32s: VGG-16-BN features, fc6/fc7 as 1x1 convs of 4096 with dropout, one "
                "stride-32 transposed conv; from scratch, so batch norm stands in for pretraining.",
    arch="fcn32s",
    epochs=15, lr=1e-3, wd=1e-4, bs=8,
    data_options={"augment": "flip"},
)

if __name__ == "__main__":
    main(recipe)
