"""The model store: its folder, the session's models, automatic saves."""

from __future__ import annotations

import os

from napari_seisseg.store import (
    MODEL_DIR_ENV,
    ModelEntry,
    ModelStore,
    autosave_path,
    bundle_file_name,
    model_dir,
    prune_autosaves,
)


def test_model_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    assert model_dir() == tmp_path


def test_the_session_store_names_models_uniquely_and_says_when_it_changes():
    store, changes = ModelStore(), []
    store.changed.connect(lambda: changes.append(1))
    store.add(ModelEntry("m", None, {}))
    assert store.unique_name("m") == "m (2)" and store.unique_name("n") == "n"
    store.add(ModelEntry("m (2)", None, {}))
    assert store.names() == ["m", "m (2)"] and store.get("m").name == "m"
    store.remove("m")
    store.remove("absent")  # nothing to forget: no notice
    assert store.names() == ["m (2)"] and len(changes) == 3
    store.clear()
    assert store.entries() == [] and len(changes) == 4


def test_bundle_file_name():
    assert bundle_file_name("unet2d · salt/labels") == "unet2d___salt_labels.safetensors"
    assert bundle_file_name("···") == "model.safetensors"


def test_autosaves_are_unique_and_only_the_newest_are_kept(tmp_path):
    first = autosave_path("unet2d · salt/labels", tmp_path)
    assert first.parent == tmp_path and first.name.endswith("-unet2d_salt_labels.safetensors")
    first.write_bytes(b"x")
    second = autosave_path("unet2d · salt/labels", tmp_path)
    assert second != first  # same second, same name: still a new file
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "my salt model.safetensors").write_bytes(b"x")  # saved here by the user
    os.utime(tmp_path / "my salt model.safetensors", (1, 1))  # the oldest of all
    for i in range(5):
        f = tmp_path / f"20260101-00000{i}-m{i}.safetensors"
        f.write_bytes(b"x")
        os.utime(f, (1000 + i, 1000 + i))
    removed = prune_autosaves(tmp_path, keep=3)
    assert sorted(p.name[16:] for p in removed) == ["m0.safetensors", "m1.safetensors",
                                                    "m2.safetensors"]
    assert (tmp_path / "notes.txt").exists() and first.exists()
    assert (tmp_path / "my salt model.safetensors").exists()  # never pruned


def test_save_entry_writes_the_bundle_and_keeps_the_path(tmp_path, monkeypatch):
    import napari_seisseg.bundle as bundle
    from napari_seisseg.store import MODEL_STORE, save_entry

    written = []

    def fake_save(path, model, card):
        written.append((path, model, card))
        return str(path)

    monkeypatch.setattr(bundle, "save_bundle", fake_save)
    entry = ModelEntry("m", "weights", {"model": {}})
    try:
        out = save_entry(entry, tmp_path / "m.safetensors")
        assert out == tmp_path / "m.safetensors" == entry.path
        assert written == [(tmp_path / "m.safetensors", "weights", {"model": {}})]
        assert MODEL_STORE.get("m") is entry
    finally:
        MODEL_STORE.remove("m")
