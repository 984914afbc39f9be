"""napari widgets (the only place that imports Qt, magicgui widgets or napari.qt)."""
