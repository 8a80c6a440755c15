"""The window's plot area: every registered view, laid out for the space there is, and kept true to the current run.

Layout. Each view needs a minimum size to be read (:data:`MIN_VIEW`, in logical pixels, times the font scale of
presentation mode). The area shows the chosen views in a grid whose cells are at least that large; when they do
not all fit, the views are split into *pages* (tabs above the grid) rather than shrunk below readability. One view
can be *focused* (double-click it, or press its number key): it then fills the area, and the same key or a
double-click brings the grid back. A lesson's watched views come first, so they sit on the first page.

Truth. A frame whose snapshot starts a new run (a reset: new preset, opened file, lesson step, Reset, a changed
length or width) first clears every view, so no curve of the previous run survives and every matrix view refits
to the new T and H; a rewind truncates the time series at the step it went back to. :meth:`ViewArea.new_run`
clears at once (before the frame arrives), so an export made in between holds nothing of the old run.

Building. A view is built the first time it is needed (:class:`Views`): the views of the first page before the
window is first drawn, the others one per event-loop pass after it (or at once, wherever a view is asked for:
``views[vid]``, a page turned to, a lesson that watches it, an export). Until it is built a view's frames wait
for it merged, as those of a built view that has not drawn yet do, and it draws them when it is built: a view
built late shows what it would show had it been built at the start (the window's scale and every frame of the
current run).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Callable

from PySide6 import QtCore, QtWidgets

from ..train.snapshot import Snapshot
from .plots.base import SeriesBuffer, no_overlapping_ticks, plot_axes

__all__ = ["ViewArea", "Views", "MIN_VIEW", "grid_for"]

#: the smallest (width, height) at which a view's title, axes and colour bar can be read, at font scale 1
MIN_VIEW = (360, 270)


def grid_for(n: int, width: int, height: int, min_w: float, min_h: float) -> tuple[int, int, int]:
    """``(columns, rows, per_page)`` for ``n`` views in ``width`` × ``height`` pixels with cells of at least
    ``min_w`` × ``min_h``: all views on one page when they fit, else as many per page as fit (at least one)."""
    cols_max = max(1, int(width // min_w))
    rows_max = max(1, int(height // min_h))
    if n <= 0:
        return 1, 1, 1
    if n > cols_max * rows_max:
        return cols_max, rows_max, cols_max * rows_max
    best = None
    for c in range(1, cols_max + 1):
        r = math.ceil(n / c)
        if r > rows_max:
            continue
        cell_w, cell_h = width / c, height / r
        # fewest empty cells, then cells closest to the 4:3 a plot reads best at
        score = (c * r - n, abs(math.log((cell_w / cell_h) / (4 / 3))))
        if best is None or score < best[0]:
            best = (score, c, r)
    _, c, r = best
    return c, r, n


class Views(Mapping):
    """The window's views by id, in the registry's order, each built the first time it is looked up.

    ``views[vid]`` builds the view if it does not exist yet (and hands it to ``on_build``); iterating gives the
    ids without building anything, and ``values()`` / ``items()`` build every view (so code that needs all of them
    gets all of them). :meth:`built` is what exists now, for the work that only concerns views already drawn."""

    def __init__(self, classes: Mapping[str, type], on_build: Callable[[str, QtWidgets.QWidget], None]):
        self._classes = dict(classes)
        self._built: dict[str, QtWidgets.QWidget] = {}
        self._on_build = on_build

    def __getitem__(self, vid: str) -> QtWidgets.QWidget:
        view = self._built.get(vid)
        if view is None:
            view = self._built[vid] = self._classes[vid]()  # (a KeyError for an unknown id)
            self._on_build(vid, view)
        return view

    def __iter__(self):
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __contains__(self, vid) -> bool:
        return vid in self._classes

    def title(self, vid: str) -> str:
        """The view's title (a class attribute: nothing is built)."""
        return self._classes[vid].title

    def is_built(self, vid: str) -> bool:
        return vid in self._built

    def built(self) -> dict[str, QtWidgets.QWidget]:
        """The views built so far, by id, in the registry's order."""
        return {vid: self._built[vid] for vid in self._classes if vid in self._built}


class _ViewEvents(QtCore.QObject):
    """Turns a double-click anywhere on a view into a focus toggle, and tells the area when a view is first drawn."""

    def __init__(self, area: "ViewArea", vid: str):
        super().__init__(area)
        self.area, self.vid = area, vid

    def eventFilter(self, obj, ev):  # noqa: N802
        t = ev.type()
        if t == QtCore.QEvent.Type.MouseButtonDblClick:
            self.area.toggle_focus(self.vid)
            return True
        if t == QtCore.QEvent.Type.Paint and not self.area._painted:
            self.area._painted = True  # the window is on screen: the other views are built now, a pass at a time
            self.area.build_rest()
        return False


