"""`fashionseg evaluate`: a run scored again from its folder agrees with its own report, and on other data."""
import pytest
from helpers.runs import fashion_recipe, mask_folder_recipe, train
from helpers.scores import assert_same, recorded_test_metrics, scored_again
from helpers.seg_folders import make_root
from rich.console import Console

from fashionseg.infer.trained import load_run


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["classification", "segmentation"])
def test_evaluate_reproduces_every_test_metric_of_the_report(kind, fashion_mnist_dir, tmp_path):
    """Label smoothing and class weights change the loss; TTA and tiles the predictions: all must be redone."""
    if kind == "classification":
        recipe = fashion_recipe().override(label_smoothing=0.1, loss_options={"weight": [1.0 + i for i in range(10)]},
                                           tta=True, limit=256, eval_limit=96,
                                           metrics=["accuracy", "error-rate", "per-class-accuracy"])
    else:
        recipe = mask_folder_recipe(make_root(tmp_path / "masks", n_train=8, n_test=3)).override(
            label_smoothing=0.1, loss_options={"weight": [1.0, 2.0, 3.0]}, tile=12, overlap=0.5)
    run = train(recipe, tmp_path / "runs").run
    recorded = recorded_test_metrics(run.read_json("metrics.json"))
    assert recorded["test_loss"] > 0
    assert {"support", "precision", "recall"} <= set(recorded)  # the task's own scores, in the training report too
    assert {"balanced_accuracy", "ece", "macro_f1"} <= set(recorded) if kind == "classification" else \
        {"frequency_weighted_iou", "ap", "iou"} <= set(recorded)
    per_class_header = next(line for line in (run.path / "report.md").read_text().splitlines()
                            if line.startswith("| class |"))
    assert "support" in per_class_header
    results, printed = scored_again(run.path)
    assert_same(recorded, recorded_test_metrics(results))
    assert printed["test_loss"] == pytest.approx(recorded["test_loss"], abs=1e-6)


# ---------------------------------------------------------------- other labelled data: --data and --dataset
SUBSET = ("Trouser", "Sandal", "Bag")  # class folders named as three of the run's ten classes


def class_folders(images, labels, root, classes=SUBSET, n=6):
    """`root/<class>/<i>.png` for the first `n` test images of each of `classes`; returns their labels' indices."""
    from fashionseg.data.fashion_mnist import CLASSES
    from helpers.runs import save_pngs

    picked = []
    for name in classes:
        index = CLASSES.index(name) if name in CLASSES else 0
        chosen = [i for i in range(len(labels)) if int(labels[i]) == index][:n]
        save_pngs([images[i] for i in chosen], root / name, [f"{i}.png" for i in chosen])
        picked += chosen
    return picked


def evaluated(run_path, **where):
    from fashionseg.analysis.evaluation import evaluate_on, evaluation_data

    trained = load_run(run_path, on="cpu")
    return evaluate_on(trained, evaluation_data(trained, **where), Console(quiet=True))


def test_class_folders_with_a_subset_of_classes_score_like_the_runs_own_predictions(fashion, tmp_path):
    """Classes matched by name (a subset), inputs normalised as the run's: accuracy is the share of right predictions."""
    from helpers.runs import copy_run, folder_state

    result, images, labels = fashion
    run_path = copy_run(result.run.path, tmp_path)

    picked = class_folders(images, labels, tmp_path / "shop")
    folder, results = evaluated(run_path, path=str(tmp_path / "shop"))
    trained = load_run(run_path, on="cpu")
    predicted = [p.index for p in trained.predict([images[i][None] for i in picked])]
    right = sum(p == int(labels[i]) for p, i in zip(predicted, picked))
    assert results["accuracy"] == pytest.approx(right / len(picked), abs=1e-6)
    assert folder.path.parent == run_path / "evaluations" and folder.path.name.startswith("shop-")
    metrics = folder.read_json("metrics.json")
    assert metrics["evaluated"]["items"] == len(picked) and sorted(metrics["evaluated"]["data_classes"]) == sorted(SUBSET)
    assert (folder.path / "report.md").is_file() and metrics["figures"]
    assert all((folder.path / figure).is_file() for figure in metrics["figures"].values())
    own = {k: v for k, v in folder_state(run_path).items() if not k.startswith("evaluations/")}
    assert own == folder_state(result.run.path)  # the run's own results untouched


def test_a_csv_of_the_same_images_scores_the_same(fashion, tmp_path):
    from helpers.runs import copy_run

    result, images, labels = fashion
    run_path = copy_run(result.run.path, tmp_path)
    class_folders(images, labels, tmp_path / "shop")
    rows = ["file,label", *(f"{p.relative_to(tmp_path / 'shop')},{p.parent.name}"
                            for p in sorted((tmp_path / "shop").rglob("*.png")))]
    (tmp_path / "shop" / "labels.csv").write_text("\n".join(rows) + "\n")
    _, by_folder = evaluated(run_path, path=str(tmp_path / "shop"))
    _, by_csv = evaluated(run_path, path=str(tmp_path / "shop" / "labels.csv"))
    assert by_csv["test_loss"] == pytest.approx(by_folder["test_loss"], abs=1e-6)
    assert by_csv["accuracy"] == by_folder["accuracy"]


