"""Geometric checks of the window as drawn: what the geometry test and ``rnnlab selftest --layout`` assert.

For the window: it fits the screen's available geometry; the status bar and every view on screen lie inside it.
For every view on screen: its plot titles, axis labels, tick labels and colour bars lie inside the view, and no
tick label overlaps another tick label or its axis title; the texts drawn on a plot (reference lines' labels,
annotations) lie inside their plot and overlap no other; the view's own widgets (captions, buttons, choosers) lie
inside it, overlap no other, and show their whole text (a wrapped caption is as tall as its text needs, a button as
wide). Each problem is one line naming the view and the text.
"""

from __future__ import annotations

import itertools

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["view_problems", "widget_problems", "window_problems", "text_boxes", "all_pages_problems", "fit_to",
           "compare_problems"]

#: pixels a box may stick out (antialiasing, rounding of scene to widget coordinates)
SLACK = 2.0


def _to_view(view, item: QtWidgets.QGraphicsItem, rect: QtCore.QRectF | None = None) -> QtCore.QRectF:
    """``rect`` (in ``item``'s coordinates; default its bounding rect) in the view widget's coordinates."""
    gv = view.layout_widget
    scene_rect = item.mapRectToScene(rect if rect is not None else item.boundingRect())
    poly = gv.mapFromScene(scene_rect)
    r = QtCore.QRectF(poly.boundingRect())
    top_left = gv.viewport().mapTo(view, r.topLeft().toPoint())
    return QtCore.QRectF(QtCore.QPointF(top_left), r.size())


def _tick_rects(ax: pg.AxisItem) -> list[tuple[QtCore.QRectF, str]]:
    """The tick labels an axis draws: (rect in the axis' coordinates, text)."""
    img = QtGui.QImage(4, 4, QtGui.QImage.Format.Format_ARGB32)
    p = QtGui.QPainter(img)
    try:
        if ax.style.get("tickFont"):
            p.setFont(ax.style["tickFont"])
        specs = ax.generateDrawSpecs(p)
    finally:
        p.end()
    if specs is None:
        return []
    return [(QtCore.QRectF(r), s) for r, _, s in specs[2] if s]


def _label_rect(ax: pg.AxisItem) -> QtCore.QRectF | None:
    if not ax.labelText or not ax.label.isVisible():
        return None
    return ax.mapRectFromItem(ax.label, ax.label.boundingRect())


def text_boxes(view) -> list[tuple[str, QtCore.QRectF]]:
    """Every title, axis label, tick label and colour bar of a view: (what, rect in the view's coordinates)."""
    out: list[tuple[str, QtCore.QRectF]] = []
    for item in _items(view):
        if isinstance(item, pg.PlotItem):
            if item.titleLabel.text and item.titleLabel.isVisible():
                out.append((f"title {item.titleLabel.text!r}", _to_view(view, item.titleLabel.item)))
            axes = [item.getAxis(n) for n in ("left", "bottom", "right", "top")]
        elif isinstance(item, pg.ColorBarItem):
            out.append(("colour bar", _to_view(view, item)))
            axes = [item.axis]
        else:
            continue
        for ax in axes:
            if not ax.isVisible():
                continue
            lab = _label_rect(ax)
            if lab is not None:
                out.append((f"axis title {ax.labelText!r}", _to_view(view, ax, lab)))
            for r, s in _tick_rects(ax):
                out.append((f"tick {s!r} ({ax.labelText or ax.orientation})", _to_view(view, ax, r)))
    return out


def _items(view):
    ci = view.layout_widget.ci
    for item in ci.items:
        if item.isVisible():
            yield item


