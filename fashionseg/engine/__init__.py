"""Running: fit with the recipe's schedule, write the run folder, report (`trainer`); continue a
stopped run from its last.pth (`resume`); learning-rate schedules beyond fastai's (`schedules`); an
ablation grid of runs (`sweep`); k-fold cross-validation (`kfold`). The engine only runs and writes; `fashionseg.build` builds."""
