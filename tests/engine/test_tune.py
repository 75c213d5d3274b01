"""Tuning with Optuna: the space and its checks, a tiny study that finds the better region, pruning
recorded in the run folder, two worker processes sharing one SQLite study, a killed tune continued."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState
from rich.console import Console

from fashionseg import FashionsegError, Recipe
from fashionseg.cli import main
from fashionseg.engine.tune import HOLD_OUT, Tuning, check_tuning, scored_on_hold_out, tune, tuning_space
from fashionseg.recipe.space import Dimension, parse_space

TOY = ["--epochs", "2", "--limit", "256", "--eval-limit", "64", "--bs", "64", "--no-figures"]


def toy_recipe(**changes) -> Recipe:
    """basenet on 256 Fashion-MNIST images, two epochs: seconds per trial, far above chance at a fair lr."""
    settings = dict(name="toy", dataset="fashion-mnist", arch="basenet", metrics=["accuracy"], epochs=2, lr=1e-2,
                    bs=64, limit=256, eval_limit=64, valid="0.25")
    return Recipe(**{**settings, **changes})


def study_of(tune_dir, name="tune-toy") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{tune_dir / 'study.db'}")


def test_space_items_parse_and_bad_ones_say_the_syntax():
    space = parse_space(["lr=log:1e-4:1e-2", "bs=choice:64,128", "data_options.augment=choice:none,flip-shift"],
                        parse_space(["lr=float:0.1:0.2", "epochs=int:1:3"]))
    assert space == {"lr": Dimension("lr", "log", 1e-4, 1e-2), "epochs": Dimension("epochs", "int", 1, 3),
                     "bs": Dimension("bs", "choice", choices=(64, 128)),
                     "data_options.augment": Dimension("data_options.augment", "choice",
                                                       choices=("none", "flip-shift"))}
    assert parse_space([str(d) for d in space.values()]) == space  # worker processes get the space as text
    for bad, says in [("lr", "KEY=log:LOW:HIGH"), ("lr=log:1e-2:1e-4", "LOW must be below HIGH"),
                      ("lr=log:0:1", "above 0"), ("bs=choice:64", "two or more"), ("lr=cube:1:2", "KEY=log")]:
        with pytest.raises(FashionsegError, match=says):
            parse_space([bad])


def test_the_test_set_never_scores_trials(capsys):
    console = Console(file=sys.stdout, width=300)
    switched = scored_on_hold_out(toy_recipe(valid="test"), valid_given=False, console=console)
    assert switched.valid == HOLD_OUT and "validates on the test set" in capsys.readouterr().out
    with pytest.raises(FashionsegError, match="never scores trials on the test set"):
        scored_on_hold_out(toy_recipe(valid="test"), valid_given=True, console=console)
    assert scored_on_hold_out(toy_recipe(valid="0.2"), True, console).valid == "0.2"


def test_tune_command_refuses_test_set_and_names_bad_settings_before_any_run(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["tune", "seed000", "--valid", "test", "--space", "lr=log:1e-4:1e-2", "--runs-dir", str(runs)]) == 2
    assert "never scores trials on the test set" in capsys.readouterr().err
    assert main(["tune", "seed000", "--space", "lrr=log:1e-4:1e-2", "--runs-dir", str(runs)]) == 2
    assert "did you mean 'lr'" in capsys.readouterr().err.lower()
    assert main(["tune", "seed000", "--space", "lr=log:1e-4:1e-2", "--metric", "acuracy",
                 "--runs-dir", str(runs)]) == 2
    assert "use --metric with one of" in capsys.readouterr().err
    assert main(["tune", "seed000", "--space", "data_options.augment=choice:flipp,none", "--runs-dir", str(runs)]) == 2
    assert "flipp" in capsys.readouterr().err  # every choice is checked, not only the last
    assert not runs.exists()


def test_tune_without_optuna_says_how_to_install_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a))
    assert main(["tune", "seed000", "--space", "lr=log:1e-4:1e-2"]) == 2
    assert "pip install 'fashionseg[tune]'" in capsys.readouterr().err


def test_a_recipe_brings_its_own_space(tmp_path):
    recipe = toy_recipe(tune_space=["lr=log:1e-3:1e-1"])
    space = tuning_space(recipe, ["bs=choice:32,64"])
    assert list(space) == ["lr", "bs"]
    check_tuning(Tuning(recipe, space, 3, tmp_path))
    with pytest.raises(FashionsegError, match="needs a search space"):
        check_tuning(Tuning(recipe.override(tune_space=[]), {}, 3, tmp_path))


@pytest.mark.slow
def test_a_tiny_study_finds_the_better_learning_rates(fashion_mnist_dir, tmp_path):
    t = Tuning(toy_recipe(), parse_space(["lr=log:1e-7:3e-2"]), 4, tmp_path / "tune-toy", metric="accuracy",
               prune=False)
    study = tune(t, Console(quiet=True), reproduce=lambda params: f"train {params}")
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 4
    assert study.best_params["lr"] > 1e-4  # below that two epochs hardly move the weights
    assert study.best_value > min(tr.value for tr in trials) + 0.2
    report = (t.tune_dir / "study.md").read_text()
    assert f"train {study.best_params}" in report and "reported once, never used to choose" in report
    assert (t.tune_dir / "figures" / "history.png").is_file() and (t.tune_dir / "figures" / "importances.png").is_file()
    for trial in trials:  # each trial is an ordinary run folder, scored on the hold-out
        run = t.tune_dir / trial.user_attrs["run"]
        assert json.loads((run / "status.json").read_text())["state"] == "finished"
        assert json.loads((run / "config.json").read_text())["valid"] == "0.25"
        assert json.loads((run / "trial.json").read_text())["value"] == pytest.approx(trial.value)


@pytest.mark.slow
def test_a_pruned_trial_is_marked_pruned_in_its_run_folder(fashion_mnist_dir, tmp_path):
    t = Tuning(toy_recipe(), parse_space(["lr=log:1e-3:1e-2"]), 1, tmp_path / "tune-toy", metric="accuracy",
               pruner=optuna.pruners.ThresholdPruner(lower=1.1))  # no accuracy reaches 1.1: pruned at once
    study = tune(t, Console(quiet=True), reproduce=str)
    (trial,) = study.trials
    assert trial.state == TrialState.PRUNED
    run = t.tune_dir / trial.user_attrs["run"]
    marked = json.loads((run / "trial.json").read_text())
    assert marked["state"] == "pruned" and marked["pruned_after_epoch"] == 1 and marked["trial"] == 0
    assert len((run / "metrics.csv").read_text().splitlines()) == 2  # header and the one epoch it trained


def tune_command(tmp_path, *args) -> list[str]:
    return [sys.executable, "-m", "fashionseg", "tune", "seed000", *TOY, "--arch", "basenet",
            "--metric", "accuracy", "--runs-dir", str(tmp_path / "runs"), *args]


@pytest.mark.slow
@pytest.mark.subprocess
def test_two_worker_processes_share_one_study_without_duplicates(fashion_mnist_dir, tmp_path):
    out = subprocess.run(tune_command(tmp_path, "--space", "lr=log:1e-3:1e-2", "--trials", "3", "--workers", "2"),
                         capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})
    tune_dir = tmp_path / "runs" / "tune-seed000"
    assert out.returncode == 0, out.stdout + out.stderr + "".join(p.read_text() for p in tune_dir.glob("*.log"))
    study = study_of(tune_dir, "tune-seed000")
    assert [tr.number for tr in study.trials] == [0, 1, 2]  # three in total, not three per worker
    assert all(tr.state in (TrialState.COMPLETE, TrialState.PRUNED) for tr in study.trials)
    runs = sorted(p.parent.name for p in tune_dir.glob("*/trial.json"))
    assert sorted(tr.user_attrs["run"] for tr in study.trials) == runs  # one run folder per trial
    workers = {tr.user_attrs["process"]["pid"] for tr in study.trials}
    assert len(workers) == 2 and os.getpid() not in workers
    assert f"best trial {study.best_trial.number}" in out.stdout
    assert f"## Best trial: {study.best_trial.number}" in (tune_dir / "study.md").read_text()


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_killed_tune_run_again_continues_its_study(fashion_mnist_dir, tmp_path):
    args = ["--space", "lr=log:1e-3:1e-2", "--trials", "2", "--epochs", "3", "--no-prune"]
    tune_dir = tmp_path / "runs" / "tune-seed000"
    proc = subprocess.Popen(tune_command(tmp_path, *args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list(tune_dir.glob("*/last.pth")) and time.time() < deadline:  # one epoch of trial 0 done
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (killed,) = [p.parent for p in tune_dir.glob("*/last.pth")]
    assert study_of(tune_dir, "tune-seed000").trials[0].state == TrialState.RUNNING

    assert main(tune_command(tmp_path, *args)[3:]) == 0
    study = study_of(tune_dir, "tune-seed000")
    states = [(tr.state, tr.user_attrs.get("killed"), tr.user_attrs.get("resumes")) for tr in study.trials]
    assert states == [(TrialState.FAIL, True, None), (TrialState.COMPLETE, None, 0), (TrialState.COMPLETE, None, None)]
    assert study.trials[1].params == study.trials[0].params
    assert study.trials[1].user_attrs["run"] == killed.name  # the killed trial's run folder, continued
    assert json.loads((killed / "status.json").read_text())["state"] == "finished"
    assert [line.split(",")[0] for line in (killed / "metrics.csv").read_text().splitlines()[1:]] == ["0", "1", "2"]
    assert len(list(tune_dir.glob("*/config.json"))) == 2


@pytest.mark.slow
def test_a_trial_stopped_after_its_last_epoch_is_continued_to_its_report(fashion_mnist_dir, tmp_path, monkeypatch):
    """Ctrl-C (or a kill) after the last epoch, while the report is written: the continued trial has no epoch
    left to train, finishes the run's report and is scored from the run's metrics.csv."""
    from fashionseg.engine import trainer

    write = trainer.test_and_write

    def stopped(*args, **kwargs):
        monkeypatch.setattr(trainer, "test_and_write", write)  # once
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "test_and_write", stopped)
    args = tune_command(tmp_path, "--space", "lr=log:1e-3:1e-2", "--trials", "1", "--no-prune")[3:]
    assert main(args) != 0
    assert main(args) == 0
    tune_dir = tmp_path / "runs" / "tune-seed000"
    study = study_of(tune_dir, "tune-seed000")
    states = [(tr.state, tr.user_attrs.get("killed"), tr.user_attrs.get("resumes")) for tr in study.trials]
    assert states == [(TrialState.FAIL, True, None), (TrialState.COMPLETE, None, 0)]
    (run,) = [p.parent for p in tune_dir.glob("*/config.json")]
    rows = (run / "metrics.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in rows[1:]] == ["0", "1"]  # no epoch trained twice
    assert study.trials[1].value == float(rows[-1].split(",")[rows[0].split(",").index("accuracy")])
    assert json.loads((run / "status.json").read_text())["state"] == "finished"
    assert (run / "metrics.json").is_file()


@pytest.mark.slow
def test_lr_find_centres_the_lr_range_once_per_study(fashion_mnist_dir, tmp_path, monkeypatch):
    from fashionseg.engine import tune as tuning

    t = Tuning(toy_recipe(), parse_space(["lr=log:1e-5:1e-3"]), 2, tmp_path / "tune-toy")
    study = tuning.open_study(t)
    tuning.centre_lr(t, study, 20, Console(quiet=True))
    valley, lr = study.user_attrs["lr_find_valley"], t.space["lr"]
    assert lr.kind == "log" and (lr.low * lr.high) ** 0.5 == pytest.approx(valley)  # centred on the valley
    assert lr.high / lr.low == pytest.approx(100)  # as wide as the range given
    monkeypatch.setattr(tuning, "lr_suggestions", lambda *a: pytest.fail("lr_find ran again"))
    again = Tuning(toy_recipe(), parse_space(["lr=log:1e-5:1e-3"]), 2, tmp_path / "tune-toy")
    tuning.centre_lr(again, tuning.open_study(again), 20, Console(quiet=True))  # a continued study: its valley
    assert again.space["lr"] == lr
