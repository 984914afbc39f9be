"""Prediction benchmarks: ``predict_volume`` against MONAI, and a 112-million-voxel cube.

Usage::

    python benchmarks/bench_predict.py                       # both parts, full size
    python benchmarks/bench_predict.py --part monai          # (a) only: 256^3 vs MONAI
    python benchmarks/bench_predict.py --part big            # (b) only: 480 x 480 x 486
    python benchmarks/bench_predict.py --size 96 --big-shape 64,64,80   # a quick check

(a) Throughput (voxels/s) and peak memory of :func:`napari_seisseg.inference.predict_volume`
against MONAI's ``sliding_window_inference`` with the same network
(``create_model("unet3d", n_classes=2, width=8)``, same seed), the same window (64^3),
overlap (0.5), batch of windows (4), Gaussian blending and softmax per window, on a
``size``^3 float32 cube on the CPU with ``--threads`` torch threads.  MONAI is optional
(``pip install --no-deps monai``: its only hard dependencies, torch and numpy, are already
installed; ``--no-deps`` keeps it from touching torch); without it that case is skipped.

(b) Wall time of ``seisseg predict`` (the CLI, in-process) on a memory-mapped float32
``.npy`` of ``--big-shape`` (default 480 x 480 x 486 = 112 million voxels) with the default
2D model (``unet2d`` defaults: width 16, depth 4; untrained weights cost the same), section
mode along inlines, whole sections, probabilities written to a float16 ``.npy`` on disk,
``--threads`` torch threads (2 by default: the target is 2 CPU cores).

Every case runs in a fresh Python process, so its figures are its own: wall time of the
prediction (after the network and the input are ready, after one warm-up window), peak RSS
(``VmHWM``, which includes file pages of memory-mapped inputs and outputs the kernel may
drop at will) and peak anonymous memory (``RssAnon`` sampled every 10 ms: what the process
itself allocated), both also given above the process's baseline after ``import torch`` and
building the network.  The cubes live in ``benchmarks/_data`` (git-ignored) and are deleted
at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from napari_seisseg.jobs import drain

HERE = Path(__file__).parent
DATA = HERE / "_data"
SEED = 0


# ---------------------------------------------------------------------------------- memory
def _status_kb(key: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    if key == "VmHWM":  # not Linux: ru_maxrss (KB on Linux, bytes on macOS)
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak // 1024 if sys.platform == "darwin" else peak
    return 0


class PeakSampler:
    """Sample ``RssAnon`` in a thread; ``peak_mb`` is the largest value seen."""

    def __init__(self, every: float = 0.01):
        self.every, self.peak = every, _status_kb("RssAnon")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _status_kb("RssAnon"))
            time.sleep(self.every)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status_kb("RssAnon"))

    @property
    def peak_mb(self) -> float:
        return self.peak / 1024


# ---------------------------------------------------------------------------------- data
def make_cube(path: Path, shape: tuple[int, ...], seed: int = SEED) -> None:
    """A float32 .npy of ``shape`` written block by block: layered, noisy, unit-ish variance."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    rng = np.random.default_rng(seed)
    t = np.arange(shape[-1], dtype=np.float32)
    layers = np.sin(t / 3.0) + 0.5 * np.sin(t / 7.3)
    step = max(1, (64 << 20) // (4 * int(np.prod(shape[1:]))))
    for i in range(0, shape[0], step):
        n = min(step, shape[0] - i)
        block = rng.standard_normal((n, *shape[1:]), dtype=np.float32) * 0.3
        block += layers
        out[i : i + n] = block
    out.flush()
    del out


# ---------------------------------------------------------------------------------- cases
def _network(threads: int):
    import torch

    from napari_seisseg.models import create_model

    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    return create_model("unet3d", n_classes=2, width=8).eval()


def case_monai(cfg: dict) -> dict:
    """MONAI sliding_window_inference over the cube held in memory."""
    import torch
    from monai.inferers import sliding_window_inference

    model = _network(cfg["threads"])
    w = cfg["window"]

    def predictor(x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(model(x), dim=1)

    with torch.inference_mode():
        predictor(torch.zeros(1, 1, w, w, w))  # warm-up
    base_anon = _status_kb("RssAnon") / 1024
    with PeakSampler() as peak:
        cube = torch.from_numpy(np.load(cfg["cube"]))[None, None]
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = sliding_window_inference(
                cube, roi_size=(w, w, w), sw_batch_size=cfg["batch"], predictor=predictor,
                overlap=cfg["overlap"], mode="gaussian", sw_device="cpu", device="cpu",
                progress=False,
            )
        seconds = time.perf_counter() - t0
    np.save(cfg["result"], out[0, 1, ::8, ::8, ::8].numpy())
    n = int(np.prod(cube.shape))
    return _figures(seconds, n, base_anon, peak, windows=None)


def case_seisseg(cfg: dict) -> dict:
    """predict_volume: cube in memory and output in memory (the same setting as MONAI), or
    memory-mapped input and a float16 .npy output on disk (``cfg["disk"]``)."""
    import torch

    from napari_seisseg.inference import PredictionStarted, predict_volume

    model = _network(cfg["threads"])
    w = cfg["window"]
    with torch.inference_mode():
        model(torch.zeros(1, 1, w, w, w))  # warm-up
    base_anon = _status_kb("RssAnon") / 1024
    started: list = []
    with PeakSampler() as peak:
        if cfg.get("disk"):
            cube = np.load(cfg["cube"], mmap_mode="r")
            out, dtype = cfg["out"], "float16"
        else:
            cube = np.load(cfg["cube"])
            out, dtype = None, "float32"
        t0 = time.perf_counter()
        gen = predict_volume(model, cube, window=w, overlap=cfg["overlap"], batch_size=cfg["batch"],
                             blend="gaussian", device="cpu", out=out, out_dtype=dtype)
        probs = drain(gen, lambda e: started.append(e) if isinstance(e, PredictionStarted) else None)
        seconds = time.perf_counter() - t0
    np.save(cfg["result"], np.asarray(probs[1, ::8, ::8, ::8], dtype=np.float32))
    return _figures(seconds, int(np.prod(cube.shape)), base_anon, peak,
                    windows=started[0].total if started else None)


def case_big(cfg: dict) -> dict:
    """``seisseg predict`` with the default unet2d bundle on a memory-mapped cube."""
    import torch

    from napari_seisseg.cli import main as cli

    torch.set_num_threads(cfg["threads"])
    base_anon = _status_kb("RssAnon") / 1024
    argv = ["predict", "--model", cfg["model"], "--image", cfg["cube"], "--out-probs", cfg["out"],
            "--probs-dtype", "float16", "--device", "cpu", "--quiet", "--overwrite"]
    if cfg.get("mask"):
        argv += ["--out-mask", cfg["mask"]]
    with PeakSampler() as peak:
        t0 = time.perf_counter()
        rc = cli(argv)
        seconds = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"seisseg predict failed with status {rc}")
    shape = np.load(cfg["cube"], mmap_mode="r").shape
    return _figures(seconds, int(np.prod(shape)), base_anon, peak, windows=shape[0])


def _figures(seconds: float, voxels: int, base_anon: float, peak: PeakSampler, windows) -> dict:
    return {
        "seconds": seconds,
        "voxels": voxels,
        "voxels_per_s": voxels / seconds,
        "windows": windows,
        "peak_anon_mb": peak.peak_mb,
        "peak_anon_above_baseline_mb": peak.peak_mb - base_anon,
        "baseline_anon_mb": base_anon,
        "peak_rss_mb": _status_kb("VmHWM") / 1024,
    }


CASES = {"monai": case_monai, "seisseg": case_seisseg, "big": case_big}


def _run_case(name: str, cfg: dict) -> dict | None:
    r = subprocess.run([sys.executable, __file__, "--case", name, "--config", json.dumps(cfg)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-3:]
        print(f"  {name} failed: {' | '.join(tail)}")
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def _big_model(path: Path) -> None:
    """The default unet2d as a bundle (untrained: the same cost as a trained one)."""
    import torch

    from napari_seisseg.bundle import save_bundle
    from napari_seisseg.models import create_model, model_spec

    torch.manual_seed(SEED)
    model = create_model("unet2d", n_classes=2)
    card = {
        "model": model_spec(model),
        "input": {"kind": "2d", "context": 0, "patch_size": [128, 128], "axes": [0, 1, 2],
                  "axis_names": ["axis 0", "axis 1", "axis 2"], "sample_axis": 2},
        "n_outputs": 2, "binary": False, "threshold": 0.5,
        "classes": [{"value": 1, "name": "background", "color": [0.9, 0.8, 0.3, 1.0]},
                    {"value": 2, "name": "target", "color": [0.8, 0.2, 0.8, 1.0]}],
        "preprocessing": {"pipeline": None, "standardize": {"center": 0.0, "scale": 1.0, "clip": 10.0}},
    }
    save_bundle(path, model, card)


def _line(name: str, res: dict) -> str:
    return (f"{name:44s} {res['seconds']:7.1f} s {res['voxels_per_s'] / 1e6:7.2f} Mvox/s  "
            f"peak anon {res['peak_anon_mb']:6.0f} MB (+{res['peak_anon_above_baseline_mb']:5.0f})  "
            f"peak RSS {res['peak_rss_mb']:6.0f} MB")


def part_monai(args: argparse.Namespace, results: dict) -> None:
    n = args.size
    cube = DATA / f"bench_predict_{n}.npy"
    make_cube(cube, (n, n, n))
    common = {"cube": str(cube), "window": args.window, "overlap": args.overlap,
              "batch": args.batch, "threads": args.threads}
    print(f"(a) {n}^3 float32 cube, unet3d width 8, window {args.window}^3, overlap "
          f"{args.overlap}, batch {args.batch}, {args.threads} torch threads")
    try:
        import monai  # noqa: F401

        have_monai = True
    except ImportError:
        have_monai = False
        print("  MONAI is not installed (pip install --no-deps monai): its case is skipped")
    part: dict = {"shape": [n, n, n], "settings": common, "cases": {}}
    runs = []
    if have_monai:
        runs.append(("MONAI sliding_window_inference", "monai", {}))
    runs += [("seisseg predict_volume (in memory)", "seisseg", {}),
             ("seisseg predict_volume (memmap -> f16 .npy)", "seisseg",
              {"disk": True, "out": str(DATA / "bench_predict_out.npy")})]
    samples = {}
    try:
        for label, case, extra in runs:
            result = DATA / f"bench_predict_sample_{case}{'_disk' if extra else ''}.npy"
            res = _run_case(case, {**common, **extra, "result": str(result)})
            if res is None:
                continue
            part["cases"][label] = res
            samples[label] = np.load(result)
            print("  " + _line(label, res))
        ref = "MONAI sliding_window_inference"
        ours = "seisseg predict_volume (in memory)"
        if ref in part["cases"] and ours in part["cases"]:
            a, b = part["cases"][ours], part["cases"][ref]
            part["speedup_vs_monai"] = a["voxels_per_s"] / b["voxels_per_s"]
            part["peak_anon_ratio_vs_monai"] = a["peak_anon_mb"] / b["peak_anon_mb"]
            part["peak_rss_ratio_vs_monai"] = a["peak_rss_mb"] / b["peak_rss_mb"]
            part["max_abs_difference_of_p1"] = float(np.abs(samples[ours] - samples[ref]).max())
            disk = part["cases"].get("seisseg predict_volume (memmap -> f16 .npy)")
            if disk:
                part["disk_peak_anon_ratio_vs_monai"] = disk["peak_anon_mb"] / b["peak_anon_mb"]
            print(f"  throughput x{part['speedup_vs_monai']:.2f} of MONAI (aim >= 1.5); peak anon "
                  f"x{part['peak_anon_ratio_vs_monai']:.2f}, peak RSS x{part['peak_rss_ratio_vs_monai']:.2f} "
                  f"(aim <= 0.6); disk-backed peak anon x{part.get('disk_peak_anon_ratio_vs_monai', float('nan')):.2f}; "
                  f"max |p1 difference| {part['max_abs_difference_of_p1']:.3g} (blending weights differ)")
    finally:
        if not args.keep:
            cube.unlink(missing_ok=True)
            for p in DATA.glob("bench_predict_sample_*.npy"):
                p.unlink()
            (DATA / "bench_predict_out.npy").unlink(missing_ok=True)
    results["monai_comparison"] = part


def part_big(args: argparse.Namespace, results: dict) -> None:
    shape = args.big_shape
    cube, model = DATA / "bench_predict_big.npy", DATA / "bench_predict_unet2d.safetensors"
    out, mask = DATA / "bench_predict_big_probs.npy", DATA / "bench_predict_big_mask.npy"
    t0 = time.perf_counter()
    make_cube(cube, shape)
    _big_model(model)
    voxels = int(np.prod(shape))
    print(f"(b) {' x '.join(map(str, shape))} float32 cube ({voxels / 1e6:.0f} M voxels, "
          f"{cube.stat().st_size / 1e9:.2f} GB, written in {time.perf_counter() - t0:.0f} s), "
          f"default unet2d, inline sections, {args.threads} torch threads")
    part: dict = {"shape": list(shape), "threads": args.threads, "cases": {}}
    try:
        for label, extra in (("seisseg predict -> f16 probabilities", {}),
                             ("seisseg predict -> probabilities + mask", {"mask": str(mask)})):
            if extra and not args.with_mask:
                continue
            res = _run_case("big", {"cube": str(cube), "model": str(model), "out": str(out),
                                    "threads": args.threads, **extra})
            if res is not None:
                part["cases"][label] = res
                print("  " + _line(label, res) + f"  ({res['seconds'] / 60:.1f} min; aim < 5 min)")
    finally:
        if not args.keep:
            for p in (cube, model, out, mask):
                p.unlink(missing_ok=True)
            for p in DATA.glob("bench_predict_big*.json"):
                p.unlink()
    results["big_cube"] = part


def _shape(text: str) -> tuple[int, int, int]:
    values = tuple(int(v) for v in text.split(","))
    if len(values) != 3:
        raise argparse.ArgumentTypeError("give three sizes, e.g. 480,480,486")
    return values  # type: ignore[return-value]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("all", "monai", "big"), default="all")
    ap.add_argument("--size", type=int, default=256, help="(a) cube edge (default 256)")
    ap.add_argument("--window", type=int, default=64, help="(a) window edge (default 64)")
    ap.add_argument("--overlap", type=float, default=0.5, help="(a) overlap (default 0.5)")
    ap.add_argument("--batch", type=int, default=4, help="(a) windows per call (default 4)")
    ap.add_argument("--big-shape", type=_shape, default=(480, 480, 486),
                    help="(b) cube shape (default 480,480,486: 112 M voxels)")
    ap.add_argument("--with-mask", action="store_true", help="(b) also time probabilities + mask")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--json", default=str(HERE / "_out" / "bench_predict.json"),
                    help="write the results here (default benchmarks/_out/bench_predict.json)")
    ap.add_argument("--keep", action="store_true", help="keep the cubes and outputs")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--config", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(CASES[args.case](json.loads(args.config))))
        return 0
    DATA.mkdir(parents=True, exist_ok=True)
    import torch

    results = {
        "machine": f"{platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "python": sys.version.split()[0], "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    try:
        import monai

        results["monai"] = monai.__version__
    except ImportError:
        results["monai"] = None
    if args.part in ("all", "monai"):
        part_monai(args, results)
    if args.part in ("all", "big"):
        part_big(args, results)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1))
        print(f"results in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
