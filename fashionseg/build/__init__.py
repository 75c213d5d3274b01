"""Building from a recipe: every up-front check, before any run folder exists (`checks`), then the
data, model, loss, optimizer, metrics and fastai Learner (`learner`)."""
