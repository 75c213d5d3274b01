"""Inference from a run folder alone: the trained model rebuilt (`trained`), test-time flip TTA and
sliding-window tiles (`tta`), one streaming evaluation pass (`evaluate`), predictions on files
(`predict`), standalone export (`export`), and the items a report picks while streaming (`picking`)."""
