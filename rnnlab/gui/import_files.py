"""File ▸ Open model… and File ▸ Open data…: a trained model (PyTorch state_dict, ONNX, rnnlab's .npz) or your
sequences become the window's experiment, through :func:`rnnlab.train.imported.experiment_for` and the file task.
A file that cannot be opened, or does not fit, gives a dialog naming the problem and the experiment is untouched.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ..config import ConfigError

__all__ = ["ImportFiles", "MODEL_FILTER", "DATA_FILTER"]

MODEL_FILTER = ("Trained models (*.safetensors *.pt *.pth *.onnx *.npz);;PyTorch state_dict (*.safetensors *.pt "
                "*.pth);;ONNX (*.onnx);;rnnlab state (*.npz);;All files (*)")
DATA_FILTER = "Sequences (*.npz *.npy *.csv);;All files (*)"


class ImportFiles(QtCore.QObject):
    """Open a model or data file into the controller's experiment (dialogs overridable in tests)."""

    def __init__(self, window, controller, error):
        super().__init__(window)
        self.window, self.controller, self.error = window, controller, error

    def ask(self, title: str, filt: str) -> str:
        return QtWidgets.QFileDialog.getOpenFileName(self.window, title, "", filt)[0]

    def open_model(self, path: str | None = None) -> bool:
        """The model in ``path`` (asked when None) replaces the network; the rest of the experiment, and your
        data if the task is the file task, stay."""
        from ..train.imported import data_of, experiment_for

        path = path or self.ask("Open a trained model", MODEL_FILTER)
        if not path:
            return False
        exp = self.controller.exp
        try:
            new = experiment_for(path, base=exp, data=data_of(exp))
        except ConfigError as exc:
            self.error("Cannot open model", str(exc))
            return False
        return self.controller.set_experiment(new)

    def open_data(self, path: str | None = None) -> bool:
        """Your sequences in ``path`` (asked when None) become the task (the file task), for the imported model or
        for rnnlab's own cell."""
        path = path or self.ask("Open your sequences", DATA_FILTER)
        if not path:
            return False
        try:
            new = self.controller.exp.with_changes({"task.name": "file", "task.path": str(Path(path).resolve())})
            from ..train import rules

            rules.check(new)
        except ConfigError as exc:
            self.error("Cannot open data", str(exc))
            return False
        return self.controller.set_experiment(new)
