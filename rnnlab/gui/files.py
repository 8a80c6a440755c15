"""Files and settings for the window: open/save experiments, recent files, export of plots and runs, and what
QSettings remembers (window layout, last experiment)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ..config import ConfigError, Experiment, dumps_toml, load_toml, loads_toml, save_toml
from ..io import one_line, short_path
from .banner import rich_tooltip

__all__ = ["FileActions", "MAX_RECENT"]

MAX_RECENT = 8


class FileActions(QtCore.QObject):
    """The window's file operations. Errors become dialogs that name the problem; the experiment is untouched."""

    recentChanged = QtCore.Signal()
    #: the document changed: a file opened or saved, a preset or a classroom file loaded (the title follows)
    documentChanged = QtCore.Signal()

    def __init__(self, window, controller):
        super().__init__(window)
        self.window, self.controller = window, controller
        self.current_path: Path | None = None
        #: what the title names ("clipping.toml", "preset clipping") and the experiment as last opened or saved:
        #: the window is "modified" while the controller's experiment differs from it
        self.document = ""
        self.saved: Experiment = controller.exp

    def set_document(self, name: str, path: str | Path | None = None) -> None:
        self.document = name
        self.current_path = Path(path) if path else None
        self.saved = self.controller.exp
        self.documentChanged.emit()

    def modified(self) -> bool:
        return self.controller.exp != self.saved

    # --- dialogs (overridable in tests) ---------------------------------------------------------------------------
    def error(self, title: str, text: str) -> None:
        """A dialog with ``text`` shown as plain text (it quotes values from files: never rendered as markup)."""
        QtWidgets.QMessageBox.critical(self.window, title, rich_tooltip(text, 2000))

    def ask_open(self) -> str:
        return QtWidgets.QFileDialog.getOpenFileName(self.window, "Open experiment", "",
                                                     "Experiments (*.toml);;All files (*)")[0]

    def ask_save(self, default: str = "experiment.toml") -> str:
        return QtWidgets.QFileDialog.getSaveFileName(self.window, "Save experiment", default,
                                                     "Experiments (*.toml)")[0]

    def ask_dir(self, title: str) -> str:
        return QtWidgets.QFileDialog.getExistingDirectory(self.window, title)

    def ask_export(self, title: str, default: str, filt: str) -> str:
        return QtWidgets.QFileDialog.getSaveFileName(self.window, title, default, filt)[0]

    # --- experiments ----------------------------------------------------------------------------------------------
    def open(self, path: str | None = None) -> bool:
        path = path or self.ask_open()
        if not path:
            return False
        try:
            exp = load_toml(path)  # the guarded reader: every failure is a ConfigError of one line
        except ConfigError as exc:
            self.error("Cannot open experiment", str(exc))
            return False
        # validated and built before anything switches
        if not self.controller.set_experiment(exp, what=f"open {Path(path).name}"):
            if self.controller.last_refusal:
                self.error("Cannot open experiment", one_line(f"{short_path(path)}: {self.controller.last_refusal}"))
            return False
        self.set_document(Path(path).name, path)
        self.add_recent(path)
        return True

    def save(self, path: str | None = None, save_as: bool = False) -> bool:
        if path is None:
            path = str(self.current_path) if (self.current_path and not save_as) else self.ask_save()
        if not path:
            return False
        if not path.endswith(".toml"):
            path += ".toml"
        try:
            save_toml(self.controller.exp, path)
        except OSError as exc:  # a WriteError: one line (disk full, read-only, a folder); the old file is kept
            self.error("Cannot save experiment", str(exc))
            return False
        self.set_document(Path(path).name, path)
        self.add_recent(path)
        return True

    def export_run(self, path: str | None = None) -> bool:
        path = path or self.ask_dir("Export run to folder")
        if not path:
            return False
        self.controller.export_run(path)
        return True

    def export_plot(self, plot, kind: str, path: str | None = None, scale: float = 2.0) -> bool:
        """A view as PNG (``scale`` × its size on screen: 2× by default), SVG, PDF or CSV, in a file named by the
        view's id (plain ASCII: ``heatmap.png``)."""
        filt = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)", "pdf": "PDF document (*.pdf)",
                "csv": "CSV data (*.csv)"}[kind]
        path = path or self.ask_export(f"Export {plot.title}", f"{plot.view_id or 'view'}.{kind}", filt)
        if not path:
            return False
        try:
            if kind == "csv":
                plot.export_csv(path)
            else:
                plot.export_image(path, scale=scale if kind == "png" else None)
        except OSError as exc:  # a WriteError: one line saying why; the old file is kept, no temporary file left
            self.error("Export failed", str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - an exporter failing must not take the window down
            self.error("Export failed", one_line(f"could not export {short_path(path)}: {exc}"))
            return False
        return True

    def save_window_image(self, path: str | None = None, scale: float = 2.0) -> bool:
        """File ▸ Save window as image: the whole window as PNG, drawn at ``scale`` × (2× by default)."""
        path = path or self.ask_export("Save window as image", "rnnlab-window.png", "PNG image (*.png)")
        if not path:
            return False
        from PySide6 import QtGui

        from ..io import atomic_path

        win = self.window
        img = QtGui.QImage(int(win.width() * scale), int(win.height() * scale), QtGui.QImage.Format.Format_ARGB32)
        img.setDevicePixelRatio(scale)
        img.fill(QtGui.QColor("white"))
        win.render(img)  # drawn again at the image's pixel ratio: text and lines stay sharp
        try:
            with atomic_path(Path(path)) as tmp:
                if not img.save(str(tmp), "PNG"):
                    raise OSError("the PNG writer failed")
        except OSError as exc:
            self.error("Cannot save the window", one_line(f"could not write {short_path(path)}: {exc}"))
            return False
        return True

    # --- recent files and remembered state ------------------------------------------------------------------------
    def recent(self) -> list[str]:
        v = QtCore.QSettings().value("recent_files", [])
        if isinstance(v, str):
            v = [v]
        return [p for p in (v or []) if isinstance(p, str)]

    def add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        items = [path] + [p for p in self.recent() if p != path]
        QtCore.QSettings().setValue("recent_files", items[:MAX_RECENT])
        self.recentChanged.emit()

    @staticmethod
    def remember_experiment(exp: Experiment) -> None:
        QtCore.QSettings().setValue("last_experiment", dumps_toml(exp))

    @staticmethod
    def last_experiment() -> Experiment | None:
        text = QtCore.QSettings().value("last_experiment", "")
        if not text:
            return None
        try:
            return loads_toml(str(text), "remembered experiment")
        except ConfigError:
            return None  # a stale or damaged setting never blocks start-up
