"""The allocator setting: freed tensor memory is reused instead of page-faulted in again each step."""
import os
import subprocess
import sys

import pytest

from fashionseg.utils import allocator

PROBE = """
import resource, torch
from fashionseg.utils.allocator import keep_freed_memory
applied = keep_freed_memory()
def step():  # what a training step does to memory: a large block allocated, written, freed
    t = torch.empty(16 << 20)  # 64 MiB, above glibc's largest dynamic mmap threshold
    t.fill_(1.0)
    del t
for _ in range(3):  # the first blocks may land beside each other (small allocations take their holes)
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

needs_glibc = pytest.mark.skipif(allocator._glibc() is None, reason="the setting is glibc's")


def probe(**env) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         env={**os.environ, **env}).stdout.split()
    return out[0], int(out[1])


@pytest.mark.slow
@pytest.mark.subprocess
@needs_glibc
def test_freed_memory_is_kept_for_the_next_step():
    applied, faults = probe()
    assert applied == "True"
    assert faults < 5 * 16384  # ten 64 MiB blocks, most served by memory already paged in (opted out: all ten fault)


@pytest.mark.slow
@pytest.mark.subprocess
@needs_glibc
def test_opting_out_leaves_glibc_defaults():
    applied, faults = probe(FASHIONSEG_MALLOC_TUNING="0")
    assert applied == "False"
    assert faults > 8 * 16384  # each fresh 64 MiB mmap faults its 16,384 pages in again


def test_building_a_learner_applies_it(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(1) or True)
    from fashionseg import Recipe
    from fashionseg.build.checks import check_recipe
    from fashionseg.build.learner import build_learner
    recipe = Recipe(name="t", dataset="fashion-mnist", arch="seed000-cnn", epochs=1, bs=64)
    check_recipe(recipe)
    build_learner(recipe)
    assert calls
