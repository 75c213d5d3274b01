"""TODO: what lives in fashionseg.infer."""
