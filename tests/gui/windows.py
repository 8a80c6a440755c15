"""What many GUI tests build: a small experiment (fast to train and to diagnose) and main windows around it."""

from __future__ import annotations

from rnnlab.config import Experiment


def small(**kw) -> Experiment:
    """The default experiment at T = 12, H = 8, evaluated every 10 steps; ``kw`` as for ``Experiment.replace``."""
    e = Experiment().replace(task__length=12, model__hidden_size=8, training__eval_every=10)
    return e.replace(**kw) if kw else e


def window_factory(qtbot):
    """``(make, close_all)``: ``make(exp=None, mode="sync", confirm=True, collect_errors=False)`` builds a main window
    (not remembered; confirmation dialogs answered with ``confirm``; with ``collect_errors`` the error dialogs'
    ``(title, text)`` go to ``w.errors`` instead); ``close_all()`` closes them and checks each engine is gone."""
    from rnnlab.gui.main_window import MainWindow

    wins = []

    def make(exp=None, mode="sync", confirm=True, collect_errors=False):
        w = MainWindow(exp or small(), mode=mode, remember=False)
        w.controller.confirm = lambda text: confirm
        if collect_errors:
            w.errors = []
            w.files.error = lambda title, text: w.errors.append((title, text))
        qtbot.addWidget(w)
        wins.append(w)
        return w

    def close_all():
        for w in wins:
            w.close()
            assert not w.controller.session.is_alive()

    return make, close_all


def shown_window(qtbot, size: tuple[int, int], exp: Experiment | None = None):
    """A main window of ``exp`` (default :func:`small`) in the synchronous engine, not remembered, shown at ``size``
    and exposed; the caller closes it."""
    from rnnlab.gui.main_window import MainWindow

    w = MainWindow(exp or small(), mode="sync", remember=False)
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    return w
