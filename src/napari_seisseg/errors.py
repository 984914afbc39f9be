"""Exceptions raised by napari-seisseg.

Every error a user can cause derives from :class:`SeisSegError`.  Its message says what is
wrong and then what to do, so the CLI prints it as one line and the widgets show it as a
notification.
"""

from __future__ import annotations


class SeisSegError(ValueError):
    """An error caused by the input (a file, a parameter), with a message meant for users."""


class SegyError(SeisSegError):
    """A SEG-Y file cannot be read or written as asked."""


class GeometryError(SeisSegError):
    """Survey geometry is missing, inconsistent, or does not match the data."""
