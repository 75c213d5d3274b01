"""TODO: what lives in fashionseg.recipe."""
