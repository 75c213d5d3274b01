"""Experiment trackers a recipe asks for with `track`: what they share (`base`), one module per
tracker (`mlflow`, `wandb`, `tensorboard`), and the trackers of one run (`session`)."""
