"""The main window: it only composes the controller, the panels, the plots, the banner and the menus."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..config import Experiment
from ..presets import all_presets
from ..lessons import all_lessons
from ..texmath import TexError, first_sentence
from .banner import INFO_TEXT, SHORT_CHARS, Banner, plain_html
from .lesson_panel import LessonPanel, clear_highlight
from .maths import plain_text, set_action_math_tooltip, typeset_tooltip
from .controller import Controller
from .files import FileActions
from .import_badge import ImportBadge
from .import_files import ImportFiles
from .panels import ALL_PANELS
from .presentation import Presentation, load_classroom
from .recorder import RecordActions
from .plots import VIEWS
from .status_bar import StatusBar
from .view_area import ViewArea

__all__ = ["MainWindow"]

SPEEDS = (("as fast as possible", 0.0), ("100 steps/s", 100.0), ("20 steps/s", 20.0), ("5 steps/s", 5.0),
          ("1 step/s", 1.0))


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, exp: Experiment, mode: str = "process", remember: bool = True):
        super().__init__()
        self.setWindowTitle("rnnlab — why recurrent networks are hard to train")
        self.remember = remember
        self.controller = Controller(exp, mode=mode, confirm=self._confirm, parent=self)
        self.files = FileActions(self, self.controller)
        self.imports = ImportFiles(self, self.controller, lambda title, text: self.files.error(title, text))
        self.import_badge = ImportBadge()
        self.banner = Banner()
        # every registered view by id, in the registry's order, each built when first needed (gui/view_area.py)
        self.view_area = ViewArea(VIEWS)
        self.views = self.view_area.views
        self._build_central()
        self._build_controls()
        self._build_lessons()
        self.setStatusBar(status := StatusBar())
        self.status = status
        self.presentation = Presentation(self)
        self._build_actions()
        c = self.controller
        c.frame.connect(self._on_frame)
        c.runStarted.connect(lambda: self.view_area.new_run(commanded=True))
        c.exploded.connect(self.banner.show_explosion)
        c.engineDied.connect(self.banner.show_engine_died)
        c.message.connect(self._on_message)
        c.playingChanged.connect(self._on_playing)
        c.experimentChanged.connect(self._on_experiment)
        self.banner.rewindClicked.connect(self._rewind)
        self.banner.resetClicked.connect(self._reset)
        self.banner.restartClicked.connect(self._restart)
        c.experimentChanged.connect(lambda _e: self._update_title())
        self.files.documentChanged.connect(self._update_title)
        self._update_title()
        self._default_state = self.saveState()
        self.fit_to_screen()
        if remember:
            self._restore_layout()
        c.request_snapshot(True)
        self._on_experiment(exp)

    # --- composition ----------------------------------------------------------------------------------------------
    def _build_central(self) -> None:
        central = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.import_badge)
        lay.addWidget(self.banner)
        lay.addWidget(self.view_area, 1)  # the views laid out for the space there is
        self.setCentralWidget(central)

    def _build_controls(self) -> None:
        box = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(box)
        v.setContentsMargins(2, 2, 2, 2)
        self.panels = [cls(self.controller, expanded=cls.__name__ in ("TaskPanel", "ArchitecturePanel",
                                                                         "ActivationPanel", "RecurrentPanel",
                                                                         "RemediesPanel", "TrainingPanel"))
                       for cls in ALL_PANELS]
        for p in self.panels:
            v.addWidget(p)
        v.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(box)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(330)
        self.controls_dock = QtWidgets.QDockWidget("Experiment", self)
        self.controls_dock.setObjectName("controls_dock")
        self.controls_dock.setWidget(scroll)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, self.controls_dock)

    @property
    def plots(self) -> list:
        """Every view, in the registry's order (all built: see :attr:`views` to look one up by id)."""
        return list(self.views.values())

    def _build_lessons(self) -> None:
        self.lesson_panel = LessonPanel(plots=self.views, validate=self.controller.validate)
        self.lesson_dock = QtWidgets.QDockWidget("Lesson", self)
        self.lesson_dock.setObjectName("lesson_dock")
        self.lesson_dock.setWidget(self.lesson_panel)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, self.lesson_dock)
        self.lesson_dock.hide()  # a lesson replaces the experiment only when someone opens one
        self.lesson_panel.experimentRequested.connect(
            lambda e: self.controller.set_experiment(e, ask=False, what="lesson step"))
        self.lesson_panel.stepChanged.connect(self._on_lesson_step)
        self.lesson_dock.visibilityChanged.connect(self._on_lesson_dock)

    def _on_lesson_dock(self, visible: bool) -> None:
        if not visible:
            clear_highlight()
            self.view_area.set_priority(())

    def open_lesson(self, name: str, index: int = 0) -> None:
        self.remember_normal_layout()
        self.lesson_dock.show()
        self.lesson_panel.set_lesson(name, index=index)

    def _on_lesson_step(self, step) -> None:
        self.banner.hide()
        watched = self.lesson_panel.watched_plots()
        self.watched = watched[0] if watched else None
        # the watched views come first (on the first page, whatever presentation mode hides), and on screen
        self.view_area.set_priority([p.view_id for p in watched])
        if watched:
            self.view_area.show_view(watched[0].view_id)

    def _build_actions(self) -> None:
        c = self.controller
        tb = self.addToolBar("Transport")
        tb.setObjectName("transport")

        def act(text, slot, keys=(), tip=""):
            a = QtGui.QAction(text, self)
            a.setShortcuts([QtGui.QKeySequence(k) for k in keys])
            a.setShortcutContext(QtCore.Qt.ShortcutContext.ApplicationShortcut)
            a.setToolTip(f"{tip} ({', '.join(keys)})" if keys else tip)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.play_action = act("Play", c.toggle, ("Space",), "Train continuously / pause")
        self._on_playing(False)  # an icon from the style (every platform has one), not a font glyph
        self.step_action = act("Step", lambda: c.step(1), ("Right", "S"), "One training step")
        self.reset_action = act("Reset", self._reset, ("R",), "New weights from the seed; step 0")
        self.rewind_action = act("Rewind", self._rewind, ("Backspace",),
                                 "Back to the last checkpoint before the trouble began (the first step whose loss "
                                 "or gradient norm left its running range); without trouble, one kept step back")
        for a in (self.play_action, self.step_action, self.reset_action, self.rewind_action):
            tb.addAction(a)
        tb.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.speed = QtWidgets.QComboBox()
        for text, v in SPEEDS:
            self.speed.addItem(text, v)
        self.speed.setToolTip("Training speed (throttle for demonstrations)")
        self.speed.currentIndexChanged.connect(lambda i: c.set_speed(self.speed.itemData(i)))
        tb.addSeparator()
        tb.addWidget(QtWidgets.QLabel(" Speed: "))
        tb.addWidget(self.speed)

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(act("&Open experiment…", lambda: self.files.open(), ("Ctrl+O",)))
        m.addAction(act("&Save experiment", lambda: self.files.save(), ("Ctrl+S",)))
        m.addAction(act("Save experiment &as…", lambda: self.files.save(save_as=True), ("Ctrl+Shift+S",)))
        m.addSeparator()
        m.addAction(act("Open &model…", lambda: self.imports.open_model(), ("Ctrl+M",),
                        "A trained network: a PyTorch state_dict (.safetensors, .pt), an ONNX model or an rnnlab "
                        ".npz (docs/import.md)"))
        m.addAction(act("Open &data…", lambda: self.imports.open_data(), ("Ctrl+D",),
                        "Your sequences (.npz, .npy, .csv): the file task, for an imported model or rnnlab's cell"))
        m.addSeparator()
        self.recent_menu = m.addMenu("Recent experiments")
        self.files.recentChanged.connect(self._fill_recent)
        self._fill_recent()
        m.addSeparator()
        m.addAction(act("Export &run…", lambda: self.files.export_run(), (),
                        "config.toml, metrics.csv, state.npz; for an imported model also weights.safetensors (its "
                        "file's names and layout)"))
        m.addAction(act("Open s&weep results…", lambda: self.open_sweep(), (),
                        "The phase diagram of an `rnnlab sweep` folder; click a cell to open it"))
        exp_menu = m.addMenu("Export &plot")
        for vid in self.views:
            sub = exp_menu.addMenu(self.views.title(vid))  # files are named by view id (plain ASCII): heatmap.png
            for label, kind, scale in (("PNG, 2× the view…", "png", 2.0), ("PNG, 1×…", "png", 1.0),
                                       ("PNG, 4× (print)…", "png", 4.0), ("SVG…", "svg", 1.0),
                                       ("PDF…", "pdf", 1.0), ("CSV…", "csv", 1.0)):
                sub.addAction(act(label, lambda _=False, v=vid, k=kind, sc=scale: self.files.export_plot(
                    self.views[v], k, scale=sc)))
        m.addAction(act("Save &window as image…", lambda: self.files.save_window_image(), (),
                        "The whole window as a PNG at twice its size on screen"))
        self.recording = RecordActions(self)  # File ▸ Record… (the window or one view, as GIF or MP4)
        m.addAction(self.recording.action)
        m.addSeparator()
        m.addAction(act("&Quit", self.close, ("Ctrl+Q",)))
        self._build_edit_menu(mb)
        self._build_run_menu(mb)
        pm = self.presets_menu = mb.addMenu("&Presets")
        for preset in all_presets():
            a = act(preset.name, lambda _=False, p=preset: self.load_preset(p))
            set_action_math_tooltip(a, preset.description, pm)  # typeset when first shown; plain status tip
            pm.addAction(a)
        lm = mb.addMenu("&Lessons")
        for lesson in all_lessons(views=VIEWS):  # (parsed once: the lesson panel gets the same ones)
            a = act(lesson.title, lambda _=False, n=lesson.name: self.open_lesson(n))
            a.setStatusTip(lesson.summary)
            lm.addAction(a)
        cm = mb.addMenu("&Compare")
        cm.addAction(act("Compare with a changed &setting…", lambda: self.open_compare(), ("Ctrl+K",),
                         "Run B beside A: same seed and data, one setting changed"))
        vm = mb.addMenu("&View")
        vm.addAction(self.controls_dock.toggleViewAction())
        vm.addAction(self.lesson_dock.toggleViewAction())
        self.presentation_action = act("&Presentation mode", self.presentation.toggle, ("F11",),
                                       "Full screen, large fonts and thick lines, advanced controls hidden")
        self.presentation_action.setCheckable(True)
        vm.addAction(self.presentation_action)
        self._build_view_menu(vm, act)
        m.insertAction(m.actions()[3], act("Open &classroom file…", lambda: self.open_classroom(), (),
                                           "A teacher's file: experiment, lesson, presentation, locked controls"))
        hm = mb.addMenu("&Help")
        hm.addAction(act("&Keyboard shortcuts", self.show_shortcuts, ("F1",), "Every shortcut of the window"))
        wm = self.view_help_menu = hm.addMenu("&What am I looking at?")  # also in each view's right-click menu
        for vid in self.views:
            wm.addAction(act(self.views.title(vid), lambda _=False, v=vid: self.views[v].show_help()))
        hm.addAction(act("About rnnlab", self._about))

    # --- slots (one call each) ------------------------------------------------------------------------------------
    def _on_frame(self, snap) -> None:
        # a frame with new diagnostics redraws every view, one view per event-loop pass (gui/view_area.py)
        if self.view_area.on_frame(snap, sync=self.controller.mode == "sync"):
            self.status.update_snapshot(snap)

    def _on_playing(self, on: bool) -> None:
        stop = self.controller.last_snapshot.stopped if self.controller.last_snapshot is not None else ""
        if on and stop and not self.banner.isHidden() and self.banner.plain_text() == stop:
            self.banner.hide()  # "Stopped at step N: …" no longer holds once training goes on
        sp = QtWidgets.QStyle.StandardPixmap
        self.play_action.setIcon(self.style().standardIcon(sp.SP_MediaPause if on else sp.SP_MediaPlay))
        self.play_action.setText("Pause" if on else "Play")
        self.status.set_playing(on)

    def _on_message(self, text: str) -> None:
        if self.banner.kind == "engine" and self.banner.isVisible() and self.controller.dead:
            return  # the engine banner (with its Restart button) stays until Restart
        self.banner.show_message(text)  # plain text: messages quote values from files

    def _on_experiment(self, exp) -> None:
        if self.remember:
            self.files.remember_experiment(exp)
        self.import_badge.show_for(exp)
        self._enable_training(exp)

    def _enable_training(self, exp) -> None:
        """Play and Step only where there is a loss to train on (an imported model needs a readout and data)."""
        from ..train.imported import no_loss

        why = no_loss(exp)
        for a, tip in ((self.play_action, "Train continuously / pause (Space)"),
                       (self.step_action, "One training step (Right, S)")):
            a.setEnabled(not why)
            a.setToolTip(f"Nothing to train: {why}" if why else tip)

    def _rewind(self) -> None:
        self.banner.hide()
        self.controller.rewind()

    def _reset(self) -> None:
        self.banner.hide()
        self.controller.reset()

    def _restart(self) -> None:
        self.banner.hide()
        self.controller.restart()

    def load_preset(self, preset) -> bool:
        c = self.controller
        if not c.set_experiment(preset.experiment, what=f"preset {preset.name}"):
            return False
        self.preset_contrast = dict(preset.contrast)
        self.files.set_document(f"preset {preset.name}")
        flip = ", ".join(f"{k} = {v!r}" for k, v in preset.contrast.items())
        kept = (f" <i>Kept the locked {plain_html(', '.join(c.kept_locked))} "
                f"({plain_html(c.locks.files(c.kept_locked))}).</i>" if c.kept_locked else "")
        head = f"Preset {preset.name}."
        tail = f"Contrast: set {flip}. {preset.check_text()}"
        font = self.banner.text_font()
        try:  # the description's formulas typeset, in the banner's colour and font (its first sentence too)
            desc = typeset_tooltip(preset.description, INFO_TEXT, font, inline=True)
            first = first_sentence(preset.description, SHORT_CHARS - len(head) - 1)
            short = f"{plain_html(head)} {typeset_tooltip(first, INFO_TEXT, font, inline=True)}" if first else None
        except TexError:  # a user's description that is not valid TeX: shown as it is
            desc, short = plain_html(preset.description), None
        self.banner.show_info(f"<b>{plain_html(head)}</b> {desc} <i>{plain_html(tail)}</i>{kept}",
                              plain=f"{head} {plain_text(preset.description)} {tail}", short_html=short)
        return True

    # --- Edit menu and title (W2) ---------------------------------------------------------------------------------
    def _build_edit_menu(self, mb) -> None:
        from .undo import UndoHistory

        self.undo = UndoHistory(self.controller, self)
        em = mb.addMenu("&Edit")
        self.undo_action, self.redo_action = self.undo.actions(self)
        for a in (self.undo_action, self.redo_action):
            a.setShortcutContext(QtCore.Qt.ShortcutContext.ApplicationShortcut)
            self.addAction(a)
            em.addAction(a)

    def _build_run_menu(self, mb) -> None:
        """Run: Run N steps, the optional stops of Play, and the timeline of kept steps to rewind to."""
        c = self.controller
        rm = mb.addMenu("&Run")  # (Play, Step, Reset and Rewind are the toolbar's: the training keys)
        self.run_steps_action = QtGui.QAction("Run &N steps…", self)
        self.run_steps_action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+R"))
        self.run_steps_action.triggered.connect(lambda: self.run_steps())
        rm.addAction(self.run_steps_action)
        self.stop_steps_action = QtGui.QAction("Stop at training.steps", self, checkable=True, checked=True)
        self.stop_steps_action.setToolTip("Play stops once the run has made training.steps steps (the presets' "
                                          "\"after N updates\")")
        self.stop_steps_action.toggled.connect(lambda on: setattr(c, "stop_at_steps", on))
        self.stop_success_action = QtGui.QAction("Stop at success", self, checkable=True, checked=False)
        self.stop_success_action.setToolTip("Play and Run N steps stop once the held-out success rate reaches 99 %")
        self.stop_success_action.toggled.connect(lambda on: setattr(c, "stop_at_success", on))
        rm.addAction(self.stop_steps_action)
        rm.addAction(self.stop_success_action)
        rm.addSeparator()
        self.timeline_menu = rm.addMenu("Rewind to &step")
        self.timeline_menu.setToolTipsVisible(True)
        self.timeline_menu.aboutToShow.connect(self._fill_timeline)

    #: at most this many kept steps in Run ▸ Rewind to step (spread over the whole timeline)
    TIMELINE_ENTRIES = 24

    def _fill_timeline(self) -> None:
        m = self.timeline_menu
        m.clear()
        snap = self.controller.last_snapshot
        kept = list(snap.checkpoints) if snap is not None else []
        if len(kept) > self.TIMELINE_ENTRIES:  # the ring is already dense recent, sparse back: sample it evenly
            idx = sorted({round(i * (len(kept) - 1) / (self.TIMELINE_ENTRIES - 1))
                          for i in range(self.TIMELINE_ENTRIES)})
            kept = [kept[i] for i in idx]
        for step in reversed(kept):
            a = m.addAction(f"step {step:,}".replace(",", "\u2009"))
            a.triggered.connect(lambda _=False, s=step: self.rewind_to(s))
        m.addSeparator()
        m.addAction("Other kept step…", self._ask_rewind_step)
        m.setEnabled(True)

    def ask_int(self, title: str, label: str, value: int, lo: int, hi: int) -> int | None:
        """A number from the user (overridable in tests); None when cancelled."""
        v, ok = QtWidgets.QInputDialog.getInt(self, title, label, value, lo, hi)
        return v if ok else None

    def run_steps(self, n: int | None = None) -> None:
        if n is None:
            n = self.ask_int("Run N steps", "Steps to train (Run ▸ Stop at success applies):", 100, 1, 10**9)
        if n:
            self.controller.run_steps(n)

    def _ask_rewind_step(self) -> None:
        snap = self.controller.last_snapshot
        top = snap.step if snap is not None else 0
        v = self.ask_int("Rewind to step", "Step (the nearest kept step at or before it):", top, 0, max(top, 0))
        if v is not None:
            self.rewind_to(v)

    def rewind_to(self, step: int) -> None:
        self.banner.hide()
        self.controller.rewind(step)

    def _update_title(self) -> None:
        """The document's name and a modified marker (*) while the settings differ from the file or preset."""
        name = self.files.document or "untitled"
        self.setWindowTitle(f"{name}[*] — rnnlab")
        self.setWindowModified(self.files.modified())

    def open_compare(self, changes: dict | None = None, mode: str = "process"):
        """Open compare mode for the current experiment (asks which setting B changes unless given)."""
        from .compare_window import ChooseDifference, CompareWindow

        if changes is None:
            dlg = ChooseDifference(self.controller.exp, getattr(self, "preset_contrast", None), self)
            if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted:
                return None
            changes = dlg.changes
        self.compare_window = CompareWindow(self.controller.exp, changes, mode=mode)
        self.clamp_to_screen(self.compare_window)  # it fits the screen (1280 × 720 too)
        self._others = [w for w in getattr(self, "_others", []) if w.isVisible()] + [self.compare_window]
        self.compare_window.show()
        return self.compare_window

    def open_sweep(self, folder: str | None = None):
        from ..config import ConfigError
        from .sweep_window import SweepWindow

        folder = folder or self.files.ask_dir("Open a sweep folder (sweep.csv, config.toml)")
        if not folder:
            return None
        try:
            self.sweep_window = SweepWindow(folder)
        except ConfigError as exc:
            self.files.error("Cannot open sweep", str(exc))
            return None
        self.sweep_window.cellOpened.connect(self.open_sweep_cell)
        self.sweep_window.cellRefused.connect(lambda text: self.files.error("Cannot open this cell", text))
        self._others = [w for w in getattr(self, "_others", []) if w.isVisible()] + [self.sweep_window]
        self.sweep_window.show()
        return self.sweep_window

    def open_sweep_cell(self, exp) -> bool:
        """Switch to a sweep cell's experiment (validated and built first; a refusal is a dialog)."""
        if self.controller.set_experiment(exp, what="sweep cell"):
            return True
        if self.controller.last_refusal:
            self.files.error("Cannot open this cell", self.controller.last_refusal)
        return False

    def open_classroom(self, path: str | None = None) -> bool:
        from ..config import ConfigError
        from ..io import one_line, short_path

        path = path or self.files.ask_open()
        if not path:
            return False
        try:
            room = load_classroom(path)
        except ConfigError as exc:
            self.files.error("Cannot open classroom file", str(exc))
            return False
        if not self.apply_classroom(room):
            if self.controller.last_refusal:
                self.files.error("Cannot open classroom file",
                                 one_line(f"{short_path(path)}: {self.controller.last_refusal}"))
            return False
        return True

    def apply_classroom(self, room) -> bool:
        """Load a classroom's experiment, lesson, presentation mode and control locks. The experiment is
        validated and built before anything changes: if it is refused, nothing of the file is applied. The locks of
        a file opened before still hold for this file's experiment (locks only grow: rnnlab.gui.locks)."""
        self.remember_normal_layout()
        if room.experiment is not None and not self.controller.set_experiment(room.experiment, ask=False):
            return False
        self.controller.set_locks(self.controller.locks.added(room.lock, room.path))
        self.files.set_document(room.path.name)
        self.presentation.set_classroom(room)
        if room.presentation and not self.presentation.on:
            self.presentation_action.setChecked(True)
            self.presentation.set(True)
        if room.lesson and hasattr(self, "open_lesson"):
            self.open_lesson(room.lesson)
        return True

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.files.recent():
            self.recent_menu.addAction(path, lambda p=path: self.files.open(p))
        self.recent_menu.setEnabled(bool(self.files.recent()))

    def _confirm(self, text: str) -> bool:
        ans = QtWidgets.QMessageBox.question(self, "New weights needed", text)
        return ans == QtWidgets.QMessageBox.StandardButton.Yes

    def show_shortcuts(self) -> QtWidgets.QDialog:
        """Help ▸ Keyboard shortcuts (generated from the window's actions and buttons)."""
        from .help import ShortcutsDialog

        dlg = ShortcutsDialog(self)
        dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        return dlg

    def _about(self) -> None:
        from .. import __version__

        QtWidgets.QMessageBox.about(self, "About rnnlab", f"rnnlab {__version__}: a laboratory for seeing why "
                                    "recurrent networks are hard to train.")

    # --- the view area's menu, the window on the screen, layout memory ------------------------------------------
    def _build_view_menu(self, vm: QtWidgets.QMenu, act) -> None:
        """View ▸ Views (which are shown), Focus (one view fills the plot area: keys 1–9 or a double-click),
        Reset layout."""
        area = self.view_area
        vm.addSeparator()
        shown = vm.addMenu("&Views shown")
        self.view_actions = {}
        for vid in self.views:
            a = shown.addAction(self.views.title(vid))
            a.setCheckable(True)
            a.setChecked(True)
            a.toggled.connect(lambda on, v=vid: area.set_view_shown(v, on))
            self.view_actions[vid] = a
        fm = vm.addMenu("&Focus a view")
        for i, vid in enumerate(self.views):
            keys = (str(i + 1),) if i < 9 else ()
            fm.addAction(act(self.views.title(vid), lambda _=False, v=vid: area.toggle_focus(v), keys,
                             "Fill the plot area with this view; again (or a double-click) for every view"))
        vm.addAction(act("All &views (leave focus)", lambda: area.focus(None), ("0",)))
        leave = act("Leave presentation mode", lambda: self.presentation.set(False), ("Esc",))
        leave.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)  # a dialog's Esc stays the dialog's
        vm.addAction(leave)
        vm.addAction(act("&Reset layout", self.reset_layout, (),
                         "Every view shown, nothing focused, the controls docked at the left, the window fitted "
                         "to the screen"))
        area.layoutChanged.connect(self._sync_view_actions)

    def _sync_view_actions(self) -> None:
        for vid, a in self.view_actions.items():
            a.blockSignals(True)
            a.setChecked(vid in self.view_area.chosen)
            a.blockSignals(False)

    def available_geometry(self) -> QtCore.QRect:
        scr = self.screen() or QtGui.QGuiApplication.primaryScreen()
        return scr.availableGeometry()

    def fit_to_screen(self) -> None:
        """The first window: the screen's available geometry, never more (the app maximises it; tests and
        screenshots get at most 1600 × 1000)."""
        avail = self.available_geometry()
        if self.remember:  # maximised (and as large as the screen where no window manager maximises)
            self.setGeometry(avail)
            self.setWindowState(self.windowState() | QtCore.Qt.WindowState.WindowMaximized)
        else:
            self.resize(min(1600, avail.width()), min(1000, avail.height()))

    def clamp_to_screen(self, window: QtWidgets.QWidget | None = None) -> None:
        """A window (default this one; a restored geometry from a larger screen, a compare window) is shrunk and
        moved onto this screen's available geometry."""
        win = window or self
        avail = self.available_geometry()
        frame = win.frameGeometry()
        extra_w, extra_h = frame.width() - win.width(), frame.height() - win.height()
        w = min(win.width(), avail.width() - extra_w)
        h = min(win.height(), avail.height() - extra_h)
        if (w, h) != (win.width(), win.height()):
            win.resize(w, h)
        x = min(max(frame.x(), avail.x()), avail.right() + 1 - (w + extra_w))
        y = min(max(frame.y(), avail.y()), avail.bottom() + 1 - (h + extra_h))
        if (x, y) != (frame.x(), frame.y()):
            win.move(x, y)

    _docks_sized = False

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        if not self._docks_sized:  # the controls: as narrow as they read (a third of the width at most)
            self._docks_sized = True
            content = self.controls_dock.widget().widget().minimumSizeHint().width() + 20  # + its scroll bar
            w = min(max(content, min(440, self.width() // 4)), int(0.35 * self.width()))
            self.resizeDocks([self.controls_dock], [w], QtCore.Qt.Orientation.Horizontal)

    def reset_layout(self) -> None:
        """View ▸ Reset layout: the layout of a first start."""
        if self.presentation.on:
            self.presentation_action.setChecked(False)
            self.presentation.set(False)
        self.restoreState(self._default_state)
        self.controls_dock.show()
        self.view_area.reset()
        self.showNormal()
        self.fit_to_screen()
        self.clamp_to_screen()

    def special_layout(self) -> bool:
        """Presentation, classroom and lesson layouts are never remembered as the normal one."""
        return bool(self.presentation.on or self.presentation.room is not None or self.lesson_dock.isVisible())

    def remember_normal_layout(self) -> None:
        """Called on entering a special layout: what to save at the end instead of it."""
        if not self.special_layout():
            self._normal_layout = self._layout_values()

    _normal_layout = None

    def _layout_values(self) -> dict:
        return {"window/geometry": self.saveGeometry(), "window/state": self.saveState(),
                "views/chosen": list(self.view_area.chosen), "views/focused": self.view_area.focused or ""}

    def _restore_layout(self) -> None:
        s = QtCore.QSettings()
        if (g := s.value("window/geometry")) is not None and self.restoreGeometry(g):
            self.clamp_to_screen()
        if (st := s.value("window/state")) is not None:
            self.restoreState(st)
        self.lesson_dock.hide()  # a lesson is opened by someone, never by the last session's layout
        self.view_area.restore({"chosen": s.value("views/chosen"), "focused": s.value("views/focused")})

    def _save_layout(self) -> None:
        values = self._normal_layout if self.special_layout() else self._layout_values()
        if values is None:
            return  # started in a special layout: nothing normal to remember
        s = QtCore.QSettings()
        for k, v in values.items():
            s.setValue(k, v)

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:  # noqa: N802
        if self.remember:
            self._save_layout()
            self.files.remember_experiment(self.controller.exp)
        self.recording.shutdown()
        for w in getattr(self, "_others", []):  # Quit closes every window (compare: its two training processes)
            w.close()
        self.controller.shutdown()
        self.view_area.stop_drawing()
        self.presentation.release_app()
        super().closeEvent(ev)
