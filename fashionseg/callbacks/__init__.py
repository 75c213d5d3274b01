"""TODO: what lives in fashionseg.callbacks."""
