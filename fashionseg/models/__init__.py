"""TODO: what lives in fashionseg.models."""
