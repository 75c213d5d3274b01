"""basenet-improved: basenet with batch norm, wider convs and dropout (source report's second model)."""
from fashionseg import main
from fashionseg.registry.recipes import find_recipe

# basenet's settings (10% hold-out validation, Adam 1e-3, wd 1e-4, bs 128, 10 epochs), the improved model.
recipe = find_recipe("basenet").override(
    name="basenet-improved",
    description="basenet with batch norm, 12/24 conv filters and dropout; reported 89.8-90.2%.",
    arch="basenet-improved",
)

if __name__ == "__main__":
    main(recipe)
