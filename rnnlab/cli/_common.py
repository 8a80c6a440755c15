"""What the command modules share: the one-line error, the experiment arguments, the progress bar, and the
argument checks that several commands make. Stdlib only at import time (NumPy and Qt load inside commands)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from typing import Iterator

__all__ = ["CLIError", "add_experiment_args", "add_model_args", "load_experiment", "require_source",
           "config_errors", "check_at_least", "MAX_STEPS", "Progress", "RunProgress", "FractionProgress", "offscreen_qt",
           "lesson_step"]


class CLIError(Exception):
    """A one-line error for the user (exit status 2)."""


def add_experiment_args(p: argparse.ArgumentParser, preset: bool = True) -> None:
    """``--preset NAME``, ``--config FILE`` and the repeatable ``--set KEY=VALUE`` (into ``args.overrides``)."""
    if preset:
        p.add_argument("--preset", metavar="NAME", help="start from a built-in preset (see `rnnlab presets`)")
    p.add_argument("--config", metavar="FILE", help="experiment TOML file")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                   help="override one setting, e.g. --set model.spectral_radius=1.5 (repeatable)")


def add_model_args(p: argparse.ArgumentParser) -> None:
    """``--model PATH`` (a trained model: .safetensors, .pt/.pth, .onnx or rnnlab's .npz) with ``--layer``,
    ``--direction`` and ``--readout``, and ``--data PATH`` (your sequences: the file task); see docs/import.md."""
    p.add_argument("--model", metavar="PATH", help="open a trained model instead of drawing new weights: a PyTorch "
                                                   "state_dict (.safetensors, .pt/.pth), an ONNX model (.onnx) or "
                                                   "rnnlab's own .npz (see docs/import.md)")
    p.add_argument("--layer", type=int, metavar="K", help="with --model: the recurrent layer to diagnose (default 0); "
                                                          "the layers below it feed it as a fixed front end")
    p.add_argument("--direction", choices=("forward", "backward"),
                   help="with --model: the direction of a bidirectional layer (default forward)")
    p.add_argument("--readout", metavar="NAME", help="with --model: the linear layer to use as the readout (it must "
                                                     "take H inputs; default: the only one that does)")
    p.add_argument("--data", metavar="PATH", help="your sequences (.npz, .npy or .csv): the file task; with --model "
                                                  "they feed the model and the probe batch is drawn from them")


def load_experiment(args: argparse.Namespace):
    """The experiment named by ``--preset`` / ``--config`` / ``--set`` (defaults when none is given), and with
    ``--model`` / ``--data`` (where the command has them) the imported model and your data on top."""
    from ..config import ConfigError, Experiment, load_toml, parse_override

    preset = getattr(args, "preset", None)
    if preset and args.config:
        raise CLIError("give either --preset or --config, not both")
    model = getattr(args, "model", None)
    data = getattr(args, "data", None)
    if not model:
        for flag in ("layer", "direction", "readout"):
            if getattr(args, flag, None) is not None:
                raise CLIError(f"--{flag} needs --model")
    try:
        if preset:
            from ..presets import load_preset

            exp = load_preset(preset)
        elif args.config:
            exp = load_toml(args.config)
        else:
            exp = Experiment()
        changes = dict(parse_override(text) for text in args.overrides)
        if model:
            from ..train.imported import experiment_for

            return experiment_for(model, layer=args.layer or 0, direction=args.direction or "forward",
                                  readout=args.readout or "", data=data,
                                  base=exp if (preset or args.config) else None, changes=changes)
        if data:
            changes = {"task.name": "file", "task.path": data, **changes}
        return exp.with_changes(changes)
    except ConfigError as exc:
        raise CLIError(str(exc)) from None


def require_source(args: argparse.Namespace) -> None:
    """Commands that train need an explicit experiment: ``--preset``, ``--config``, ``--model`` or ``--data``."""
    flags = [(a, f"--{a} {m}") for a, m in (("preset", "NAME"), ("config", "FILE"), ("model", "PATH"),
                                            ("data", "PATH")) if hasattr(args, a)]
    if not any(getattr(args, a, None) for a, _ in flags):
        names = [text for _, text in flags]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        raise CLIError(f"give {listed} (see `rnnlab presets`)")


#: the most training steps any command runs (training.steps has the same bound)
MAX_STEPS = 100_000_000


def check_at_least(name: str, value: int | None, low: int = 1, high: int | None = None) -> None:
    """``--name N`` must be an integer in [``low``, ``high``] (None: not given, fine)."""
    if value is None:
        return
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        text = str(value) if len(str(value)) <= 30 else str(value)[:29] + "…"
        raise CLIError(f"{name} {text}: expected an integer {bound}")


@contextmanager
def config_errors() -> Iterator[None]:
    """Turn a ConfigError raised inside the block into a CLIError (one line, exit status 2)."""
    from ..config import ConfigError

    try:
        yield
    except ConfigError as exc:
        raise CLIError(str(exc)) from None


def offscreen_qt() -> None:
    """Before a command renders with Qt: choose the offscreen platform unless a QApplication exists already (or
    the user chose a platform). Effective only before Qt creates its application."""
    qtw = sys.modules.get("PySide6.QtWidgets")
    if qtw is None or qtw.QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal, every 10 % otherwise)."""

    def __init__(self, total: int, stream=None, width: int = 30):
        self.total, self.width = max(1, total), width
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1
        self._t0 = time.perf_counter()

    def update(self, done: int, text: str = "") -> None:
        frac = min(1.0, done / self.total)
        if self.tty:
            self.stream.write("\r" + self._line(done, frac, text))
            self.stream.flush()
        else:
            decile = int(frac * 10)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(self._plain(done, frac, text) + "\n")
                self.stream.flush()

    def _plain(self, done: int, frac: float, text: str) -> str:
        """The line written every 10 % when the stream is not a terminal."""
        return f"{int(frac * 100):3d}% ({done}/{self.total}) {text}"

    def _line(self, done: int, frac: float, text: str) -> str:
        n = int(frac * self.width)
        rate = done / max(1e-9, time.perf_counter() - self._t0)
        return f"[{'#' * n}{'.' * (self.width - n)}] {done}/{self.total} {rate:6.0f} steps/s {text}   "

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class RunProgress(Progress):
    """The progress bar counting runs (with an ETA) instead of training steps."""

    def _line(self, done: int, frac: float, text: str) -> str:
        n = int(frac * self.width)
        elapsed = time.perf_counter() - self._t0
        eta = f"ETA {elapsed / done * (self.total - done):.0f} s" if done else ""
        return f"[{'#' * n}{'.' * (self.width - n)}] {done}/{self.total} runs  {text}  {eta}   "


class FractionProgress(Progress):
    """A progress bar for work measured as a fraction done (``update(fraction)``), redrawn at most 10 times a
    second on a terminal (every 10 % otherwise), with the elapsed time and an estimate of the rest."""

    def __init__(self, label: str, stream=None, width: int = 30):
        super().__init__(1000, stream, width)
        self.label = label
        self._last = 0.0

    def update(self, fraction: float, text: str = "") -> None:  # type: ignore[override]
        now = time.perf_counter()
        done = int(1000 * min(1.0, max(0.0, fraction)))
        if self.tty and now - self._last < 0.1 and done < 1000:
            return
        self._last = now
        super().update(done, text)

    def _line(self, done: int, frac: float, text: str) -> str:
        n = int(frac * self.width)
        return f"{self.label} [{'#' * n}{'.' * (self.width - n)}] {self._plain(done, frac, text)}  "

    def _plain(self, done: int, frac: float, text: str) -> str:
        elapsed = time.perf_counter() - self._t0
        eta = f", ~{elapsed / frac * (1 - frac):.0f} s left" if 0.02 < frac < 1 else ""
        return f"{self.label} {100 * frac:3.0f}% ({elapsed:.0f} s{eta}) {text}".rstrip()


def lesson_step(args: argparse.Namespace) -> tuple[str, int] | None:
    """``(lesson, step)`` from ``--lesson NAME --step K`` (None without ``--lesson``), checked: the lesson loads
    and has a step K."""
    if not getattr(args, "lesson", None):
        return None
    from ..lessons import LessonError, load_lesson

    try:
        n = len(load_lesson(args.lesson).steps)
    except (LessonError, FileNotFoundError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    if not 1 <= args.step <= n:
        raise CLIError(f"--step {args.step}: lesson {args.lesson!r} has steps 1 to {n}")
    return args.lesson, args.step
