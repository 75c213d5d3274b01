"""TODO: what lives in fashionseg.trackers."""
