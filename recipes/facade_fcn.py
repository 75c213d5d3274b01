"""facade-fcn: the report's six-layer conv network with batch norm and bilinear upsampling."""
from fashionseg import main
from fashionseg.registry.recipes import find_recipe

# facade-unet's protocol (Mini Facade, pairs 250-349 validate, test_dev tests, AP/IoU), another model.
recipe = find_recipe("facade-unet").override(
    name="facade-fcn",
    description="Six 5x5 conv layers, batch 16 as reported (mean AP 0.643); about 130 GMAC per "
                "256x256 image, so a GPU recipe.",
    arch="facade-fcn",
    epochs=20, lr=1e-3, wd=1e-4, bs=16,
    data_options={"augment": "flip"},
)

if __name__ == "__main__":
    main(recipe)
