"""An error raised inside a callback reaches the user as its own one line, not as fastai's
"Exception occured in `<callback>` when calling event `<event>`:" wrapper."""
import json
import resource
import signal
import subprocess
import sys

import pytest
from fastcore.xtras import modify_exception

from fashionseg import FashionsegError, create_model


def test_an_error_keeps_its_line_when_fastai_wraps_it():
    exc = FashionsegError("cannot write runs/x/last.pth: the disk is full; free some space and run again")
    modify_exception(exc, "Exception occured in `LastCheckpoint` when calling event `before_epoch`:\n\t"
                     + exc.args[0], replace=True)  # what fastai's Callback.__call__ does
    assert str(exc) == "cannot write runs/x/last.pth: the disk is full; free some space and run again"


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_checkpoint_too_large_for_the_file_size_limit_is_one_line_naming_the_file(tmp_path, fashion_mnist_dir):
    """A real write failure (EFBIG) inside LastCheckpoint, under a file size limit that model.pth-sized
    files exceed: one line naming last.pth and the cause, exit 2, and status.json says failed."""
    model_bytes = 4 * sum(p.numel() for p in create_model("seed000-cnn", 10, 1).parameters())

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (model_bytes // 2, resource.RLIM_INFINITY))

    done = subprocess.run([sys.executable, "-m", "fashionseg.cli", "train", "seed000", "--epochs", "1",
                           "--limit", "128", "--eval-limit", "64", "--runs-dir", str(tmp_path)],
                          preexec_fn=limited, capture_output=True, text=True, timeout=300)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: cannot write "), done.stderr
    assert "last.pth: the file is too large" in lines[0] and "ulimit -f" in lines[0]
    assert "Exception occured" not in done.stderr + done.stdout
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "failed" and "last.pth: the file is too large" in status["error"]
