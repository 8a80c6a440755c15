"""Your own sequences from a file: the ``file`` task.

Formats (``task.path``):

* ``.npz`` with ``x`` (N, T, I) (or (N, T) for one feature), optional ``lengths`` (N,) (sequence n uses its
  first ``lengths[n]`` steps; the rest is padding and is never scored) and targets ``y``: with
  ``task.target = "last"``, (N,) class ids or (N,)/(N, O) values; with ``"every"``, (N, T) class ids or
  (N, T)/(N, T, O) values. Without ``y`` the file gives inputs only.
* ``.npy``: one array ``x`` as above, inputs only.
* ``.csv``: a header row, then one row per time step; the column ``task.id_column`` names the sequence of each
  row (rows of one sequence in time order; sequences in the order they first appear), ``task.target_columns``
  (comma-separated) hold the targets, ``task.feature_columns`` the features (empty: every other column). With
  ``target = "last"`` only the last row of each sequence needs a target. Class labels that are not integers are numbered in sorted order.

Classification targets are integer class ids ≥ 0 (softmax output, cross-entropy); regression targets are numbers
(linear output, squared error). Inputs only: nothing is scored, so only the state diagnostics apply.

``task.holdout`` of the sequences (a fixed shuffle, the same for every seed) are held out: the success rate is
measured on them; training batches and the probe batch come from the rest. Baseline ("learned nothing"): the
majority class of the training sequences (its cross-entropy is the entropy of their class frequencies) or the
mean of their targets (its squared error is their variance), the success rate of that predictor on the held-out
sequences.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...config import ConfigError, _short
from ...models._guard import is_zip, reason
from .base import REGRESSION_NRMSE_THRESHOLD, Baseline, Batch, Task, _check_batch_size, _sequence_nrmse

__all__ = ["FileTask", "Sequences", "load_sequences", "DATA_LIMIT"]

#: largest data file rnnlab reads (bytes)
DATA_LIMIT = 1024**3
#: the fixed shuffle that decides which sequences are held out
SPLIT_SEED = 20130617


@dataclass(frozen=True)
class Sequences:
    """Sequences read from a file: ``x`` (N, T, I) float64 zero-padded after ``lengths`` (N,); ``y`` None (inputs
    only), class ids (N,) or (N, T) int64, or values (N, O) or (N, T, O) float64; ``labels`` the class names of
    a CSV whose labels are not integers."""

    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray | None
    labels: tuple[str, ...] | None = None


def _fail(path: Path, text: str) -> ConfigError:
    return ConfigError(f"{path.name}: {text}")


@functools.lru_cache(maxsize=4)
def _load_cached(key: tuple) -> Sequences:
    path, _, _, target, kind, id_column, target_columns, feature_columns = key
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _load_csv(path, target, kind, id_column, target_columns, feature_columns)
    if suffix == ".npz":
        return _load_npz(path, target, kind)
    if suffix == ".npy":
        return _load_npy(path)
    raise _fail(path, f"unknown data format {_short(suffix or '(no suffix)')}; rnnlab reads .npz, .npy and .csv")


def load_sequences(path, target: str = "last", kind: str = "classification", id_column: str = "sequence",
                   target_columns: str = "target", feature_columns: str = "") -> Sequences:
    """Read and check a data file (see the module docstring); one ConfigError line names any problem."""
    from ...models._guard import checked_file

    p = checked_file(path, "a data file (task.path)", DATA_LIMIT)
    st = p.stat()
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size, target, kind, id_column, target_columns, feature_columns)
    return _load_cached(key)


def _check_x(path: Path, x: np.ndarray, name: str = "x") -> np.ndarray:
    if x.dtype.kind not in "fiub":
        raise _fail(path, f"{name} holds {x.dtype} values, expected numbers")
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3 or min(x.shape) == 0:
        raise _fail(path, f"{name} has shape {tuple(x.shape)}, expected (N, T, I) sequences of feature vectors")
    x = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        n, t, i = (int(v) for v in np.argwhere(bad)[0])
        raise _fail(path, f"{name}[{n}, {t}, {i}] is {x[n, t, i]}: inputs must be finite")
    return x


def _load_npy(path: Path) -> Sequences:
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise _fail(path, f"not a readable .npy array ({reason(exc, 100)})") from None
    x = _check_x(path, x)
    return Sequences(x, np.full(x.shape[0], x.shape[1]), None)


def _load_npz(path: Path, target: str, kind: str) -> Sequences:
    if not is_zip(path):
        raise _fail(path, "not a readable .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files if k in ("x", "y", "lengths")}
            names = list(f.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise _fail(path, f"not a readable .npz file ({reason(exc, 100)})") from None
    if "x" not in arrays:
        raise _fail(path, f"no array 'x' (the inputs, (N, T, I)); it holds {_short(', '.join(names) or 'nothing')}")
    x = _check_x(path, arrays["x"])
    N, T, _ = x.shape
    lengths = np.full(N, T)
    if "lengths" in arrays:
        ln = arrays["lengths"]
        if ln.shape != (N,) or ln.dtype.kind not in "iu" or ln.min() < 1 or ln.max() > T:
            raise _fail(path, f"lengths must be (N,) = ({N},) integers in [1, {T}], got {_short(ln.dtype.name)} "
                              f"{tuple(ln.shape)}")
        lengths = ln.astype(np.int64)
    y = arrays.get("y")
    if y is not None:
        y = _check_y(path, y, N, T, target, kind, "y")
    return Sequences(_zero_padding(x, lengths), lengths, y)


def _zero_padding(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    t = np.arange(x.shape[1])
    return np.where((t[None, :] < lengths[:, None])[..., None], x, 0.0)


def _check_y(path: Path, y: np.ndarray, N: int, T: int, target: str, kind: str, name: str) -> np.ndarray:
    want = (N,) if target == "last" else (N, T)
    if kind == "classification":
        if y.shape != want:
            raise _fail(path, f"{name} has shape {tuple(y.shape)}; with task.target = {target!r} classification "
                              f"expects {want} class ids")
        if y.dtype.kind == "f":
            if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
                raise _fail(path, f"{name} holds non-integer values; classification expects class ids 0, 1, 2, … "
                                  "(or set task.kind = 'regression')")
        elif y.dtype.kind not in "iub":
            raise _fail(path, f"{name} holds {y.dtype} values, expected integer class ids")
        if y.size and y.min() < 0:
            raise _fail(path, f"{name} holds the class {int(y.min())}; class ids start at 0")
        return y.astype(np.int64)
    if y.dtype.kind not in "fiub":
        raise _fail(path, f"{name} holds {y.dtype} values, expected numbers")
    if y.shape == want:
        y = y[..., None]
    if y.ndim != len(want) + 1 or y.shape[: len(want)] != want or y.shape[-1] == 0:
        shapes = "(N,) or (N, O)" if target == "last" else "(N, T) or (N, T, O)"
        raise _fail(path, f"{name} has shape {tuple(y.shape)}; with task.target = {target!r} regression expects "
                          f"{shapes} values")
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise _fail(path, f"{name} holds a non-finite value; targets must be finite")
    return y


def _load_csv(path: Path, target: str, kind: str, id_column: str, target_columns: str,
              feature_columns: str) -> Sequences:
    from ...models._guard import read_bytes

    try:
        text = read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 text (byte {exc.start})") from None
    if "\0" in text:
        raise _fail(path, "holds NUL characters: not a text file")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise _fail(path, f"not a readable CSV file ({reason(exc, 100)})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise _fail(path, "expected a header row and at least one row of data")
    header = [c.strip() for c in rows[0]]
    if id_column not in header:
        raise _fail(path, f"no column {_short(id_column)} (task.id_column) naming the sequence of each row; the "
                          f"columns are {_short(', '.join(header))}")
    targets = [c.strip() for c in target_columns.split(",") if c.strip()]
    missing = [c for c in targets if c not in header]
    if missing:
        raise _fail(path, f"no target column {_short(missing[0])} (task.target_columns); the columns are "
                          f"{_short(', '.join(header))}")
    if kind == "classification" and len(targets) > 1:
        raise _fail(path, f"classification takes one target column, task.target_columns names {len(targets)}")
    id_i = header.index(id_column)
    t_idx = [header.index(c) for c in targets]
    features = [c.strip() for c in feature_columns.split(",") if c.strip()]
    missing = [c for c in features if c not in header]
    if missing:
        raise _fail(path, f"no feature column {_short(missing[0])} (task.feature_columns); the columns are "
                          f"{_short(', '.join(header))}")
    if features:
        f_idx = [header.index(c) for c in features]
    else:
        f_idx = [i for i, c in enumerate(header) if i != id_i and i not in t_idx]
    if not f_idx:
        raise _fail(path, "no feature column (every column is the id or a target)")
    groups: dict[str, list[int]] = {}
    for r in range(1, len(rows)):
        if len(rows[r]) != len(header):
            raise _fail(path, f"row {r + 1} has {len(rows[r])} fields, the header {len(header)}")
        groups.setdefault(rows[r][id_i].strip(), []).append(r)
    N, T, I = len(groups), max(len(g) for g in groups.values()), len(f_idx)
    x = np.zeros((N, T, I))
    lengths = np.zeros(N, dtype=np.int64)

    def number(r: int, i: int) -> float:
        cell = rows[r][i].strip()
        try:
            v = float(cell)
        except ValueError:
            raise _fail(path, f"row {r + 1}, column {_short(header[i])}: {_short(cell)} is not a number") from None
        if not math.isfinite(v):
            raise _fail(path, f"row {r + 1}, column {_short(header[i])}: {_short(cell)} is not finite")
        return v

    cells: list[tuple[int, int, int]] = []  # (sequence, step, row) of every target read
    for n, rs in enumerate(groups.values()):
        lengths[n] = len(rs)
        for t, r in enumerate(rs):
            x[n, t] = [number(r, i) for i in f_idx]
        if targets:
            for t, r in enumerate(rs):
                if target == "every" or t == len(rs) - 1:
                    cells.append((n, t, r))
    labels = None
    y = None
    if targets:
        for n, t, r in cells:
            if any(not rows[r][i].strip() for i in t_idx):
                raise _fail(path, f"row {r + 1}: the target {'is' if len(t_idx) == 1 else 'are'} empty")
        if kind == "classification":
            vals = [rows[r][t_idx[0]].strip() for _, _, r in cells]
            try:
                ids = [int(v) for v in vals]
                if min(ids) < 0:
                    raise ValueError
            except ValueError:
                labels = tuple(sorted(set(vals)))
                ids = [labels.index(v) for v in vals]
            y = np.zeros((N,) if target == "last" else (N, T), dtype=np.int64)
            for (n, t, _), c in zip(cells, ids):
                y[n if target == "last" else (n, t)] = c
        else:
            O = len(t_idx)
            y = np.zeros((N, O) if target == "last" else (N, T, O))
            for n, t, r in cells:
                y[n if target == "last" else (n, t)] = [number(r, i) for i in t_idx]
    return Sequences(x, lengths, y, labels)


class FileTask(Task):
    """Your sequences from a file (see the module docstring).

    Reference: none (the user's data); baseline as in the module docstring.
    """

    name = "file"
    generative = False
    min_length = 1
    reads_length = False
    reads_file = True
    settings = ("task.path", "task.target", "task.kind", "task.holdout", "task.id_column", "task.target_columns",
                "task.feature_columns")

    def __init__(self, path: str, target: str = "last", kind: str = "classification", holdout: float = 0.2,
                 id_column: str = "sequence", target_columns: str = "target", feature_columns: str = "") -> None:
        if not path:
            raise ConfigError("task.path is empty: the file task needs your data file (.npz, .npy or .csv; "
                              "File ▸ Open data…, or --data)")
        seqs = load_sequences(path, target, kind, id_column, target_columns, feature_columns)
        self.path = Path(os.fspath(path))
        self.data = seqs
        N, T, I = seqs.x.shape
        super().__init__(T)
        self.n_in = I
        self.kind = kind
        self.readout = target
        self.has_targets = seqs.y is not None
        if not self.has_targets:
            self.n_out = 0
            self.no_loss = (f"no targets: {self.path.name} holds inputs only, so nothing is scored (the loss, the "
                            "gradient flow and training need targets)")
        elif kind == "classification":
            self.n_out = int(seqs.y.max()) + 1
        else:
            self.n_out = int(seqs.y.shape[-1])
        perm = np.random.default_rng(SPLIT_SEED).permutation(N)
        n_hold = min(int(round(holdout * N)), N - 1)
        self.held = np.sort(perm[:n_hold])
        self.train = np.sort(perm[n_hold:])
        self._variance = 1.0
        self.baseline = self._baseline()
        what = ("inputs only" if not self.has_targets else
                f"{'a class' if kind == 'classification' else 'a value'} at "
                f"{'the last step' if target == 'last' else 'every step'}"
                + (f" ({self.n_out} classes)" if kind == "classification" else f" ({self.n_out} outputs)"))
        self.description = (f"Your sequences from {self.path.name}: {N} sequences of up to {T} steps with {I} "
                            f"feature{'s' if I > 1 else ''} each, {what}; {n_hold} held out for the success rate.")

    @classmethod
    def from_config(cls, cfg) -> "FileTask":
        return cls(cfg.path, cfg.target, cfg.kind, cfg.holdout, cfg.id_column, cfg.target_columns,
                   cfg.feature_columns)

    def __repr__(self) -> str:
        return f"FileTask({str(self.path)!r})"

    # --- batches ----------------------------------------------------------------------------------------------
    def _batch(self, idx: np.ndarray) -> Batch:
        d = self.data
        x = np.ascontiguousarray(d.x[idx].transpose(1, 0, 2))
        T, B = x.shape[:2]
        ln = d.lengths[idx]
        alive = (np.arange(T)[:, None] < ln[None, :]).astype(np.float64)
        if not self.has_targets:
            return Batch(x=x, y=np.zeros((T, B, 0)), mask=np.zeros((T, B)), info={"index": idx, "lengths": ln})
        if self.readout == "last":
            mask = np.zeros((T, B))
            mask[ln - 1, np.arange(B)] = 1.0
        else:
            mask = alive
        if self.kind == "classification":
            y = np.zeros((T, B), dtype=np.int64)
            if self.readout == "last":
                y[ln - 1, np.arange(B)] = d.y[idx]
            else:
                y = np.ascontiguousarray(d.y[idx].T) * (mask > 0)
        else:
            O = d.y.shape[-1]
            y = np.zeros((T, B, O))
            if self.readout == "last":
                y[ln - 1, np.arange(B)] = d.y[idx]
            else:
                y = np.ascontiguousarray(d.y[idx].transpose(1, 0, 2)) * mask[..., None]
        return Batch(x=x, y=y, mask=mask, info={"index": idx, "lengths": ln})

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """``batch_size`` training sequences drawn at random (without replacement while there are enough)."""
        B = _check_batch_size(batch_size)
        idx = rng.choice(self.train, size=B, replace=B > self.train.size)
        return self._batch(idx)

    def sample_heldout(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """The held-out sequences (all of them, or ``batch_size`` drawn from them); the training sequences when
        none are held out."""
        pool = self.held if self.held.size else self.train
        n = _check_batch_size(batch_size)
        idx = pool if n >= pool.size else np.sort(rng.choice(pool, size=n, replace=False))
        return self._batch(idx)

    def fitted(self, n_in: int, n_out: int) -> "FileTask":
        if n_in != self.n_in:
            raise ValueError(f"{self.path.name} has {self.n_in} feature{'s' if self.n_in > 1 else ''} per step, the "
                             f"model takes {n_in}")
        if n_out == 0 or not self.has_targets:
            return self
        if self.kind == "classification" and self.n_out > n_out:
            raise ValueError(f"{self.path.name} has {self.n_out} classes (0 … {self.n_out - 1}), the model's readout "
                             f"has {n_out} outputs")
        if self.kind == "regression" and self.n_out != n_out:
            raise ValueError(f"{self.path.name} has {self.n_out} target value{'s' if self.n_out > 1 else ''} per "
                             f"sequence step, the model's readout has {n_out} outputs")
        import copy

        task = copy.copy(self)
        task.n_out = n_out
        return task

    # --- success and baseline ---------------------------------------------------------------------------------
    def success(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        if not self.has_targets:
            return np.zeros(batch.x.shape[1], dtype=bool)
        out = self._check_out(out, batch)
        if self.kind == "classification":
            return super().success(out, batch)
        return _sequence_nrmse(out, batch, self._variance) < REGRESSION_NRMSE_THRESHOLD

    def _baseline(self) -> Baseline:
        if not self.has_targets:
            return Baseline(loss=math.nan, success_rate=math.nan, accuracy=None,
                            note="The file holds no targets: there is no loss and no success rate.")
        tr = self._batch(self.train)
        ho = self._batch(self.held if self.held.size else self.train)
        where = "held-out" if self.held.size else "training (none are held out)"
        if self.kind == "classification":
            counts = np.bincount(tr.y[tr.mask > 0], minlength=self.n_out).astype(np.float64)
            p = counts / counts.sum()
            loss = float(-np.sum(p[p > 0] * np.log(p[p > 0])))
            top = int(np.argmax(counts))
            scored = ho.mask > 0
            right = (ho.y == top) | ~scored
            rate = float(np.mean(np.all(right, axis=0)))
            acc = float(np.mean(ho.y[scored] == top))
            return Baseline(loss=loss, success_rate=rate, accuracy=acc,
                            note=(f"Always answering the most frequent class of the training sequences ({top}, "
                                  f"{100 * p[top]:.1f} %) is right for {100 * rate:.1f} % of the {where} sequences; "
                                  f"the best input-free cross-entropy is the entropy of the class frequencies, "
                                  f"{loss:.4f}."))
        m = tr.mask > 0
        mu = tr.y[m].mean(axis=0)
        var = float(np.mean((tr.y[m] - mu) ** 2))
        self._variance = var if var > 0 else 1.0
        pred = np.broadcast_to(mu, ho.y.shape)
        rate = float(np.mean(_sequence_nrmse(pred, ho, self._variance) < REGRESSION_NRMSE_THRESHOLD))
        return Baseline(loss=var, success_rate=rate, accuracy=None,
                        note=(f"Always predicting the mean target of the training sequences has a squared error of "
                              f"{var:.4g} (their variance) and passes NRMSE < {REGRESSION_NRMSE_THRESHOLD} on "
                              f"{100 * rate:.1f} % of the {where} sequences."))