def test_a_class_the_run_does_not_know_is_one_error_naming_both_sets_before_any_folder(fashion, tmp_path, capsys):
    """Through the CLI: exit code 2, one line; so is asking for --data and --dataset at once."""
    from helpers.runs import copy_run

    from fashionseg.cli import main

    result, images, labels = fashion
    run_path = copy_run(result.run.path, tmp_path)
    class_folders(images, labels, tmp_path / "shop", classes=("Trouser", "Hat"))
    for args, needle in (([], "the data has classes the run does not know: Hat; the data's classes are Hat, Trouser, "
                              "the run's are T-shirt/top, Trouser"),
                         (["--dataset", "fashion-mnist"], "either --data PATH or --dataset NAME")):
        capsys.readouterr()
        assert main(["evaluate", str(run_path), "--data", str(tmp_path / "shop"), *args]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], lines
    assert not (run_path / "evaluations").exists()


def test_a_mask_folder_of_the_runs_test_pairs_scores_as_its_report(mask_run, tmp_path):
    """The run's own test pairs read as new data (their own normalisation statistics): the run's test metrics."""
    from helpers.runs import copy_run

    root, _, result = mask_run
    run_path = copy_run(result.run.path, tmp_path)
    folder, results = evaluated(run_path, path=str(root / "test"))
    recorded = recorded_test_metrics(result.run.read_json("metrics.json"))
    for name in ("test_loss", "pixel_accuracy", "mean_iou", "mean_ap"):
        assert results[name] == pytest.approx(recorded[name], abs=1e-5), name
    assert folder.path.name.startswith("test-")


def test_a_registered_dataset_split_and_the_run_tools_read_the_results(fashion, tmp_path):
    """`--dataset NAME --split train`: the run's training items; `runs RUN/evaluations` lists the result, `compare` sets it beside the run."""
    from fashionseg.report.compare import compare, find_runs
    from fashionseg.run_folders.summary import RunSummary
    from helpers.runs import copy_run

    result, _, _ = fashion
    run_path = copy_run(result.run.path, tmp_path)
    folder, results = evaluated(run_path, dataset="fashion-mnist", split="train")
    assert folder.path.name.startswith("fashion-mnist-train-") and results["accuracy"] > 0.5
    assert folder.read_json("metrics.json")["evaluated"]["items"] == 1000  # the items the run trained on
    runs = [RunSummary.read(p) for p in find_runs([str(run_path), str(run_path / "evaluations")])]
    assert [r.state for r in runs] == ["finished", "finished"]
    table = compare(runs, ["accuracy"])
    assert table.rows[1][table.header.index("accuracy")] == pytest.approx(results["accuracy"])


class EveryScore:
    """Keeps every kept pixel's scores and class, for the exact AP."""

    def __init__(self):
        self.scores, self.targets = [], []

    def update(self, xb, probs, targets):
        keep = targets < probs.shape[1]
        self.scores.append(probs.movedim(1, -1)[keep].float().cpu())
        self.targets.append(targets[keep].long().cpu())


def test_binned_ap_is_within_1e_4_of_the_exact_ap_on_the_facade_test_set(facade, facade_root, tmp_path, monkeypatch):
    """The tiny facade run on 40 test_dev pairs of Mini Facade, read as a folder of pairs (`--data`): 2.4 million
    pixels, past a lowered exact limit of 1 million scores, so the histograms score most of them."""
    import torch
    from sklearn.metrics import average_precision_score

    from fashionseg.analysis.evaluation import evaluation_data, scored
    from fashionseg.infer.evaluate import BinnedAP

    monkeypatch.setattr(BinnedAP, "EXACT_BELOW", 2 ** 20)
    photos = tmp_path / "test_dev"
    photos.mkdir()
    for i in range(40):
        for suffix in (".jpg", ".png"):
            (photos / f"eecs442_{i:04d}{suffix}").symlink_to(facade_root / "test_dev" / f"eecs442_{i:04d}{suffix}")
    result, _ = facade
    trained = load_run(result.run.path, on="cpu")
    source = evaluation_data(trained, path=str(photos))
    assert len(source.items) == 40
    every = EveryScore()
    results, _, _ = scored(trained, source, watch=[every])
    scores, targets = torch.cat(every.scores).numpy(), torch.cat(every.targets).numpy()
    assert len(targets) > 2 * BinnedAP.EXACT_BELOW
    for c, name in enumerate(trained.classes):
        assert results["ap"][name] == pytest.approx(average_precision_score(targets == c, scores[:, c]), abs=1e-4)
