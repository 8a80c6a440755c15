"""Test setup shared by every tier: headless Qt, one BLAS thread, isolated settings, no dangling workers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: threads only add contention
os.environ.setdefault("QT_API", "pyside6")
