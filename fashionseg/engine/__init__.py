"""TODO: what lives in fashionseg.engine."""