class ViewArea(QtWidgets.QWidget):
    """The plot area of the main window (see the module docstring)."""

    layoutChanged = QtCore.Signal()

    def __init__(self, classes: Mapping[str, type], parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.views = Views(classes, self._adopt)  # built when first needed (see the module docstring)
        self.order = list(self.views)
        self.chosen = list(self.order)  # what the View menu ticks
        self.excluded: set[str] = set()  # hidden by a mode (presentation's secondary views)
        self.priority: list[str] = []  # a lesson's watched views: first, and never excluded
        self.focused: str | None = None
        self.scale = 1.0
        self.page = 0
        self._arrangement: tuple | None = None
        v = QtWidgets.QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        self.tabs = QtWidgets.QTabBar()
        self.tabs.setExpanding(False)
        self.tabs.setDocumentMode(True)
        self.tabs.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.tabs.currentChanged.connect(self._on_tab)
        v.addWidget(self.tabs)
        self.grid_host = QtWidgets.QWidget()
        self.grid = QtWidgets.QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        v.addWidget(self.grid_host, 1)
        self._filters = []
        self._pending: dict[str, Snapshot] = {}  # view id -> the (merged) snapshot the view waits to draw
        self._draw_timer = QtCore.QTimer(self)  # owned by the area: nothing is drawn after the window closes
        self._draw_timer.setSingleShot(True)
        self._draw_timer.timeout.connect(self._draw_next)
        self._build_timer = QtCore.QTimer(self)  # the views not on the first page, built once a view was drawn
        self._build_timer.setSingleShot(True)
        self._build_timer.timeout.connect(self._build_next)
        self._painted = False
        self._set_minimum()
        self.relayout(force=True)

    def _adopt(self, vid: str, view: QtWidgets.QWidget) -> None:
        """A view just built joins the area: laid out by it, at the window's scale, with the frames it missed."""
        view.setParent(self.grid_host)
        view.setMinimumSize(0, 0)  # the area decides how large a view is, not the view
        view.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Ignored)
        view.hide()
        for ax in plot_axes(view.layout_widget.ci):  # every axis, also those a view styled by itself
            no_overlapping_ticks(ax)
        f = _ViewEvents(self, vid)
        view.layout_widget.viewport().installEventFilter(f)
        self._filters.append(f)
        if self.scale != 1.0:
            view.set_scale(self.scale)
        if vid in self._pending:  # every frame of this run so far, merged
            view.update(self._pending.pop(vid))

    def _build_next(self) -> None:
        """Build the next view not built yet (those on screen first); again in the next pass."""
        for vid in self._drawing_order():
            if not self.views.is_built(vid):
                self.views[vid]
                break
        if len(self.views.built()) < len(self.views):
            self._build_timer.start(0)

    def build_rest(self) -> None:
        """Start building the views not built yet, one per event-loop pass (the area does it by itself once a
        view has been drawn, or when a frame arrives for a view not built)."""
        if not self._build_timer.isActive() and len(self.views.built()) < len(self.views):
            self._build_timer.start(0)

    # --- what is shown --------------------------------------------------------------------------------------------
    def visible_ids(self) -> list[str]:
        """The views to lay out, in order: a lesson's watched views first, then the chosen ones the mode keeps."""
        first = [v for v in self.priority if v in self.views]
        rest = [v for v in self.order if v in self.chosen and v not in self.excluded and v not in first]
        return first + rest

    def big_view(self) -> str | None:
        """The view drawn over 2 × 2 cells of the first page: a lesson's first watched view, where the grid has
        at least two rows and columns of readable cells (it gets room without hiding the others)."""
        if self.focused or not self.priority:
            return None
        ids = self.visible_ids()
        cols, rows, _ = self._grid(len(ids) + 3)
        return ids[0] if cols >= 2 and rows >= 2 and len(ids) > 1 else None

    def pages(self) -> list[list[str]]:
        ids = [self.focused] if self.focused else self.visible_ids()
        if not ids:
            return [[]]
        if self.big_view():
            cols, rows, per = self._grid(len(ids) + 3)
            first = per - 3  # the big view takes four cells
            rest = ids[first:]
            return [ids[:first]] + [rest[i : i + cols * rows] for i in range(0, len(rest), cols * rows)]
        _, _, per = self._grid(len(ids))
        return [ids[i : i + per] for i in range(0, len(ids), per)]

    def shown_ids(self) -> list[str]:
        """The views on screen now."""
        pages = self.pages()
        return pages[min(self.page, len(pages) - 1)]

    def _grid(self, n: int) -> tuple[int, int, int]:
        # the area's own size (the grid's may not have followed a resize yet); less the tabs if there are pages
        w, h = max(1, self.width()), max(1, self.height())
        mw, mh = self._min_view()
        cols, rows, per = grid_for(n, w, h, mw, mh)
        if per < n:
            cols, rows, per = grid_for(n, w, h - self.tabs.sizeHint().height() - 2, mw, mh)
        return cols, rows, per

    # --- changes --------------------------------------------------------------------------------------------------
    def set_chosen(self, ids) -> None:
        self.chosen = [v for v in self.order if v in set(ids)]
        if self.focused and self.focused not in self.chosen:
            self.focused = None
        self.relayout(force=True)

    def set_view_shown(self, vid: str, on: bool) -> None:
        ids = set(self.chosen)
        ids.add(vid) if on else ids.discard(vid)
        self.set_chosen(ids)

    def set_mode(self, scale: float = 1.0, excluded=()) -> None:
        """Presentation mode: fonts and lines at ``scale`` (views built later get it too), and the views it
        leaves out."""
        self.scale = float(scale)
        for view in self.views.built().values():
            view.set_scale(self.scale)
        self.excluded = set(excluded)
        self._set_minimum()
        self.relayout(force=True)

    def _min_view(self) -> tuple[float, float]:
        k = 1 + 0.75 * (self.scale - 1)  # larger fonts need larger views, not in proportion (the plot areas shrink)
        return MIN_VIEW[0] * k, MIN_VIEW[1] * k

    def _set_minimum(self) -> None:
        """The area is never smaller than one readable view: docks (a lesson, the controls) give way instead, so
        they shrink the views to a page of fewer, never crop them."""
        w, h = self._min_view()
        self.setMinimumSize(int(w), int(h + self.tabs.sizeHint().height()))

    def set_priority(self, ids) -> None:
        """A lesson's watched views (shown first, whatever the mode hides), or () when the lesson closes."""
        self.priority = [v for v in ids if v in self.views]
        self.page = 0
        self.relayout(force=True)

    def focus(self, vid: str | None) -> None:
        """Fill the area with one view (``None``: back to the grid)."""
        if vid is not None and vid not in self.views:
            raise KeyError(f"no view {vid!r}")
        self.focused = vid
        self.page = 0
        self.relayout(force=True)

    def toggle_focus(self, vid: str) -> None:
        self.focus(None if self.focused == vid else vid)

    def show_view(self, vid: str) -> None:
        """Bring the page holding ``vid`` to the front."""
        for i, page in enumerate(self.pages()):
            if vid in page:
                self.tabs.setCurrentIndex(i)
                self._set_page(i)
                return

    def reset(self) -> None:
        """Reset layout: every view chosen, nothing focused, the first page."""
        self.chosen = list(self.order)
        self.focused = None
        self.page = 0
        self.relayout(force=True)

    # --- layout ---------------------------------------------------------------------------------------------------
    def _on_tab(self, i: int) -> None:
        if i >= 0 and i != self.page:
            self._set_page(i)

    def _set_page(self, i: int) -> None:
        self.page = i
        self.relayout(force=True)

    def relayout(self, force: bool = False) -> None:
        pages = self.pages()
        self.page = min(self.page, len(pages) - 1)
        ids = pages[self.page]
        big = self.big_view() if self.page == 0 else None
        cols, rows, _ = self._grid(len(ids) + (3 if big else 0))
        arrangement = (tuple(ids), cols, rows, big, tuple(tuple(p) for p in pages))
        if arrangement == self._arrangement and not force:
            return
        self._arrangement = arrangement
        self.tabs.blockSignals(True)
        while self.tabs.count():
            self.tabs.removeTab(0)
        if len(pages) > 1:
            for i, page in enumerate(pages):
                self.tabs.addTab(" · ".join(self._short(v) for v in page))
                self.tabs.setTabToolTip(i, ", ".join(self.views.title(v) for v in page))
            self.tabs.setCurrentIndex(self.page)
        self.tabs.setVisible(len(pages) > 1)
        self.tabs.blockSignals(False)
        while self.grid.count():
            self.grid.takeAt(0)
        for i in range(self.grid.columnCount()):
            self.grid.setColumnStretch(i, 0)
        for i in range(self.grid.rowCount()):
            self.grid.setRowStretch(i, 0)
        for vid, view in self.views.built().items():
            if vid not in ids:
                view.hide()
        cells = [(r, c) for r in range(rows) for c in range(cols)]
        if big:
            cells = [(0, 0)] + [rc for rc in cells if rc not in ((0, 0), (0, 1), (1, 0), (1, 1))]
        for vid, (r, c) in zip(ids, cells):
            span = 2 if vid == big else 1
            self.grid.addWidget(self.views[vid], r, c, span, span)
            self.views[vid].show()
        for c in range(cols):
            self.grid.setColumnStretch(c, 1)
        for r in range(rows):
            self.grid.setRowStretch(r, 1)
        self.grid.invalidate()
        self.grid.activate()
        self.layoutChanged.emit()

    def _short(self, vid: str) -> str:
        t = self.views.title(vid)
        return t if len(t) <= 14 else t[:13] + "…"

    def resizeEvent(self, ev):  # noqa: N802
        super().resizeEvent(ev)
        self.relayout()

    def showEvent(self, ev):  # noqa: N802
        super().showEvent(ev)
        self.relayout()

    # --- remembered state (normal mode only: the window decides when) ---------------------------------------------
    def state(self) -> dict:
        return {"chosen": list(self.chosen), "focused": self.focused or ""}

    def restore(self, state: dict) -> None:
        chosen = state.get("chosen")
        if isinstance(chosen, str):
            chosen = [chosen]
        if isinstance(chosen, list):
            known = [v for v in chosen if v in self.views]
            if known:
                self.chosen = [v for v in self.order if v in known]
        f = state.get("focused")
        self.focused = f if isinstance(f, str) and f in self.views else None
        self.relayout(force=True)

    # --- truth: new runs and frames -------------------------------------------------------------------------------
    _awaiting_run = False

    def new_run(self, commanded: bool = False) -> None:
        """Forget everything drawn. ``commanded``: a Reset was just sent, so frames the session made before it
        (still of the old run) are not drawn until the new run's first frame arrives."""
        self._pending.clear()
        self._awaiting_run = commanded
        for view in self.views.built().values():
            view.clear_data()

    def truncate(self, step: float) -> None:
        """A rewind: drop every time-series row after ``step`` (the rewound snapshot's history starts there)."""
        for view in self.views.built().values():  # (one not built sees the rewind in the frames it waits for)
            for buf in vars(view).values():
                if isinstance(buf, SeriesBuffer) and buf.n:
                    buf.truncate_after(step)

    def on_frame(self, snap, sync: bool = False) -> bool:
        """Draw a merged snapshot on every view (views not on screen keep their data current too). Returns False
        for a stale frame of the previous run (not drawn).

        A frame with new diagnostics redraws every view: one view per event-loop pass (the views on screen
        first), so the window never stalls for a whole frame (a (T, T) picture at T = 2000 takes ~0.1 s alone: a
        click waits for one view at most). A view still waiting merges the new frame into what it waits for (it
        sees every history row); the others draw time-only frames at once (cheap). ``sync``: everything now."""
        if any(e.starts_run for e in snap.events):
            self.new_run()
        elif self._awaiting_run:
            return False  # a frame of the previous run, made before the session received the Reset
        self._awaiting_run = False
        for e in snap.events:
            if e.text.startswith("rewound"):
                self.truncate(e.step)
        pending = self._pending
        if sync:
            self.flush()
            for v in self.views.values():
                v.update(snap)
            return True
        expensive = snap.diagnostics is not None
        built = self.views.built()
        for vid in self._drawing_order():
            if vid in pending:
                pending[vid] = Snapshot.merge([pending[vid], snap])
            elif expensive or vid not in built:  # (a view not built draws its frames when it is)
                pending[vid] = snap
            else:
                built[vid].update(snap)
        self._start_drawing()
        if len(built) < len(self.views):
            self.build_rest()  # (frames wait for a view not built only until the next few passes)
        return True

    def _drawing_order(self) -> list[str]:
        """The view ids, those on screen first."""
        shown = self.shown_ids()
        return shown + [vid for vid in self.views if vid not in shown]

    def _start_drawing(self) -> None:
        if not self._draw_timer.isActive() and any(self.views.is_built(vid) for vid in self._pending):
            self._draw_timer.start(0)

    def _draw_next(self) -> None:
        """Draw the next built view that waits for a frame (those on screen first); again in the next pass."""
        pending = self._pending
        for vid in self._drawing_order():
            if vid in pending and self.views.is_built(vid):
                self.views[vid].update(pending.pop(vid))
                break
        self._start_drawing()

    def stop_drawing(self) -> None:
        """The window closes: nothing more is drawn or built."""
        self._draw_timer.stop()
        self._build_timer.stop()
        self._pending.clear()

    def flush(self) -> None:
        """Draw every built view that waits, now (one not built draws what it waits for when it is built)."""
        pending = self._pending
        for vid in self._drawing_order():
            if vid in pending and self.views.is_built(vid):
                self.views[vid].update(pending.pop(vid))
