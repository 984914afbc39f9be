"""The Preprocess widget in a real viewer (run under Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg._widgets.preprocess import PreprocessWidget
from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.io.layers import volume_layer_data
from napari_seisseg.preprocess import Pipeline, PreprocessedArray
from napari_seisseg.preprocess.recorded import PREPROCESS_KEY

pytestmark = pytest.mark.gui

NI, NX, NS = 12, 10, 60


@pytest.fixture
def seen():
    """napari notifications shown during the test."""
    from napari.utils.notifications import notification_manager

    got: list = []

    def record(event):
        got.append(getattr(event, "value", event))

    notification_manager.notification_ready.connect(record)
    yield got
    notification_manager.notification_ready.disconnect(record)


@pytest.fixture
def cube_viewer(make_napari_viewer):
    """A viewer holding a seismic cube with survey geometry, shown as the plugin shows it."""
    rng = np.random.default_rng(2)
    cube = (rng.standard_t(4, size=(NI, NX, NS)) * 300).astype(np.float32)
    cube[2, 3] = 0.0  # dead trace
    cube[4, 4, 10] = np.nan
    geometry = SurveyGeometry(kind="cube", n_samples=NS, dt=4.0, t0=100.0,
                              ilines=np.arange(300, 300 + NI), xlines=np.arange(1000, 1000 + 2 * NX, 2))
    data, kw, _ = volume_layer_data(cube, geometry, "seismic")
    viewer = make_napari_viewer()
    layer = viewer.add_image(data, **kw)
    return viewer, layer, cube


def _wait_for(widget, qtbot, worker):
    assert worker is not None
    qtbot.waitUntil(lambda: widget.worker is None, timeout=20_000)


def _shown_slice(layer) -> np.ndarray:
    return np.asarray(layer._slice.image.raw)


def test_preview_follows_the_slider_and_the_parameters(cube_viewer):
    viewer, src, _ = cube_viewer
    w = PreprocessWidget(viewer)
    assert w.layer.value is src
    w.add_step("clip_percentile", lower=1.0, upper=99.0)
    w.add_step("standardize")
    preview = w._preview
    assert preview is not None and preview.name == "seismic [preview]"
    assert isinstance(preview.data, PreprocessedArray) and len(viewer.layers) == 2
    np.testing.assert_array_equal(preview.scale, src.scale)
    pipe = w.last_pipeline
    for i in (3, 7):  # move the inline slider: the preview shows that inline, preprocessed
        viewer.dims.set_point(0, src.data_to_world([i, 0, 0])[0])
        expected = pipe.apply(np.asarray(src.data[i]), axis=0)  # (sample, crossline) slice
        np.testing.assert_array_equal(_shown_slice(preview), expected)
    before = _shown_slice(preview).copy()
    w.rows[0].inputs["upper"].value = 80.0  # a stronger clip
    assert w._preview is preview
    after = _shown_slice(preview)
    assert after.max() < before.max()
    np.testing.assert_array_equal(after, w.last_pipeline.apply(np.asarray(src.data[7]), axis=0))
    w.preview.value = False
    assert len(viewer.layers) == 1 and w._preview is None


def test_apply_adds_a_layer_with_the_source_geometry_and_scale(cube_viewer, qtbot):
    viewer, src, cube = cube_viewer
    before = np.array(src.data, copy=True)
    w = PreprocessWidget(viewer)
    w.add_step("agc", window=40.0, unit="ms")
    w.add_step("standardize")
    w.add_step("log_uint8")
    _wait_for(w, qtbot, w.apply())
    assert w.status.state == "done"
    assert [layer.name for layer in viewer.layers] == ["seismic", "seismic [preprocessed]"]
    out = viewer.layers[-1]
    assert out.data.dtype == np.uint8 and out.data.shape == src.data.shape
    for attr in ("scale", "translate"):
        np.testing.assert_array_equal(getattr(out, attr), getattr(src, attr))
    assert tuple(out.axis_labels) == tuple(src.axis_labels) == ("inline", "time (ms)", "crossline")
    assert tuple(out.units) == tuple(src.units)
    g_src, g_out = (SurveyGeometry.from_metadata(x.metadata) for x in (src, out))
    assert g_out is not None and g_out.to_json_dict() == g_src.to_json_dict()
    stored = Pipeline.from_dict(out.metadata[PREPROCESS_KEY])
    assert [s.kind for s in stored.steps] == ["agc", "standardize", "log_uint8"]
    assert stored.steps[0].window_samples == 10  # 40 ms at 4 ms
    expected = stored.apply(cube).transpose(0, 2, 1)  # canonical -> display order
    np.testing.assert_array_equal(out.data, expected)
    assert (out.data[2, :, 3] == 128).all()  # the dead trace: code of zero amplitude
    np.testing.assert_array_equal(src.data, before)  # the source is untouched
    assert "dead traces: 1 of 120" in w.report.value
    assert "NaN/inf samples in live traces: 1" in w.report.value


def test_lazy_result_and_saved_pipeline_round_trip(cube_viewer, qtbot, tmp_path):
    viewer, src, cube = cube_viewer
    w = PreprocessWidget(viewer)
    w.add_step("robust_scale")
    w.add_step("clip_std", k=2.0)
    w.add_step("standardize")
    w.move_step(w.rows[2], -2)  # standardize first
    w.remove_step(w.rows[1])  # drop robust scale
    assert [r.kind for r in w.rows] == ["standardize", "clip_std"]
    path = w.save_pipeline(tmp_path / "p.json")
    saved = Pipeline.load(path)
    assert saved.is_fitted and saved.steps[1].k == 2.0
    w.clear_steps()
    assert w._preview is None
    w.load_pipeline(path)
    assert [r.kind for r in w.rows] == ["standardize", "clip_std"] and w.use_stored.value
    w.result_mode.value = "lazy"
    _wait_for(w, qtbot, w.apply())
    out = viewer.layers[-1]
    assert isinstance(out.data, PreprocessedArray)
    assert out.data.pipeline.to_dict()["steps"] == saved.to_dict()["steps"]  # stored statistics
    np.testing.assert_array_equal(np.asarray(out.data[5]), saved.apply(cube[5], axis=1).T)


def test_preprocessing_a_preprocessed_layer_records_both_pipelines(cube_viewer, qtbot, seen,
                                                                  tmp_path):
    viewer, src, cube = cube_viewer
    w = PreprocessWidget(viewer)
    w.add_step("clip_percentile", lower=1.0, upper=99.0)
    _wait_for(w, qtbot, w.apply())
    first = viewer.layers[-1]
    w.clear_steps()
    w.layer.value = first
    w.add_step("agc", window=40.0, unit="ms")
    w.add_step("standardize")
    _wait_for(w, qtbot, w.apply())
    second = viewer.layers[-1]
    assert second.name == "seismic [preprocessed] [preprocessed]"
    # the record turns the raw amplitudes into the layer: what training and prediction use
    stored = Pipeline.from_dict(second.metadata[PREPROCESS_KEY])
    assert [s.kind for s in stored.steps] == ["clip_percentile", "agc", "standardize"]
    assert stored.fit_info["after"]["n_samples"] == NS  # the first fit is kept too
    # (the NaN sample differs: the chain keeps it at zero, the second pass saw a zero there)
    finite = np.isfinite(cube).transpose(0, 2, 1)
    np.testing.assert_allclose(np.asarray(second.data)[finite],
                               stored.apply(cube).transpose(0, 2, 1)[finite], atol=1e-5)
    saved = Pipeline.load(w.save_pipeline(tmp_path / "both.json"))  # for seisseg preprocess
    assert [s.kind for s in saved.steps] == ["clip_percentile", "agc", "standardize"]
    assert "earlier steps come first" in w.status.value
    # uint8 codes cannot be preprocessed further: refused, nothing added
    w.clear_steps()
    w.layer.value = src
    w.add_step("log_uint8")
    _wait_for(w, qtbot, w.apply())
    w.clear_steps()
    w.layer.value = viewer.layers[-1]
    w.add_step("standardize")
    n = len(viewer.layers)
    assert w.apply() is None and len(viewer.layers) == n
    errors = [m for m in seen if "error" in str(m.severity).lower()]
    assert "Preprocess the original amplitudes" in str(errors[-1].message)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([("clip_percentile", {"lower": 99.0, "upper": 1.0})],
         "upper percentile (1) must be above the lower one (99)"),
        ([("standardize", {}), ("agc", {"window": 400.0, "unit": "ms"})],
         "window of 100 samples (400 ms) is longer than the trace (60 samples, 240 ms)"),
        ([("agc", {"window": 61.0, "unit": "samples"})], "longer than the trace"),
        ([("log_uint8", {}), ("standardize", {})], "must be the last step"),
        ([], "no steps"),
    ],
)
def test_bad_parameters_give_a_notification_and_no_layer(cube_viewer, seen, steps, message):
    viewer, _, _ = cube_viewer
    w = PreprocessWidget(viewer)
    for kind, params in steps:
        w.add_step(kind, **params)
    assert w._preview is None  # the preview is withdrawn too
    assert w.apply() is None and w.worker is None
    assert [layer.name for layer in viewer.layers] == ["seismic"]
    assert w.status.state == "failed"
    errors = [n for n in seen if "error" in str(n.severity).lower()]
    assert errors and message in str(errors[-1].message)


def test_every_control_has_a_tooltip(cube_viewer):
    viewer, _, _ = cube_viewer
    w = PreprocessWidget(viewer)
    for kind in ("clip_percentile", "clip_std", "standardize", "robust_scale", "agc", "log_uint8"):
        w.add_step(kind)

    def walk(container):
        for child in container:
            yield child
            if hasattr(child, "__iter__") and not isinstance(child, str):
                yield from walk(child)

    missing = [repr(c) for c in walk(w) if c is not w.status and not c.tooltip]
    assert not missing


def test_an_error_in_the_worker_is_one_notification(cube_viewer, qtbot, seen, monkeypatch):
    import napari_seisseg.preprocess as preprocess

    def broken(*_args, **_kwargs):
        raise OSError("the disk went away")
        yield  # a generator, like preprocess_job

    monkeypatch.setattr(preprocess, "preprocess_job", broken)
    viewer, _, _ = cube_viewer
    w = PreprocessWidget(viewer)
    w.add_step("standardize")
    _wait_for(w, qtbot, w.apply())  # pytest-qt fails the test on an exception in the Qt loop
    assert w.status.state == "failed" and "the disk went away" in w.status.value
    assert [layer.name for layer in viewer.layers] == ["seismic", "seismic [preview]"]
    errors = [n for n in seen if "error" in str(n.severity).lower()]
    assert len(errors) == 1 and w.apply_button.enabled


def test_many_steps_scroll_while_apply_and_progress_stay_in_view(make_napari_viewer, qtbot):
    """Issue 19: docked at 1366 x 768, a long pipeline scrolls (the step just added comes into
    view) and Apply/Stop, the files row, the progress bar and the status stay on screen."""
    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-seisseg", "synthetic")
    _, w = viewer.window.add_plugin_dock_widget("napari-seisseg", "Preprocess")
    viewer.window.resize(1366, 768)
    qtbot.waitUntil(lambda: viewer.window._qt_window.height() <= 768, timeout=5_000)
    for kind in ("clip_percentile", "standardize", "agc", "robust_scale", "clip_std",
                 "log_uint8", "clip_percentile"):
        w.add_step(kind)
    last = w.add_step("agc")
    qtbot.wait(100)

    def shown(native) -> bool:
        region = native.visibleRegion()
        return native.isVisible() and region.boundingRect() == native.rect()

    for control in (w.apply_button, w.stop_button, w.save_button, w.load_button, w.progress):
        assert shown(control.native), control
    assert w.status.native.visibleRegion().boundingRect().height() > 0
    assert shown(last.header.native)  # the new step is in view ...
    assert w.rows[0].native.visibleRegion().isEmpty()  # ... the first ones scrolled away
    assert w.native.minimumSizeHint().height() <= 700
