"""The phase diagram of a sweep as a PNG, drawn with QPainter on a QImage (no window, no extra dependency).

* 2 grid axes: a heat grid, the first key across and the second up, coloured by the mean success of the cell
  (the fraction of its seeds whose held-out success reached the threshold), with ``k/n`` and the mean held-out
  success rate written in each cell when the cells are big enough, a colour bar and a title.
* 1 axis (or none): bars of the mean success per value, with the mean held-out success rate as a marker.
* 3 or more axes: small multiples, one heat grid of the first two keys per combination of the other keys, with
  one shared colour bar. Above 36 panels only the third key gets panels and the others are averaged over (the
  subtitle says so).

Cells with no finished run (a cancelled sweep) are hatched grey. Qt is imported when :func:`phase_png` runs; an
offscreen platform is chosen when there is no display.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["phase_png", "SYMBOLS"]

#: short symbols shown beside the keys the lab's lessons talk about
SYMBOLS = {
    "model.spectral_radius": "ρ",
    "task.length": "T",
    "model.hidden_size": "H",
    "training.learning_rate": "η",
    "remedies.clip_threshold": "c",
    "training.momentum": "μ",
    "task.batch_size": "B",
}

# viridis at 0, 0.1, ..., 1
_VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
            "#bddf26", "#fde725"]
MAX_PANELS = 36


def _ensure_app():
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:  # a QApplication (not only a QGuiApplication), so widgets still work in the same process
        app = QtWidgets.QApplication([sys.argv[0] if sys.argv and sys.argv[0] else "rnnlab"])
    return app


def _label(key: str) -> str:
    sym = SYMBOLS.get(key)
    return f"{sym}   ({key})" if sym else key


def _tick(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


class _Painter:
    """QPainter helpers in pixels: fonts, text boxes, colours."""

    def __init__(self, img):
        from PySide6 import QtGui

        self.QtGui = QtGui
        from PySide6 import QtCore

        self.QtCore = QtCore
        self.p = QtGui.QPainter(img)
        self.p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        self.p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)

    def font(self, px: int, bold: bool = False):
        f = self.QtGui.QFont()
        f.setFamilies(["DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial", "Helvetica"])
        f.setPixelSize(px)
        f.setBold(bold)
        return f

    def width(self, text: str, px: int, bold: bool = False) -> int:
        return self.QtGui.QFontMetrics(self.font(px, bold)).horizontalAdvance(text)

    def text(self, x: float, y: float, w: float, h: float, text: str, px: int, bold: bool = False,
             align: str = "c", color: str = "#000000") -> None:
        Qt = self.QtCore.Qt
        flags = {"c": Qt.AlignmentFlag.AlignCenter,
                 "l": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                 "r": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter}[align]
        self.p.setFont(self.font(px, bold))
        self.p.setPen(self.QtGui.QColor(color))
        self.p.drawText(self.QtCore.QRectF(x, y, w, h), int(flags.value if hasattr(flags, "value") else flags),
                        text)

    def vtext(self, cx: float, cy: float, text: str, px: int, bold: bool = False) -> None:
        """Text rotated by −90° centred on (cx, cy) (a y-axis label)."""
        w = self.width(text, px, bold) + 8
        self.p.save()
        self.p.translate(cx, cy)
        self.p.rotate(-90)
        self.text(-w / 2, -px, w, 2 * px, text, px, bold)
        self.p.restore()

    def rect(self, x, y, w, h, fill: str | None, pen: str | None = None, hatch: bool = False) -> None:
        QtGui, Qt = self.QtGui, self.QtCore.Qt
        self.p.setPen(QtGui.QPen(QtGui.QColor(pen), 1) if pen else Qt.PenStyle.NoPen)
        if hatch:
            self.p.setBrush(QtGui.QBrush(QtGui.QColor("#b0b0b0"), Qt.BrushStyle.BDiagPattern))
            self.p.fillRect(self.QtCore.QRectF(x, y, w, h), QtGui.QColor("#eeeeee"))
        else:
            self.p.setBrush(QtGui.QColor(fill) if fill else Qt.BrushStyle.NoBrush)
        self.p.drawRect(self.QtCore.QRectF(x, y, w, h))

    def line(self, x0, y0, x1, y1, color: str = "#000000", width: float = 1.0, dash: bool = False) -> None:
        QtGui = self.QtGui
        pen = QtGui.QPen(QtGui.QColor(color), width)
        if dash:
            pen.setStyle(self.QtCore.Qt.PenStyle.DashLine)
        self.p.setPen(pen)
        self.p.drawLine(self.QtCore.QPointF(x0, y0), self.QtCore.QPointF(x1, y1))

    def diamond(self, cx, cy, r, fill: str = "#000000") -> None:
        QtGui, QtCore = self.QtGui, self.QtCore
        self.p.setPen(QtGui.QPen(QtGui.QColor("#ffffff"), 1.5))
        self.p.setBrush(QtGui.QColor(fill))
        self.p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(cx, cy - r), QtCore.QPointF(cx + r, cy),
                                            QtCore.QPointF(cx, cy + r), QtCore.QPointF(cx - r, cy)]))

    def end(self) -> None:
        self.p.end()


def _colour(v: float) -> str:
    """Viridis at v ∈ [0, 1] as #rrggbb."""
    v = min(1.0, max(0.0, v)) * (len(_VIRIDIS) - 1)
    i = min(int(v), len(_VIRIDIS) - 2)
    t = v - i
    a, b = _VIRIDIS[i], _VIRIDIS[i + 1]
    ca = [int(a[k:k + 2], 16) for k in (1, 3, 5)]
    cb = [int(b[k:k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb))


def _ink(v: float) -> str:
    """Black or white text on the colour of v."""
    c = _colour(v)
    r, g, b = (int(c[k:k + 2], 16) / 255 for k in (1, 3, 5))
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


# --- layout pieces ----------------------------------------------------------------------------------------------

def _heat(P: _Painter, x0: float, y0: float, cw: float, ch: float, xs: list, ys: list, cell, show_text: bool,
          xkey: str, ykey: str, tick_px: int, label_px: int) -> None:
    """A heat grid whose cell area starts at (x0, y0); tick labels and axis labels go left of and below it."""
    nx, ny = len(xs), len(ys)
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            c = cell(x, y)
            cx, cy = x0 + i * cw, y0 + (ny - 1 - j) * ch
            if not c or not c["n"]:
                P.rect(cx, cy, cw, ch, None, "#ffffff", hatch=True)
                if show_text and cw >= 48:
                    P.text(cx, cy, cw, ch, "no run", 12, color="#555555")
                continue
            v = c["mean_success"]
            P.rect(cx, cy, cw, ch, _colour(v), "#ffffff")
            if show_text:
                ink = _ink(v)
                main = f"{c['successes']}/{c['n']}"
                lines = [(main, min(18, max(11, int(ch * 0.3))), True)]
                if ch >= 44 and cw >= 48:
                    lines.append((f"{c['mean_metric']:.2f}", min(13, max(10, int(ch * 0.2))), False))
                if c["exploded"] and ch >= 60 and cw >= 64:
                    lines.append((f"{c['exploded']} exploded", 11, False))
                elif c["exploded"]:
                    lines[0] = (main + " !", lines[0][1], True)
                tot = sum(px * 1.25 for _, px, _ in lines)
                ty = cy + (ch - tot) / 2
                for text, px, bold in lines:
                    P.text(cx, ty, cw, px * 1.25, text, px, bold, color=ink)
                    ty += px * 1.25
    P.rect(x0, y0, nx * cw, ny * ch, None, "#444444")
    # ticks
    for i, x in enumerate(xs):
        P.text(x0 + i * cw - 20, y0 + ny * ch + 4, cw + 40, tick_px + 6, _tick(x), tick_px)
    tw = max(P.width(_tick(y), tick_px) for y in ys)
    for j, y in enumerate(ys):
        P.text(x0 - tw - 12, y0 + (ny - 1 - j) * ch, tw + 6, ch, _tick(y), tick_px, align="r")
    P.text(x0 - 40, y0 + ny * ch + tick_px + 12, nx * cw + 80, label_px + 8, _label(xkey), label_px, True)
    P.vtext(x0 - tw - 18 - label_px * 0.7, y0 + ny * ch / 2, _label(ykey), label_px, True)


def _colourbar(P: _Painter, x: float, y: float, h: float, threshold: float, missing: bool) -> None:
    w = 22
    n = max(2, int(h))
    for k in range(n):
        v = 1 - k / (n - 1)
        P.rect(x, y + k * h / n, w, h / n + 1, _colour(v), None)
    P.rect(x, y, w, h, None, "#444444")
    for v in (0, 0.25, 0.5, 0.75, 1):
        ty = y + (1 - v) * h
        P.line(x + w, ty, x + w + 5, ty, "#444444")
        P.text(x + w + 8, ty - 9, 40, 18, f"{v:g}", 13, align="l")
    P.vtext(x + w + 58, y + h / 2, "mean success", 14, True)
    P.vtext(x + w + 76, y + h / 2, f"(share of seeds with success ≥ {threshold:g})", 12)
    if missing:
        P.rect(x, y + h + 16, w, 16, None, "#888888", hatch=True)
        P.text(x + w + 6, y + h + 12, 90, 24, "no run", 12, align="l")


def _title(P: _Painter, W: int, title: str, subtitle: list[str]) -> int:
    P.text(10, 10, W - 20, 28, title, 20, True)
    y = 42
    for s in subtitle:
        P.text(10, y, W - 20, 20, s, 13, color="#333333")
        y += 20
    return y + 8


def _text_width(title: str, sub: list[str]) -> int:
    from PySide6 import QtGui

    img = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
    P = _Painter(img)
    w = max([P.width(title, 20, True), *(P.width(s, 13) for s in sub)])
    P.end()
    return w + 40


def _heat_size(nx: int, ny: int, small: bool) -> tuple[float, float]:
    if small:
        return min(80.0, max(30.0, 360 / nx)), min(64.0, max(26.0, 260 / ny))
    return min(120.0, max(40.0, 640 / nx)), min(96.0, max(34.0, 440 / ny))


# --- the picture ------------------------------------------------------------------------------------------------

def phase_png(rows: Sequence[dict], grid: dict[str, Sequence], path: str | Path, *, title: str | None = None,
              subtitle: str | None = None, threshold: float = 0.9, total_runs: int | None = None) -> Path:
    """Draw the phase diagram of ``rows`` (see :mod:`rnnlab.sweep`) over ``grid`` (``{key: [values]}``, axes in
    order) to ``path`` (PNG). ``total_runs`` marks a partial sweep in the subtitle. Returns the path."""
    from .sweep import summarize

    _ensure_app()
    from PySide6 import QtGui

    keys = list(grid)
    grid = {k: list(v) for k, v in grid.items()}
    rows = list(rows)
    title = title or "Phase diagram: where does training succeed?"
    sub = [subtitle] if subtitle else []
    if total_runs is not None and len(rows) < total_runs:
        sub.append(f"PARTIAL: {len(rows)} of {total_runs} runs finished (the sweep was cancelled); hatched cells "
                   "have no finished run")
    sub.append(f"colour: share of the seeds whose held-out success reached {threshold:g}")

    if len(keys) <= 1:
        return _bars(rows, grid, keys, Path(path), title, sub, threshold, summarize)

    kx, ky, extra = keys[0], keys[1], keys[2:]
    xs, ys = grid[kx], grid[ky]
    averaged: list[str] = []
    panels_keys = extra
    n_all = math.prod(len(grid[k]) for k in extra)
    if n_all > MAX_PANELS:
        panels_keys, averaged = extra[:1], extra[1:]
        sub.append(f"one panel per {extra[0]}, averaged over {', '.join(averaged)} ({n_all} panels would be "
                   "too many to read)")
    sub_grid = {k: grid[k] for k in [kx, ky, *panels_keys]}
    cells = summarize(rows, sub_grid)
    panels = list(itertools.product(*(grid[k] for k in panels_keys)))
    small = len(panels) > 1
    cw, ch = _heat_size(len(xs), len(ys), small)
    show_text = len(xs) * len(ys) <= 150 and cw >= 30 and ch >= 24
    if show_text:
        sub.append("cell: successful runs / runs" + (", and the mean held-out success rate" if ch >= 44 and cw >= 48
                                                      else "") + "; ! = a run exploded")

    # measure
    img0 = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
    P0 = _Painter(img0)
    tick_px, label_px = (12, 13) if small else (14, 15)
    tw = max(P0.width(_tick(y), tick_px) for y in ys)
    P0.end()
    left = tw + 18 + label_px * 1.6 + 14
    pw, ph = len(xs) * cw, len(ys) * ch
    panel_head = 26 if panels_keys else 0
    bottom = tick_px + label_px + 34
    ncols = min(len(panels), max(1, math.ceil(math.sqrt(len(panels)))), 4) if small else 1
    nrows = math.ceil(len(panels) / ncols)
    box_w, box_h = left + pw + 24, panel_head + ph + bottom
    head = 52 + 20 * len(sub)
    missing = any(c["n"] == 0 for c in cells.values())
    W = int(max(560, 16 + ncols * box_w + 120, _text_width(title, sub)))
    cb_h = max(200.0, min(ph, 420.0) if not small else min(nrows * box_h - bottom, 420.0))
    H = int(max(head + nrows * box_h, head + panel_head + cb_h + (48 if missing else 0)) + 12)

    img = QtGui.QImage(W, H, QtGui.QImage.Format.Format_ARGB32)
    img.fill(QtGui.QColor("#ffffff"))
    P = _Painter(img)
    top = _title(P, W, title, sub)
    for n, combo in enumerate(panels):
        r, c = divmod(n, ncols)
        bx, by = 16 + c * box_w, top + r * box_h
        if panels_keys:
            label = ", ".join(f"{SYMBOLS.get(k, k)} = {_tick(v)}" for k, v in zip(panels_keys, combo))
            P.text(bx + left, by, pw, 22, label, 14, True)

        def cell(x, y, combo=combo):
            return cells.get((x, y, *combo))

        _heat(P, bx + left, by + panel_head, cw, ch, xs, ys, cell, show_text, kx, ky, tick_px, label_px)
    _colourbar(P, 16 + ncols * box_w + 4, top + panel_head, cb_h, threshold, missing)
    P.end()
    return _save(img, Path(path))


def _bars(rows, grid, keys, path: Path, title, sub, threshold, summarize) -> Path:
    from PySide6 import QtGui

    cells = summarize(rows, grid)
    cats = list(cells)
    labels = [_tick(c[0]) if c else "all runs" for c in cats]
    slot = min(120.0, max(44.0, 720 / max(1, len(cats))))
    slot = max(slot, 320 / max(1, len(cats)))  # a plot area of at least 320 px, even for one bar
    ph = 320.0
    sub = sub + ["bar: successful runs / runs (! = a run exploded);  ◆ mean held-out success rate"]
    left, right = 90, 40
    W = int(max(600, left + slot * len(cats) + right, _text_width(title, sub)))
    head = 52 + 20 * len(sub)
    H = int(head + ph + 90)
    img = QtGui.QImage(W, H, QtGui.QImage.Format.Format_ARGB32)
    img.fill(QtGui.QColor("#ffffff"))
    P = _Painter(img)
    top = _title(P, W, title, sub) + 10
    x0, y0 = left, top
    pw = slot * len(cats)
    for v in (0, 0.25, 0.5, 0.75, 1):
        yy = y0 + (1 - v) * ph
        P.line(x0, yy, x0 + pw, yy, "#dddddd")
        P.text(x0 - 50, yy - 9, 42, 18, f"{v:g}", 13, align="r")
    P.line(x0, y0 + (1 - threshold) * ph, x0 + pw, y0 + (1 - threshold) * ph, "#c0392b", 1.2, dash=True)
    P.text(x0 + pw - 170, y0 + (1 - threshold) * ph - 18, 170, 16, f"◆ success threshold {threshold:g}", 11,
           align="r", color="#c0392b")
    for i, c in enumerate(cats):
        d = cells[c]
        bx = x0 + i * slot + slot * 0.2
        bw = slot * 0.6
        if d["n"]:
            v = d["mean_success"]
            bh = max(1.0, v * ph)
            P.rect(bx, y0 + ph - bh, bw, bh, _colour(v), "#444444")
            txt = f"{d['successes']}/{d['n']}" + (" !" if d["exploded"] else "")
            P.text(bx - 10, y0 + ph - bh - 20, bw + 20, 18, txt, 13, True)
            P.diamond(bx + bw / 2, y0 + (1 - d["mean_metric"]) * ph, 7)
        else:
            P.rect(bx, y0, bw, ph, None, "#aaaaaa", hatch=True)
            P.text(bx, y0 + ph / 2 - 10, bw, 20, "no run", 12, color="#666666")
        P.text(x0 + i * slot, y0 + ph + 4, slot, 18, labels[i], 13)
    P.line(x0, y0 + ph, x0 + pw, y0 + ph, "#444444")
    P.line(x0, y0, x0, y0 + ph, "#444444")
    P.text(x0, y0 + ph + 28, pw, 20, _label(keys[0]) if keys else "(no grid: all runs)", 15, True)
    P.vtext(24, y0 + ph / 2, "mean success", 15, True)
    P.end()
    return _save(img, path)


def _save(img, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    if not img.save(str(tmp), "PNG"):
        raise OSError(f"could not write {path}")
    tmp.replace(path)
    return path
