"""k-fold cross-validation: folds are disjoint and cover the training items (stratified by class), K runs land
under one folder with a mean/spread table, and a killed k-fold run again resumes only the unfinished folds."""
from collections import Counter

import pytest
from helpers.callbacks import StopInEpoch
from helpers.image_folders import class_tree
from rich.console import Console

from fashionseg import Recipe
from fashionseg.data import split_indices
from fashionseg.engine.kfold import kfold_dir, run_kfold
from fashionseg.errors import FashionsegError
from fashionseg.run_folders.state import run_state


@pytest.mark.parametrize("stratified", [False, True])
def test_folds_are_disjoint_and_cover_the_training_items(stratified):
    labels = [i % 3 for i in range(50)] if stratified else None
    valids = []
    for fold in range(5):
        train, valid, test = split_indices(50, 7, f"fold{fold}/5", seed=3, labels=labels)
        assert not set(train) & set(valid) and set(train) | set(valid) == set(range(50))
        assert test == list(range(50, 57))  # the test set stays apart
        valids.append(valid)
        if stratified:  # each class keeps its share in each fold: 50 items of 3 classes, 10 per fold
            assert sorted(Counter(labels[i] for i in valid).values()) in ([3, 3, 4], [3, 4, 4], [4, 3, 3])
    assert sorted(i for v in valids for i in v) == list(range(50))  # each item validates exactly once
    assert split_indices(50, 7, "fold1/5", seed=3, labels=labels) == split_indices(50, 7, "fold1/5", 3, labels=labels)


def test_bad_fold_settings_are_one_error():
    with pytest.raises(FashionsegError, match="fold 5 of 5"):
        Recipe(name="r", dataset="d", arch="a", valid="fold5/5")
    with pytest.raises(FashionsegError, match="folds must be 0"):
        Recipe(name="r", dataset="d", arch="a", folds=1)
    with pytest.raises(FashionsegError, match="valid left at 'test'"):
        Recipe(name="r", dataset="d", arch="a", folds=3, valid="0.1")


@pytest.mark.slow
def test_a_killed_kfold_resumes_its_unfinished_folds_and_summarises(tmp_path, monkeypatch):
    import fashionseg.engine.trainer as trainer

    data = class_tree(tmp_path / "cls", splits=(("train", 6), ("test", 2)))
    recipe = Recipe(name="kf", dataset="image-folder", arch="cam-fast-cnn", metrics=["accuracy"],
                    epochs=1, bs=4, folds=3, data_options={"path": str(data)}, figures=False)
    runs, quiet = tmp_path / "runs", Console(quiet=True)
    real_run = trainer.run

    def killed_in_fold(i):
        def run(recipe, runs_dir, console=None, cbs=()):
            stop = [StopInEpoch(0)] if recipe.name.endswith(f"fold{i}") else []
            return real_run(recipe, runs_dir=runs_dir, console=console, cbs=[*cbs, *stop])
        return run

    monkeypatch.setattr(trainer, "run", killed_in_fold(1))
    with pytest.raises(KeyboardInterrupt):
        run_kfold(recipe, runs, quiet)
    folder = kfold_dir(runs, recipe)
    assert [run_state(p) for p in sorted(folder.glob("kf-fold*"))] == ["finished", "interrupted"]
    monkeypatch.setattr(trainer, "run", real_run)
    variants = run_kfold(recipe, runs, quiet)
    assert [v.state for v in variants] == ["skipped (finished before)", "resumed and finished", "finished"]
    assert [run_state(p) for p in sorted(folder.glob("kf-fold*"))] == ["finished"] * 3  # fold 1 in its own folder
    from fashionseg.report.compare import compare, find_runs
    from fashionseg.run_folders.summary import RunSummary

    compared = compare([RunSummary.read(p) for p in find_runs([str(folder)])])  # `fashionseg compare FOLDER`
    assert len(compared.rows) == 3 and "accuracy" in compared.header
    table = (folder / "folds.md").read_text()
    assert "| mean |" in table and "| std |" in table and "3 folds" in table
    valid = [set(v.run.joinpath("config.json").read_text().split('"valid": ')[1][:10].split('"')[1:2])
             for v in variants]
    assert valid == [{"fold0/3"}, {"fold1/3"}, {"fold2/3"}]


def test_an_image_folder_without_a_test_folder_folds_its_training_images(tmp_path):
    from fashionseg.build.learner import build_data

    data = class_tree(tmp_path / "cls", splits=(("train", 6),))
    seen = []
    for fold in range(3):
        recipe = Recipe(name="kf", dataset="image-folder", arch="cam-fast-cnn", valid=f"fold{fold}/3",
                        data_options={"path": str(data)})
        built = build_data(recipe, on="cpu")
        assert built.test_is_valid and "fold" in built.extra["test_set"]
        seen.append(set(built.dls.valid.items))
    assert set().union(*seen) == set(range(18)) and sum(map(len, seen)) == 18
