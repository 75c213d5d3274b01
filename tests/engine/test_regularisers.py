"""A run with accumulation, clipping, MixUp/CutMix and kornia augmentation trains end to end and records the
settings in config.json, the report's settings and the provenance."""
import json

import pytest
from helpers.image_folders import class_tree
from helpers.runs import train

from fashionseg import Recipe


@pytest.mark.slow
def test_a_run_with_every_regulariser_records_them(tmp_path):
    data = class_tree(tmp_path / "cls", splits=(("train", 6), ("test", 2)))
    recipe = Recipe(name="reg", dataset="image-folder", arch="cam-fast-cnn", metrics=["accuracy"], epochs=2, bs=4,
                    accumulate=2, clip=1.0, mixup=0.4, cutmix=1.0, label_smoothing=0.1,
                    data_options={"path": str(data), "augment": "classify"})
    result = train(recipe, tmp_path / "runs")
    config = json.loads((result.run.path / "config.json").read_text())
    assert {k: config[k] for k in ("accumulate", "clip", "mixup", "cutmix")} == {
        "accumulate": 2, "clip": 1.0, "mixup": 0.4, "cutmix": 1.0}
    prov = json.loads((result.run.path / "metrics.json").read_text())["provenance"]
    assert (prov["accumulate"], prov["effective_batch"], prov["clip"]) == (2, 8, 1.0)
    report = (result.run.path / "report.md").read_text()
    assert "mixup" in report and "effective batch | 8" in report
    assert 0 <= result.results["accuracy"] <= 1
