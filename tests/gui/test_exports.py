"""Exports for slides and papers: PNG at 2× the view by default (or a chosen scale), SVG/PDF with crisp heatmap
cells, ASCII file names, the whole window as an image."""

from __future__ import annotations

import base64
import re

from PySide6 import QtGui

from rnnlab.config import Experiment
from rnnlab.gui.main_window import MainWindow


def test_png_scale_svg_pdf_and_window_image(qtbot, tmp_path, monkeypatch):
    win = MainWindow(Experiment().replace(task__length=12, model__hidden_size=8), mode="sync", remember=False)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    win.controller.step(10)
    heat = win.views["heatmap"]
    asked = []
    monkeypatch.setattr(win.files, "ask_export", lambda title, default, filt: asked.append(default) or
                        str(tmp_path / default))
    assert win.files.export_plot(heat, "png")
    assert asked[-1] == "heatmap.png" and asked[-1].isascii()
    img = QtGui.QImage(str(tmp_path / "heatmap.png"))
    assert abs(img.width() - 2 * heat.layout_widget.width()) <= 2, (img.width(), heat.layout_widget.width())
    assert win.files.export_plot(heat, "png", str(tmp_path / "h4.png"), scale=4.0)
    assert abs(QtGui.QImage(str(tmp_path / "h4.png")).width() - 4 * heat.layout_widget.width()) <= 4
    # SVG: the 12 × 12 cells are embedded enlarged by whole cells (crisp in any viewer), and the view is unchanged
    assert win.files.export_plot(heat, "svg", str(tmp_path / "h.svg"))
    data = (tmp_path / "h.svg").read_text()
    sizes = []
    for b64 in re.findall(r'data:image/png;base64,([A-Za-z0-9+/=\s]+)', data):
        im = QtGui.QImage.fromData(base64.b64decode(b64.replace("\n", "")))
        sizes.append((im.width(), im.height()))
    assert any(w >= 12 * 8 and w % 12 == 0 for w, h in sizes), sizes
    assert heat.image.image.shape == (12, 12)
    assert win.files.export_plot(heat, "pdf", str(tmp_path / "h.pdf"))
    assert (tmp_path / "h.pdf").read_bytes()[:4] == b"%PDF"
    assert win.files.save_window_image(str(tmp_path / "window.png"))
    wimg = QtGui.QImage(str(tmp_path / "window.png"))
    assert (wimg.width(), wimg.height()) == (2 * win.width(), 2 * win.height())
    for a in win.findChildren(QtGui.QAction):
        assert "∂" not in a.text() or not a.text().endswith(".png")
    win.close()
