"""facade-deeplabv3: DeepLabv3 on a dilated ResNet-101, from scratch."""
from fashionseg import main
from fashionseg.registry.recipes import find_recipe

# facade-unet's protocol (Mini Facade, pairs 250-349 validate, test_dev tests, AP/IoU), another model.
recipe = find_recipe("facade-unet").override(
    name="facade-deeplabv3",
    description="smp DeepLabv3 with a ResNet-101 encoder (output stride 8), from scratch; "
                "a GPU recipe: several hundred GMAC per 256x256 image.",
    arch="deeplabv3-resnet101",
    epochs=15, lr=1e-3, wd=1e-4, bs=8,
    data_options={"augment": "light"},
)

if __name__ == "__main__":
    main(recipe)
