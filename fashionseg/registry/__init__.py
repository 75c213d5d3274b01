"""TODO: what lives in fashionseg.registry."""
