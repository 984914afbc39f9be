"""Amplitude preprocessing: the pure numpy core (no napari)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.jobs import drain
from napari_seisseg.preprocess import (
    AGC,
    PIPELINE_VERSION,
    LogUint8,
    PercentileClip,
    Pipeline,
    RobustScale,
    Standardize,
    StdClip,
    agc,
    apply_blocks,
    log_uint8_decode,
    log_uint8_encode,
    log_uint8_zero_code,
    sample_traces,
    signed_expm1,
    signed_log1p,
)

# ---------------------------------------------------------------------------- fixtures


def _cube(ni=24, nx=20, ns=120, seed=0) -> np.ndarray:
    """Heavy-tailed amplitudes with a lateral gain trend, float32, (inline, crossline, sample)."""
    rng = np.random.default_rng(seed)
    gi, gx = np.meshgrid(np.linspace(-1, 1, ni), np.linspace(-1, 1, nx), indexing="ij")
    gain = 1 + 2 * np.hypot(gi, gx)
    return (rng.standard_t(4, size=(ni, nx, ns)) * gain[..., None] * 100).astype(np.float32)


@pytest.fixture
def dirty_cube() -> np.ndarray:
    """A cube with every kind of bad data: dead traces (zero, NaN, zero+NaN), NaN and inf samples."""
    c = _cube()
    c[0, 0] = 0.0  # dead: all zero
    c[1, 1] = np.nan  # dead: all NaN
    c[2, 2, ::2] = 0.0
    c[2, 2, 1::2] = np.nan  # dead: zeros and NaNs
    c[3, 3, 5] = np.nan
    c[3, 3, 6] = np.inf
    c[4, 4, 7] = -np.inf
    return c


class CountingArray:
    """A numpy-like array that records how many elements each read returns."""

    def __init__(self, data: np.ndarray):
        self.data = data
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim
        self.elements_read = 0

    def __getitem__(self, key):
        out = self.data[key]
        self.elements_read += out.size
        return out


def _all_steps() -> list:
    return [PercentileClip(1, 99), StdClip(2.5), AGC(9, "samples"), RobustScale(), Standardize()]


# ---------------------------------------------------------------------------- exact values


def test_clip_and_scaling_steps_give_exact_values_on_small_arrays():
    x = np.arange(101, dtype=np.float32).reshape(1, 1, 101)  # one trace 0..100
    p = Pipeline([PercentileClip(10, 90)]).fit(x)
    assert (p.steps[0].lo, p.steps[0].hi) == (10.0, 90.0)
    np.testing.assert_array_equal(p.apply(x)[0, 0], np.clip(np.arange(101), 10, 90))

    y = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], dtype=np.float32)
    s = Pipeline([Standardize()]).fit(y)
    assert s.steps[0].center == 4.5 and s.steps[0].scale == pytest.approx(np.sqrt(5.25))
    np.testing.assert_allclose(s.apply(y), (y - 4.5) / np.sqrt(5.25), rtol=1e-6)

    r = Pipeline([RobustScale()]).fit(y)  # median 4.5, quartiles 2.75 and 6.25
    assert (r.steps[0].center, r.steps[0].scale) == (4.5, 3.5)
    np.testing.assert_allclose(r.apply(y), (y - 4.5) / 3.5, rtol=1e-6)

    k = Pipeline([StdClip(1.0)]).fit(y)  # mean 4.5 ± std 2.2913
    np.testing.assert_allclose(k.apply(y), np.clip(y, 4.5 - np.sqrt(5.25), 4.5 + np.sqrt(5.25)),
                               rtol=1e-6)


def test_signed_log_and_uint8_codes_are_exact():
    e = np.e
    np.testing.assert_allclose(signed_log1p([-(e - 1), 0.0, e - 1]), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(signed_expm1([-1.0, 0.0, 1.0]), [-(e - 1), 0.0, e - 1])
    # range [-1, 1] in the log domain: -1 -> 1, 0 -> 128, 0.25 -> 128 + 31.75 -> 160, 1 -> 255
    x = signed_expm1(np.array([-5.0, -1.0, 0.0, 0.25, 1.0, 5.0]))
    np.testing.assert_array_equal(log_uint8_encode(x, -1.0, 1.0), [1, 1, 128, 160, 255, 255])
    assert log_uint8_zero_code(-1.0, 1.0) == 128
    assert log_uint8_decode(np.array([128], np.uint8), -1.0, 1.0)[0] == 0.0  # exactly zero
    # asymmetric range [0, 2]: zero amplitude is the lowest code
    assert log_uint8_zero_code(0.0, 2.0) == 1


def test_uint8_round_trip_within_quantisation_error():
    rng = np.random.default_rng(3)
    x = rng.standard_t(3, size=20000) * 300
    lo, hi = -7.0, 7.0  # log1p(|x|) <= 7 means |x| <= 1096
    inside = np.abs(x) < np.expm1(hi)
    codes = log_uint8_encode(x, lo, hi)
    assert codes.dtype == np.uint8 and codes.min() >= 1
    back = log_uint8_decode(codes, lo, hi, dtype=np.float64)
    # half a code in the log domain is (hi - lo) / 508
    bound = (1 + np.abs(x)) * np.expm1((hi - lo) / 508) * (1 + 1e-6)
    assert np.all(np.abs(back - x)[inside] <= bound[inside])
    assert np.all(np.abs(back[~inside]) == pytest.approx(np.expm1(hi), rel=1e-6))  # saturated


def test_pipeline_inverse_undoes_standardise_and_log_uint8(dirty_cube):
    clean = np.nan_to_num(dirty_cube, nan=0.0, posinf=0.0, neginf=0.0)
    p = Pipeline([Standardize(), LogUint8(0.5, 99.5)]).fit(dirty_cube)
    codes = p.apply(dirty_cube)
    back = p.inverse(codes)
    std, (lo, hi) = p.steps[0].scale, (p.steps[1].lo, p.steps[1].hi)
    z = (clean - p.steps[0].center) / std
    inside = np.abs(z) < np.expm1(hi) * 0.999
    bound = (1 + np.abs(z)) * np.expm1((hi - lo) / 508) * std * 1.001 + 1e-3
    err = np.abs(back - clean)
    assert np.all(err[inside] <= bound[inside])
    with pytest.raises(SeisSegError, match="AGC cannot be undone"):
        Pipeline([AGC(5, "samples")]).fit(clean).inverse(clean)


# ---------------------------------------------------------------------------- AGC


def test_agc_on_a_trace_with_known_gain():
    period = 8  # samples; sum of sin^2 over any full period is period / 2
    t = np.arange(400)
    s = np.sin(2 * np.pi * t / period + 0.3)
    amp = np.where(t < 200, 1.0, 250.0)  # gain steps from 1 to 250 half way
    trace = (amp * s).astype(np.float32)
    out = agc(trace, period)
    # away from the ends and the step the window RMS is amp / sqrt(2), so out = sqrt(2) * s
    for a, b in ((period, 200 - period), (200 + period, 400 - period)):
        np.testing.assert_allclose(out[a:b], np.sqrt(2) * s[a:b], rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float32
    # the same through the step, on a 3D block, along a middle axis
    block = np.broadcast_to(trace[None, :, None], (2, 400, 3))
    via_step = Pipeline([AGC(period, "samples")]).fit(block, axis=1).apply(block, axis=1)
    np.testing.assert_allclose(via_step[1, :, 2], out, rtol=1e-6)


def test_agc_edges_zeros_and_window_in_ms():
    x = np.array([0, 0, 0, 0, 3.0, -4.0, 0, 0], dtype=np.float32)
    # window 1: x / |x|; zeros stay zero (no division by zero)
    np.testing.assert_array_equal(agc(x, 1), [0, 0, 0, 0, 1, -1, 0, 0])
    # window 3 at sample 4: rms of (0, 3, -4) = sqrt(25 / 3); at the end window truncated
    out = agc(x, 3)
    assert out[4] == pytest.approx(3 / np.sqrt(25 / 3))
    assert out[0] == 0 and out[7] == 0
    step = AGC(40.0, "ms")
    step.fit(np.zeros(1), n_samples=100, dt=4.0)
    assert step.window_samples == 10
    with pytest.raises(SeisSegError, match="needs the sample interval"):
        Pipeline([AGC(40.0, "ms")]).fit(np.ones((3, 100), np.float32))


# ---------------------------------------------------------------------------- NaN and dead traces


def test_dead_traces_and_nonfinite_samples_are_excluded_kept_dead_and_reported(dirty_cube):
    p = Pipeline([PercentileClip(0.5, 99.5), Standardize()])
    p.fit(dirty_cube, n_traces=10_000)  # more than the cube holds: every trace is read
    info = p.fit_info
    assert info["n_traces_read"] == 24 * 20 and info["n_traces_dead_skipped"] == 3
    assert info["n_traces_live"] == 24 * 20 - 3 and info["n_nonfinite_skipped"] == 3
    # statistics are those of the finite samples of the live traces
    live = np.ones((24, 20), bool)
    live[0, 0] = live[1, 1] = live[2, 2] = False
    v = dirty_cube[live].ravel().astype(np.float64)
    v = v[np.isfinite(v)]
    lo, hi = np.percentile(v, [0.5, 99.5])
    assert (p.steps[0].lo, p.steps[0].hi) == pytest.approx((lo, hi))
    clipped = np.clip(v, lo, hi)
    assert p.steps[1].center == pytest.approx(clipped.mean())
    assert p.steps[1].scale == pytest.approx(clipped.std())

    out, report = drain(apply_blocks(p, dirty_cube, block_bytes=40_000))
    assert np.isfinite(out).all()
    assert not out[0, 0].any() and not out[1, 1].any() and not out[2, 2].any()
    assert out[3, 3, 5] == 0 and out[3, 3, 6] == 0 and out[4, 4, 7] == 0
    assert out[3, 3, 4] != 0
    assert (report.n_traces, report.n_dead_traces) == (480, 3)
    assert (report.n_nonfinite_samples, report.n_traces_with_nonfinite) == (3, 2)
    assert "dead traces: 3 of 480" in report.summary()


def test_dead_traces_encode_as_the_code_of_zero_amplitude(dirty_cube):
    p = Pipeline([Standardize(), LogUint8()]).fit(dirty_cube)
    codes = p.apply(dirty_cube)
    assert codes.dtype == np.uint8 and codes.min() >= 1
    zero = p.steps[-1].zero_code
    assert zero == 128
    assert (codes[0, 0] == zero).all() and (codes[1, 1] == zero).all()
    assert codes[3, 3, 5] == zero and codes[4, 4, 7] == zero
    # 128 decodes to 0 in the standardised domain, i.e. to the mean amplitude of the input
    np.testing.assert_allclose(p.inverse(codes[0, 0]), p.steps[0].center)


def test_a_cube_without_live_traces_is_refused():
    with pytest.raises(SeisSegError, match="all are zero or NaN"):
        Pipeline([Standardize()]).fit(np.zeros((4, 5, 10), np.float32))


# ---------------------------------------------------------------------------- statistics on a sample


def test_sample_statistics_agree_with_full_statistics():
    """Tolerance: 500 of 4800 traces (200 samples each) give the mean within 0.01 std, and the
    std and the 0.5/25/75/99.5 percentiles within 5 % of the full-cube values, for every seed
    tried (the cube has a 3x lateral gain trend, so traces are not interchangeable)."""
    cube = _cube(80, 60, 200, seed=42)
    cube[:10] = 0.0  # dead inlines: excluded from both
    v = cube[10:].astype(np.float64).ravel()
    mean, std = v.mean(), v.std()
    q = [0.5, 25, 75, 99.5]
    pq = np.percentile(v, q)
    for seed in range(10):
        s = sample_traces(cube, -1, n_traces=500, seed=seed)
        assert s.n_live == 500
        w = s.values()
        assert abs(w.mean() - mean) < 0.01 * std
        assert abs(w.std() / std - 1) < 0.05
        np.testing.assert_allclose(np.percentile(w, q), pq, rtol=0.05)
        assert abs(np.median(w) - np.median(v)) < 0.01 * std
    # same seed, same sample; another seed, another sample
    a, b = sample_traces(cube, n_traces=50, seed=1), sample_traces(cube, n_traces=50, seed=1)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert not np.array_equal(a.positions, sample_traces(cube, n_traces=50, seed=2).positions)


@pytest.mark.parametrize("order", ["canonical", "display"])
def test_fit_reads_only_the_sampled_traces(order):
    cube = _cube(30, 25, 64)
    data = cube if order == "canonical" else cube.transpose(0, 2, 1)
    axis = 2 if order == "canonical" else 1
    counting = CountingArray(np.ascontiguousarray(data))
    p = Pipeline([PercentileClip(), Standardize()]).fit(counting, axis=axis, n_traces=40, seed=5)
    assert counting.elements_read == 40 * 64  # 40 traces of 64 samples, nothing else
    # and the sample read is the same as from the plain array
    ref = Pipeline([PercentileClip(), Standardize()]).fit(cube, axis=2, n_traces=40, seed=5)
    assert p.to_dict()["steps"] == ref.to_dict()["steps"]


def test_sampling_draws_again_past_dead_traces_and_follows_a_live_mask():
    cube = _cube(40, 40, 16)
    cube[:, :28] = 0.0  # 70 % dead traces
    s = sample_traces(cube, n_traces=200, seed=0)
    assert s.n_live == 200 and s.n_dead > 0
    assert np.all(s.positions[:, 1] >= 28)
    live = np.zeros((40, 40), bool)
    live[:, 28:] = True
    s2 = sample_traces(cube, n_traces=200, seed=0, live=live)
    assert s2.n_live == 200 and s2.n_dead == 0 and s2.n_read == 200


def test_fit_on_dask_reads_a_sample_and_matches_numpy():
    da = pytest.importorskip("dask.array")
    cube = _cube()
    lazy = da.from_array(cube, chunks=(4, 5, -1))
    a = Pipeline([PercentileClip(), RobustScale()]).fit(lazy, n_traces=100, seed=3)
    b = Pipeline([PercentileClip(), RobustScale()]).fit(cube, n_traces=100, seed=3)
    assert a.to_dict()["steps"] == b.to_dict()["steps"]


# ---------------------------------------------------------------------------- block-wise application


def test_blockwise_application_equals_whole_array(dirty_cube):
    p = Pipeline(_all_steps()).fit(dirty_cube)
    whole = p.apply(dirty_cube)
    parts = [p.apply(b) for b in np.array_split(dirty_cube, 7, axis=0)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=0), whole)
    out, _ = drain(apply_blocks(p, dirty_cube, block_bytes=3 * 20 * 120 * 4))
    np.testing.assert_array_equal(out, whole)
    # display order (inline, sample, crossline): same numbers, transposed
    disp = dirty_cube.transpose(0, 2, 1)
    np.testing.assert_array_equal(p.apply(disp, axis=1), whole.transpose(0, 2, 1))


def test_lazy_application_with_dask_map_blocks(dirty_cube):
    da = pytest.importorskip("dask.array")
    p = Pipeline(_all_steps() + [LogUint8()]).fit(dirty_cube)
    lazy = p.apply_dask(da.from_array(dirty_cube, chunks=(5, 7, 30)))
    assert lazy.dtype == np.uint8 and lazy.chunks[2] == (120,)
    np.testing.assert_array_equal(lazy.compute(), p.apply(dirty_cube))


def test_preprocessed_array_slices_match_and_report_counts_each_trace_once(dirty_cube):
    p = Pipeline(_all_steps()).fit(dirty_cube)
    whole = p.apply(dirty_cube)
    disp = dirty_cube.transpose(0, 2, 1)
    lazy = p.lazy(disp, axis=1)
    assert lazy.shape == disp.shape and lazy.dtype == np.float32
    np.testing.assert_array_equal(lazy[5], whole[5].T)  # an inline, as napari asks for it
    np.testing.assert_array_equal(lazy[:, :, 3], whole[:, 3, :])  # a crossline
    # a time slice reads only the AGC margin around it; equal to float rounding
    for t in (0, 4, 60, 119):
        np.testing.assert_allclose(lazy[:, t, :], whole[:, :, t], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lazy[2:9:3, 10:40:7, -5:], whole[2:9:3, -5:, 10:40:7].transpose(0, 2, 1),
                               rtol=1e-5, atol=1e-6)
    lazy = p.lazy(disp, axis=1)
    lazy[0:6]
    lazy[0:12]  # overlapping reads (as the SEG-Y writer makes) do not count twice
    r = lazy.report()
    assert r.n_traces_seen == 12 * 20 and r.n_dead_traces == 3 and r.n_nonfinite_samples == 3


# ---------------------------------------------------------------------------- JSON and validation


def test_json_round_trip_keeps_parameters_and_statistics(dirty_cube, tmp_path):
    p = Pipeline([AGC(36.0, "ms"), PercentileClip(2, 98), StdClip(3), RobustScale(10, 90),
                  Standardize(), LogUint8(1, 99, symmetric=False)])
    p.fit(dirty_cube, dt=4.0, n_traces=300, seed=7)
    d = json.loads(p.to_json())
    assert d["version"] == PIPELINE_VERSION and d["format"] == "napari-seisseg.preprocess"
    assert d["steps"][0] == {"kind": "agc", "window": 36.0, "unit": "ms",
                             "fitted": {"window_samples": 9}}
    assert d["fit"]["seed"] == 7 and d["fit"]["dt"] == 4.0
    q = Pipeline.load(p.save(tmp_path / "pipe.json"))
    assert q.to_dict() == p.to_dict() and q.is_fitted
    np.testing.assert_array_equal(q.apply(dirty_cube), p.apply(dirty_cube))
    # stored statistics apply without the sample interval; a reset pipeline must be refitted
    assert q.reset().same_parameters(q) and not q.reset().is_fitted
    with pytest.raises(SeisSegError, match="no statistics yet"):
        q.reset().apply(dirty_cube)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=PIPELINE_VERSION + 1), "Upgrade napari-seisseg"),
        (lambda d: d["steps"].append({"kind": "fft_filter"}), "Unknown preprocessing step"),
        (lambda d: d["steps"][0].update(gain=2), "has no parameter"),
        (lambda d: d.pop("steps"), "not a preprocessing pipeline"),
    ],
)
def test_bad_pipeline_json_is_refused(change, message):
    d = Pipeline([PercentileClip()]).to_dict()
    change(d)
    with pytest.raises(SeisSegError, match=message):
        Pipeline.from_json(json.dumps(d))


def test_bad_parameters_are_refused_with_a_clear_message():
    with pytest.raises(SeisSegError, match=r"upper percentile \(1\) must be above the lower one \(99\)"):
        Pipeline([PercentileClip(99, 1)]).validate()
    with pytest.raises(SeisSegError, match="between 0 and 100"):
        Pipeline([PercentileClip(-1, 99)]).validate()
    with pytest.raises(SeisSegError, match=r"window of 200 samples \(800 ms\) is longer than the trace"):
        Pipeline([AGC(800, "ms")]).validate(n_samples=120, dt=4.0)
    with pytest.raises(SeisSegError, match="must be the last step"):
        Pipeline([LogUint8(), Standardize()]).validate()
    with pytest.raises(SeisSegError, match="k must be positive"):
        Pipeline([StdClip(0)]).validate()


def test_preprocess_job_gives_the_same_values_lazily_in_memory_and_in_a_file(dirty_cube, tmp_path):
    from napari_seisseg.io import read_volume
    from napari_seisseg.preprocess import PreprocessedArray, preprocess_job

    p = Pipeline([PercentileClip(0.5, 99.5), Standardize()])
    p.fit(dirty_cube, n_traces=10_000)
    in_memory, report = drain(preprocess_job(p, dirty_cube, block_bytes=40_000))
    lazy, _ = drain(preprocess_job(p, dirty_cube, lazy=True))
    fractions: list[float] = []
    path, file_report = drain(preprocess_job(p, dirty_cube, path=tmp_path / "out.npy"),
                              fractions.append)
    assert isinstance(lazy, PreprocessedArray) and fractions[-1] == 1.0
    np.testing.assert_array_equal(np.asarray(lazy[:]), in_memory)
    np.testing.assert_array_equal(np.asarray(read_volume(path).data), in_memory)
    assert file_report.n_dead_traces == report.n_dead_traces == 3
