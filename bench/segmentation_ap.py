"""Segmentation AP at scale: peak memory and time of the histogram (binned) AP against the exact AP that keeps
every pixel's score, on a large generated evaluation set.

Each method runs in its own process (its peak resident memory is its own): a generated set of `--images`
score maps of `--size` pixels and `--classes` classes (smooth random logits, ground truth drawn from them,
a band of ignored pixels) is streamed `--bs` images at a time, as `fashionseg evaluate` streams a test set.
`binned` is fashionseg's `per-class-ap` (memory independent of the pixels); `exact` keeps every kept
pixel's float32 scores and scores each class with scikit-learn's `average_precision_score` (the exact AP
fashionseg computed before, to 1e-12). The table gives seconds, peak memory and the largest AP difference.

Run: python bench/segmentation_ap.py [--images 500] [--size 1024x2048] [--classes 5] [--bs 4]
     python bench/segmentation_ap.py --smoke   (8 images of 64x96: a check that it runs)
"""
import argparse
import json
import resource
import subprocess
import sys
import time

CHILD = """
import json, resource, sys, time
import torch
sys.path.insert(0, "bench")
from segmentation_ap import batches, exact_ap

from fashionseg_plugins.metrics.segmentation import PerClassAP
from sklearn.metrics import average_precision_score

method, images, h, w, classes, bs = sys.argv[1], *map(int, sys.argv[2:7])
start = time.perf_counter()
if method == "binned":
    ev = PerClassAP()
    for probs, targets in batches(images, h, w, classes, bs):
        ev.update(probs, targets)
    aps = ev.ap()
else:
    aps = exact_ap(batches(images, h, w, classes, bs), classes)
seconds = time.perf_counter() - start
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak_mib, "ap": aps}))
"""


def batches(images: int, h: int, w: int, classes: int, bs: int, seed: int = 0):
    """`(probs, targets)` batches of a generated evaluation set: smooth logits, truth sampled near them."""
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(seed)
    for start in range(0, images, bs):
        n = min(bs, images - start)
        coarse = torch.randn(n, classes, max(1, h // 16), max(1, w // 16), generator=gen) * 3
        logits = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
        noisy = logits + torch.randn(n, classes, h, w, generator=gen) * 2
        targets = noisy.argmax(1)
        targets[:, : max(1, h // 20)] = 255  # an ignored band, as masks have
        yield logits.softmax(1), targets


def exact_ap(stream, classes: int) -> list[float]:
    """Every kept pixel's float32 scores kept, then scikit-learn's AP class by class."""
    import torch
    from sklearn.metrics import average_precision_score

    scores, targets = [[] for _ in range(classes)], []
    for probs, truth in stream:
        keep = truth < classes
        for c in range(classes):
            scores[c].append(probs[:, c][keep])
        targets.append(truth[keep].to(torch.uint8))
    truth = torch.cat(targets).numpy()
    return [float(average_precision_score(truth == c, torch.cat(scores[c]).numpy())) for c in range(classes)]


def measure(method: str, args) -> dict:
    """One method in its own process: seconds (generation included, imports not), peak resident MiB, the APs."""
    h, w = map(int, args.size.lower().split("x"))
    out = subprocess.run([sys.executable, "-c", CHILD, method, str(args.images), str(h), str(w), str(args.classes),
                          str(args.bs)], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--size", default="1024x2048", help="HxW of each generated score map")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--bs", type=int, default=4)
    parser.add_argument("--methods", nargs="+", default=["binned", "exact"], choices=["binned", "exact"])
    parser.add_argument("--smoke", action="store_true", help="8 images of 64x96: check that it runs")
    parser.add_argument("--out", default="bench/segmentation_ap.json")
    args = parser.parse_args()
    if args.smoke:
        args.images, args.size, args.out = 8, "64x96", None
    results = {m: measure(m, args) for m in args.methods}
    h, w = map(int, args.size.lower().split("x"))
    pixels = args.images * h * w
    print(f"{args.images} images of {args.size} ({pixels:,} pixels), {args.classes} classes, bs {args.bs}")
    print(f"{'method':8} {'seconds':>9} {'peak MiB':>9}")
    for name, r in results.items():
        print(f"{name:8} {r['seconds']:9.1f} {r['peak_mib']:9.0f}")
    if len(results) == 2:
        diff = max(abs(a - b) for a, b in zip(results["binned"]["ap"], results["exact"]["ap"]))
        print(f"largest AP difference binned vs exact: {diff:.2e}")
    if args.out:
        record = {"when": time.strftime("%Y-%m-%d %H:%M"), "settings": vars(args), "results": results,
                  "peak_mib_parent": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        with open(args.out, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
