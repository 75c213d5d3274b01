"""facade-unet-classic: the original U-Net layout (double 3x3 convs, 4 down, 4 up)."""
from fashionseg import main
from fashionseg.registry.recipes import find_recipe

# facade-unet's protocol (Mini Facade, pairs 250-349 validate, test_dev tests, AP/IoU), another model.
recipe = find_recipe("facade-unet").override(
    name="facade-unet-classic",
    description="Original U-Net, base width 64, from scratch; U-Net settings of the report "
                "(lr 1e-3, wd 1e-4, 10 epochs).",
    arch="unet-classic",
    arch_options={"width": 64},
    epochs=10, lr=1e-3, wd=1e-4, bs=8,
    data_options={"augment": "flip"},
)

if __name__ == "__main__":
    main(recipe)
