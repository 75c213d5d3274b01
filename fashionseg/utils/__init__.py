"""TODO: what lives in fashionseg.utils."""
