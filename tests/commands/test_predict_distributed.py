"""Predicting at scale: `torchrun --nproc_per_node 2 -m fashionseg predict RUN INPUTS --csv` shards the images
over two CPU processes; rank 0 writes one CSV in input order, identical to one process's, and every mask
file is written once, by the rank that predicted its image."""
import shutil

import pytest
from helpers.launch import rank_output, rows, torchrun

from fashionseg.cli import main


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.distributed
def test_two_processes_share_the_images_and_rank_0_writes_one_csv_in_input_order(mask_run, tmp_path, capsys):
    root, _, result = mask_run
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, image in enumerate(sorted((root / "test").glob("*[0-9].png"))):  # the 8 test photos, renamed
        shutil.copy(image, photos / f"{7 - i}.png")
    run = str(result.run.path)
    assert main(["predict", run, str(photos), "--csv", str(tmp_path / "one.csv"), "--out", str(tmp_path / "one")]) == 0
    capsys.readouterr()

    proc = torchrun(tmp_path, "predict", run, str(photos), "--csv", str(tmp_path / "two.csv"),
                    "--out", str(tmp_path / "two"))
    out, _ = proc.communicate(timeout=300)
    logs = rank_output(tmp_path, 0) + rank_output(tmp_path, 1)
    assert proc.returncode == 0, out + logs
    one, two = rows(tmp_path / "one.csv"), rows(tmp_path / "two.csv")
    assert [r["file"] for r in two] == [str(photos / f"{i}.png") for i in range(8)]  # input (natural) order
    assert two == one  # the same predictions as one process makes
    files = sorted(p.name for p in (tmp_path / "two").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "one").iterdir()) and len(files) == 16
    assert "wrote 16 files" in rank_output(tmp_path, 0)  # 8 images x 2 files, each once over both ranks
    assert rank_output(tmp_path, 1).strip() == ""  # rank 1 prints nothing