def view_problems(view) -> list[str]:
    """What is cut or overlaps in one view (empty: it reads)."""
    name = view.view_id or type(view).__name__
    probs: list[str] = []
    if view.width() < 20 or view.height() < 20:
        return [f"{name}: only {view.width()}×{view.height()} px"]
    # drawn (twice: an axis sizes itself to the tick labels it drew, and the layout follows on the next pass)
    from PySide6.QtWidgets import QApplication

    view.grab()
    QApplication.processEvents()
    view.grab()
    inside = QtCore.QRectF(view.rect()).adjusted(-SLACK, -SLACK, SLACK, SLACK)
    for item in _items(view):
        if not isinstance(item, (pg.PlotItem, pg.ColorBarItem)):
            continue
        axes = ([item.getAxis(n) for n in ("left", "bottom", "right", "top")] if isinstance(item, pg.PlotItem)
                else [item.axis])
        if isinstance(item, pg.PlotItem) and item.titleLabel.text and item.titleLabel.isVisible():
            r = _to_view(view, item.titleLabel.item)
            if not inside.contains(r):
                probs.append(f"{name}: title {item.titleLabel.text!r} cut by the view's edge")
        if isinstance(item, pg.ColorBarItem) and not inside.contains(_to_view(view, item)):
            probs.append(f"{name}: colour bar cut by the view's edge")
        for ax in axes:
            if not ax.isVisible() or ax.width() < 1 or ax.height() < 1:
                continue
            what = ax.labelText or ax.orientation
            lab = _label_rect(ax)
            ticks = _tick_rects(ax)
            if lab is not None:
                if not inside.contains(_to_view(view, ax, lab)):
                    probs.append(f"{name}: axis title {ax.labelText!r} cut by the view's edge")
                for r, s in ticks:
                    if r.adjusted(1, 1, -1, -1).intersects(lab):
                        probs.append(f"{name}: tick label {s!r} overlaps the axis title {ax.labelText!r}")
                        break
            for (r1, s1), (r2, s2) in itertools.combinations(ticks, 2):
                if r1.adjusted(1, 1, -1, -1).intersects(r2.adjusted(1, 1, -1, -1)):
                    probs.append(f"{name}: tick labels {s1!r} and {s2!r} overlap ({what})")
                    break
            for r, s in ticks:
                if not inside.contains(_to_view(view, ax, r)):
                    probs.append(f"{name}: tick label {s!r} cut by the view's edge ({what})")
                    break
    probs += _plot_text_problems(view, name)
    probs += widget_problems(view, name)
    return probs


