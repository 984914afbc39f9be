"""Where a TGS model's errors are: per fold, per kind of tile, and a picture of the worst.

Usage::

    python benchmarks/bench_train_tgs.py --save-model /tmp/tgs.safetensors
    python benchmarks/tgs_error_analysis.py /tmp/tgs.safetensors --png docs/images/tgs_errors.png

Predicts every tile of ``../shared/data/tgs_salt_dev.npz`` (or ``--data``) with the bundle
as the benchmark does (whole tiles, the card's normalisation and threshold) and prints, as
JSON: the pooled pixel IoU of each fold (folds 0-2 were trained on, fold 3 was not); how
many tiles that are (nearly) all salt are predicted (nearly) without salt and the reverse;
the share of fold 3's wrong pixels in its worst 10/25/50 tiles and the IoU if those were
right.  With ``--png`` it draws eight fold 0-2 tiles of each kind: all salt and missed, all
salt and found, and salt-free with little texture.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_train_tgs import DEFAULT_DATA, pixel_iou, predict_tiles, salt_mask  # noqa: E402

#: Coverage above which a tile counts as all salt (and below 1 - this, predicted as none).
FULL = 0.9


def analyse(bundle: str, data: Path) -> tuple[dict, dict]:
    """Scores and the arrays the picture needs."""
    from napari_seisseg.bundle import load_bundle

    model, card = load_bundle(bundle)
    with np.load(data) as d:
        images, masks, fold = d["images"], d["masks"], d["fold"]
    # as the benchmark: sections (trace, sample), the sample axis last
    prob = predict_tiles(model, card, images.transpose(0, 2, 1).astype(np.float32))
    pred = salt_mask(prob, card).transpose(0, 2, 1)
    truth = masks.astype(bool)
    cov, pcov = truth.mean((1, 2)), pred.mean((1, 2))
    out: dict = {"bundle": bundle, "folds": {}}
    for f in np.unique(fold):
        r = fold == f
        full, empty = r & (cov > FULL), r & (cov == 0)
        out["folds"][int(f)] = {
            "pixel_iou": pixel_iou(pred[r], truth[r]),
            "all_salt_tiles": int(full.sum()),
            "all_salt_predicted_without": int((full & (pcov < 1 - FULL)).sum()),
            "all_salt_predicted_under_half": int((full & (pcov < 0.5)).sum()),
            "salt_free_tiles": int(empty.sum()),
            "salt_free_predicted_over_half": int((empty & (pcov > 0.5)).sum()),
        }
    r = np.flatnonzero(fold == 3)
    p, t = pred[r], truth[r]
    tp, salt = (p & t).sum((1, 2)), t.sum((1, 2))
    err = (p & ~t).sum((1, 2)) + (~p & t).sum((1, 2))
    order = np.argsort(-err)
    worst = {}
    for k in (10, 25, 50):
        keep = np.ones(len(r), bool)
        keep[order[:k]] = False
        worst[k] = {
            "share_of_wrong_pixels": float(err[order[:k]].sum() / max(err.sum(), 1)),
            "pixel_iou_if_right": float((tp[keep].sum() + salt[~keep].sum())
                                        / (tp[keep].sum() + err[keep].sum()
                                           + salt[~keep].sum())),
        }
    out["fold3_worst_tiles"] = worst
    return out, {"images": images, "cov": cov, "pcov": pcov, "fold": fold}


def draw(arrays: dict, path: str, seed: int = 0) -> None:
    """Eight training tiles of each kind, one row per kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    im, cov, pcov, fold = arrays["images"], arrays["cov"], arrays["pcov"], arrays["fold"]
    std = im.reshape(len(im), -1).std(1)
    train = fold < 3
    rows = [
        ("all salt, predicted without", np.flatnonzero(train & (cov > FULL) & (pcov < 0.5))),
        ("all salt, found", np.flatnonzero(train & (cov > FULL) & (pcov > FULL))),
        ("no salt, little texture", np.flatnonzero(train & (cov == 0) & (std < 22) & (std > 0))),
    ]
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(rows), 8, figsize=(14, 6))
    for r, (name, idx) in enumerate(rows):
        pick = rng.choice(idx, min(8, len(idx)), replace=False) if len(idx) else []
        for c in range(8):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(pick):
                ax.imshow(im[pick[c]], cmap="gray", vmin=0, vmax=255)
                ax.set_title(f"tile {pick[c]}", fontsize=7)
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.suptitle("TGS training tiles (folds 0-2), as the model scored them", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=72)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("bundle", help="model bundle written by bench_train_tgs.py --save-model")
    p.add_argument("--data", help=f"TGS .npz (default {DEFAULT_DATA})")
    p.add_argument("--png", help="also draw tiles of each kind into this PNG")
    args = p.parse_args(argv)
    data = Path(args.data) if args.data else DEFAULT_DATA
    out, arrays = analyse(args.bundle, data)
    if args.png:
        draw(arrays, args.png)
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
