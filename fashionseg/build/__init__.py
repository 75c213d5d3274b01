"""TODO: what lives in fashionseg.build."""
