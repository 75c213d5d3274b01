"""TODO: what lives in fashionseg.report."""
