"""The training thread: runs an :class:`~rnnlab.gui.engine.Engine` off the UI thread.

The thread never touches a widget. It only ticks the engine; the window collects the snapshots on its own 30 Hz
timer (latest data win, the GUI is never flooded) and sends commands through the engine's queue. Stopping is
prompt: the loop checks the stop flag between steps, and a paused loop sleeps on an event that a command wakes.
"""

from __future__ import annotations

import sys
import traceback

from PySide6 import QtCore

from .engine import Engine

__all__ = ["TrainingThread"]


class TrainingThread(QtCore.QThread):
    """QThread whose ``run`` ticks the engine until :meth:`stop`."""

    failed = QtCore.Signal(str)

    def __init__(self, engine: Engine, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self._stop = False

    def run(self) -> None:  # noqa: D401 - Qt API
        eng = self.engine
        # the UI thread must get the GIL back quickly even while NumPy-heavy Python code runs here
        old = sys.getswitchinterval()
        sys.setswitchinterval(0.001)
        try:
            while not self._stop and not eng.stopped:
                if eng.busy():
                    eng.tick()
                    if eng.playing and eng.speed > 0:
                        eng.wake.wait(0.001)
                else:
                    eng.wake.wait(0.05)
                    eng.wake.clear()
                    eng.tick()
        except Exception:  # pragma: no cover - reported to the window
            eng.playing = False
            self.failed.emit(traceback.format_exc(limit=6))
        finally:
            sys.setswitchinterval(old)

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Ask the loop to end and wait for it; True when the thread has finished."""
        self._stop = True
        self.engine.send("stop")
        self.engine.wake.set()
        return self.wait(timeout_ms)