def _short(text: str, n: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _plot_text_problems(view, name: str) -> list[str]:
    """The texts drawn in a plot's data area (``pg.TextItem``: line labels, annotations): none cut by the plot's
    edge, none over another (a text wholly outside the area is clipped away, like the line it labels)."""
    probs: list[str] = []
    for item in _items(view):
        if not isinstance(item, pg.PlotItem):
            continue
        vb = item.getViewBox()
        area = _to_view(view, vb).adjusted(-SLACK, -SLACK, SLACK, SLACK)
        texts = []
        for ti in vb.allChildren():
            if not isinstance(ti, pg.TextItem) or not ti.isVisible() or not ti.textItem.toPlainText().strip():
                continue
            r = _to_view(view, ti.textItem)
            if not r.intersects(area):  # wholly outside: clipped away with what it labels (a line out of range)
                continue
            texts.append((r, ti.textItem.toPlainText()))
            if not area.contains(r):
                probs.append(f"{name}: text {_short(ti.textItem.toPlainText())!r} cut by the plot's edge")
        for (r1, s1), (r2, s2) in itertools.combinations(texts, 2):
            if r1.adjusted(1, 1, -1, -1).intersects(r2.adjusted(1, 1, -1, -1)):
                probs.append(f"{name}: texts {_short(s1)!r} and {_short(s2)!r} overlap")
    return probs


def _text_fits(w: QtWidgets.QWidget) -> str | None:
    """Why a widget does not show its whole text (None: it does)."""
    if isinstance(w, QtWidgets.QLabel):
        if not w.text().strip():
            return None
        if w.wordWrap():
            need = w.heightForWidth(w.width())
            if need > w.height() + SLACK:
                return f"needs {need} px of height, has {w.height()}"
            return None
        hint = w.sizeHint()
        if hint.width() > w.width() + SLACK or hint.height() > w.height() + SLACK:
            return f"needs {hint.width()}×{hint.height()} px, has {w.width()}×{w.height()}"
        return None
    if isinstance(w, (QtWidgets.QAbstractButton, QtWidgets.QComboBox)):
        hint = w.sizeHint()
        if hint.width() > w.width() + SLACK:
            return f"needs {hint.width()} px of width, has {w.width()}"
    return None


def _text_of(w: QtWidgets.QWidget) -> str:
    if isinstance(w, QtWidgets.QComboBox):
        return w.currentText()
    return w.text() if hasattr(w, "text") else type(w).__name__


def widget_problems(view, name: str | None = None) -> list[str]:
    """The view's own widgets (labels, buttons, choosers; the plot's canvas aside): each inside the view, none over
    another, each showing its whole text. The view's "Press Play" overlay covers the view by design: only its text
    is checked."""
    name = name or view.view_id or type(view).__name__
    probs: list[str] = []
    inside = QtCore.QRect(view.rect()).adjusted(-1, -1, 1, 1)
    overlay = getattr(view, "_empty", None)
    shown = []
    for w in view.findChildren(QtWidgets.QWidget):
        if not isinstance(w, (QtWidgets.QLabel, QtWidgets.QAbstractButton, QtWidgets.QComboBox)):
            continue
        if not w.isVisibleTo(view) or isinstance(w.parentWidget(), QtWidgets.QComboBox):
            continue
        if any(isinstance(a, pg.GraphicsView) for a in _ancestors(w, view)):
            continue
        r = QtCore.QRect(w.mapTo(view, QtCore.QPoint(0, 0)), w.size())
        what = f"{type(w).__name__[1:].lower()} {_short(_text_of(w))!r}"
        if not inside.contains(r):
            probs.append(f"{name}: {what} outside the view ({r.x()}, {r.y()}, {r.width()}×{r.height()} in "
                         f"{view.width()}×{view.height()})")
        why = _text_fits(w)
        if why:
            probs.append(f"{name}: {what} cut: {why}")
        if w is not overlay:
            shown.append((r, what, w))
    for (r1, s1, w1), (r2, s2, w2) in itertools.combinations(shown, 2):
        if w1.isAncestorOf(w2) or w2.isAncestorOf(w1):
            continue
        if r1.intersects(r2):
            probs.append(f"{name}: {s1} and {s2} overlap")
    return probs


def _ancestors(w: QtWidgets.QWidget, stop: QtWidgets.QWidget):
    p = w.parentWidget()
    while p is not None and p is not stop:
        yield p
        p = p.parentWidget()


def window_problems(win, screen: QtCore.QRect | None = None) -> list[str]:
    """What does not fit in the main window ``win`` as it is now on ``screen`` (default: its available
    geometry)."""
    probs: list[str] = []
    avail = screen if screen is not None else win.available_geometry()
    frame = win.frameGeometry()
    if frame.width() > avail.width() or frame.height() > avail.height():
        probs.append(f"window {frame.width()}×{frame.height()} larger than the screen's {avail.width()}×"
                     f"{avail.height()}")
    if win.minimumSizeHint().width() > avail.width() or win.minimumSizeHint().height() > avail.height():
        m = win.minimumSizeHint()
        probs.append(f"the window cannot shrink below {m.width()}×{m.height()}")
    wrect = win.rect()
    sb = win.statusBar()
    if sb.isVisible() and not wrect.contains(QtCore.QRect(sb.mapTo(win, QtCore.QPoint(0, 0)), sb.size())):
        probs.append("status bar outside the window")
    for vid in win.view_area.shown_ids():
        view = win.views[vid]
        if not view.isVisible():
            probs.append(f"{vid}: laid out but not visible")
            continue
        r = QtCore.QRect(view.mapTo(win, QtCore.QPoint(0, 0)), view.size())
        if not wrect.contains(r):
            probs.append(f"{vid}: outside the window ({r.x()}, {r.y()}, {r.width()}×{r.height()})")
        probs += view_problems(view)
    return probs


def fit_to(win: QtWidgets.QWidget, rect: QtCore.QRect) -> None:
    """Place a shown window so that its frame fills ``rect`` (a screen's available geometry)."""
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    frame, geo = win.frameGeometry(), win.geometry()
    win.resize(rect.width() - (frame.width() - geo.width()), rect.height() - (frame.height() - geo.height()))
    win.move(rect.topLeft())
    QApplication.processEvents()


def all_pages_problems(win, screen: QtCore.QRect | None = None) -> list[str]:
    """:func:`window_problems` on every page of the plot area (then back to the page shown before)."""
    from PySide6.QtWidgets import QApplication

    area = win.view_area
    page0 = area.page
    probs: list[str] = []
    for i, page in enumerate(area.pages()):
        if page:
            area.show_view(page[0])
        QApplication.processEvents()
        probs += [p for p in window_problems(win, screen) if p not in probs]
    area._set_page(page0)
    return probs


def compare_problems(cw, screen: QtCore.QRect) -> list[str]:
    """The compare window: it fits ``screen``; its views read."""
    probs = []
    frame = cw.frameGeometry()
    if frame.width() > screen.width() or frame.height() > screen.height():
        probs.append(f"compare window {frame.width()}×{frame.height()} larger than the screen's "
                     f"{screen.width()}×{screen.height()}")
    for view in [*cw.heat.values(), cw.overlay]:
        probs += [f"compare: {p}" for p in view_problems(view)]
    return probs
