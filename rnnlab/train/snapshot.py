"""Immutable snapshots of a training run: what the trainer hands to its consumers (the app, the CLI, a notebook).

A :class:`Snapshot` owns copies of every array it holds (never views of arrays the trainer keeps changing), so a
consumer on another thread may keep it as long as it likes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["HISTORY_COLUMNS", "Event", "Explosion", "Snapshot", "History", "DecimatedTable", "RECENT_ROWS",
           "MAX_PICTURE", "block_mean", "for_display"]

#: per-step columns of the history (and of ``metrics.csv``)
HISTORY_COLUMNS = (
    "step",
    "loss",
    "metric",
    "accuracy",
    "grad_norm",
    "grad_norm_clipped",
    "clipped",
    "spectral_radius",
    "sigma_max",
    "regularizer",
    "penalty",
    "learning_rate",
    "grad_W_hh",
    "grad_W_hx",
    "grad_W_yh",
)


@dataclass(frozen=True)
class Event:
    """A setting that changed at a step (drawn as a marker on every time-series view)."""

    step: int
    text: str

    @property
    def starts_run(self) -> bool:
        """Whether this event begins a new run (new weights: everything drawn before belongs to another run)."""
        return self.text.startswith("reset")


@dataclass(frozen=True)
class Explosion:
    """What became non-finite, and when."""

    step: int
    what: str
    last_finite_grad_norm: float
    checkpoint_step: int

    def message(self) -> str:
        return (f"{self.what} at step {self.step}; the last finite gradient norm was "
                f"{self.last_finite_grad_norm:.3g}. Rewind restores the weights of step {self.checkpoint_step}, "
                "before the trouble began.")


#: rows kept at full resolution, the most recent ones (at least this many; up to RECENT_ROWS + CHUNK_ROWS)
RECENT_ROWS = 10_000
#: older rows are decimated this many at a time ...
CHUNK_ROWS = 5_000
#: ... in blocks of this many rows, each kept as two rows (its per-column minimum and maximum)
BLOCK_ROWS = 50
#: the decimated part holds at most this many rows; when it is full, its blocks are merged pairwise
COARSE_ROWS = 8_000


class DecimatedTable:
    """Rows of float64 columns (column 0 is the step, increasing) in bounded memory.

    The most recent :data:`RECENT_ROWS` rows (or up to :data:`CHUNK_ROWS` more) are kept as they came. Older rows
    are decimated, :data:`CHUNK_ROWS` at a time: every block of :data:`BLOCK_ROWS` rows becomes two rows, the
    per-column minimum (at the block's first step) and the per-column maximum (at its last step), so a spike, an
    explosion (∞) or a clipping flag stays visible however far back it happened. NaN entries are ignored by the
    extremes (a block with no value stays NaN). When the decimated part exceeds :data:`COARSE_ROWS` rows, adjacent
    blocks merge pairwise (minimum of minima, maximum of maxima): the table never holds more than
    ``RECENT_ROWS + CHUNK_ROWS + COARSE_ROWS`` rows (23,000: 2.8 MB for 15 columns), whatever the run length.

    Rows at full resolution carry serial numbers (the count of rows appended before them), so a reader can take
    the rows it has not seen yet (:meth:`since_serial`) even though older rows move when they are decimated.
    """

    def __init__(self, ncols: int, capacity: int = 1024, recent: int = RECENT_ROWS, chunk: int = CHUNK_ROWS,
                 block: int = BLOCK_ROWS, coarse: int = COARSE_ROWS):
        if chunk % block or chunk < block:
            raise ValueError("chunk must be a multiple of block")
        self.recent, self.chunk, self.block, self.coarse = recent, chunk, block, coarse
        self.max_rows = recent + chunk + coarse + 2
        self._data = np.full((min(capacity, self.max_rows), ncols), np.nan)
        self.n = 0  # rows stored
        self.n_coarse = 0  # rows [0, n_coarse) are decimated (pairs: minimum row, maximum row)
        self.serial_start = 0  # serial number of row n_coarse (the first at full resolution)
        self.decimated_steps = 0.0  # how many rows the decimated part stands for

    @property
    def serial_end(self) -> int:
        """Serial number of the next row appended."""
        return self.serial_start + self.n - self.n_coarse

    @property
    def data(self) -> np.ndarray:
        """A view of the rows stored, (n, ncols) (valid until the next change)."""
        return self._data[: self.n]

    def clear(self) -> None:
        self.n = self.n_coarse = 0
        self.serial_start = 0
        self.decimated_steps = 0.0

    def append_rows(self, rows: np.ndarray) -> None:
        """Append rows (m, ncols), oldest first; decimate the oldest full-resolution rows when there are more
        than ``recent + chunk`` of them."""
        rows = np.asarray(rows, dtype=np.float64)
        i = 0
        while i < len(rows):
            room = self.recent + self.chunk - (self.n - self.n_coarse)
            if room <= 0:
                self._compact()
                continue
            part = rows[i : i + room]
            self._reserve(self.n + len(part))
            self._data[self.n : self.n + len(part)] = part
            self.n += len(part)
            i += len(part)

    def append_row(self, values) -> None:
        """Append one row (a sequence of ncols values); the per-step path of the trainer."""
        if self.n - self.n_coarse >= self.recent + self.chunk:
            self._compact()
        self._reserve(self.n + 1)
        self._data[self.n] = values
        self.n += 1

    def _reserve(self, need: int) -> None:
        if need <= self._data.shape[0]:
            return
        cap = min(max(need, 2 * self._data.shape[0]), self.max_rows)
        grown = np.full((max(cap, need), self._data.shape[1]), np.nan)
        grown[: self.n] = self._data[: self.n]
        self._data = grown

    def _compact(self) -> None:
        """Decimate the oldest ``chunk`` full-resolution rows into 2·chunk/block rows."""
        a, k = self.n_coarse, self.block
        nb = self.chunk // k
        blocks = self._data[a : a + nb * k].reshape(nb, k, -1)
        pairs = _extremes(blocks)  # (nb, 2, ncols)
        rest = self._data[a + nb * k : self.n].copy()
        self._data[a : a + 2 * nb] = pairs.reshape(2 * nb, -1)
        self._data[a + 2 * nb : a + 2 * nb + len(rest)] = rest
        self.n_coarse = a + 2 * nb
        self.n = self.n_coarse + len(rest)
        self.serial_start += nb * k
        self.decimated_steps += nb * k
        if self.n_coarse > self.coarse:
            self._merge_coarse()

    def _merge_coarse(self) -> None:
        """Merge adjacent decimated blocks pairwise (halving the decimated part)."""
        nb = self.n_coarse // 2
        nb -= nb % 2
        if nb < 2:
            return
        pairs = self._data[: 2 * nb].reshape(nb // 2, 2, 2, -1)  # (pair of blocks, block, min/max, ncols)
        merged = _extremes(pairs.reshape(nb // 2, 4, -1))
        merged[:, 0, 0] = pairs[:, 0, 0, 0]  # steps: the first block's first, the second block's last
        merged[:, 1, 0] = pairs[:, 1, 1, 0]
        tail = self._data[2 * nb : self.n].copy()
        self._data[: nb] = merged.reshape(nb, -1)
        self._data[nb : nb + len(tail)] = tail
        self.n_coarse -= nb
        self.n -= nb

    def since_serial(self, serial: int) -> np.ndarray:
        """A copy of the full-resolution rows whose serial number is ``serial`` or later (rows already decimated
        are no longer available one by one)."""
        start = self.n_coarse + max(0, serial - self.serial_start)
        return self._data[min(start, self.n) : self.n].copy()

    def truncate_after(self, step: float) -> None:
        """Drop every row whose step is after ``step`` (a rewind or a reset); a decimated pair that reaches past
        it is dropped whole."""
        keep = int(np.searchsorted(self._data[: self.n, 0], step, side="right"))
        if keep < self.n_coarse:
            keep -= keep % 2
            self.n_coarse = keep
            self.serial_start = self.serial_end  # (nothing at full resolution is left)
        self.n = keep


def _extremes(blocks: np.ndarray) -> np.ndarray:
    """(nb, k, ncols) → (nb, 2, ncols): per block the column minima (step = the first row's) and maxima (step =
    the last row's); NaN ignored, and no warning for an all-NaN column."""
    lo = np.fmin.reduce(blocks, axis=1)
    hi = np.fmax.reduce(blocks, axis=1)
    lo[:, 0] = blocks[:, 0, 0]
    hi[:, 0] = blocks[:, -1, 0]
    return np.stack([lo, hi], axis=1)


class History:
    """The per-step scalars of a run (:data:`HISTORY_COLUMNS`) in bounded memory: the most recent rows at full
    resolution, older ones decimated with their extremes kept (:class:`DecimatedTable`)."""

    def __init__(self, capacity: int = 1024, **table_options):
        self._t = DecimatedTable(len(HISTORY_COLUMNS), capacity, **table_options)
        self._row = np.full(len(HISTORY_COLUMNS), np.nan)

    @property
    def n(self) -> int:
        """Rows stored (decimated ones included)."""
        return self._t.n

    @property
    def serial_end(self) -> int:
        """Serial number of the next row (see :meth:`since_serial`)."""
        return self._t.serial_end

    def append(self, row: dict) -> None:
        r = self._row
        for i, c in enumerate(HISTORY_COLUMNS):
            v = row.get(c)
            r[i] = np.nan if v is None else v
        self._t.append_row(r)

    def set_last(self, column: str, value: float) -> None:
        if self._t.n:
            self._t._data[self._t.n - 1, HISTORY_COLUMNS.index(column)] = value

    def _columns(self, block: np.ndarray) -> dict[str, np.ndarray]:
        return {c: block[:, i] for i, c in enumerate(HISTORY_COLUMNS)}

    def since_serial(self, serial: int) -> dict[str, np.ndarray]:
        """Copies of the full-resolution rows from serial number ``serial`` on, one array per column."""
        return self._columns(self._t.since_serial(serial))

    def table(self) -> dict[str, np.ndarray]:
        """Copies of every row stored (decimated ones first), one array per column."""
        return self._columns(self._t.data.copy())

    def since(self, start: int) -> dict[str, np.ndarray]:
        """Copies of the rows from index ``start`` of :meth:`table` on."""
        return self._columns(self._t.data[start:].copy())

    def truncate_after(self, step: int) -> None:
        """Forget the rows after ``step`` (a rewind)."""
        self._t.truncate_after(step)

    def arrays(self) -> dict[str, np.ndarray]:
        """The whole table and its bookkeeping as arrays (for a checkpoint file)."""
        t = self._t
        return {"rows": t.data.copy(), "meta": np.array([t.n_coarse, t.serial_start, t.decimated_steps])}

    @classmethod
    def from_arrays(cls, arrays: dict) -> "History":
        """The inverse of :meth:`arrays`."""
        rows = np.asarray(arrays["rows"], dtype=np.float64).reshape(-1, len(HISTORY_COLUMNS))
        meta = np.asarray(arrays["meta"], dtype=np.float64)
        h = cls(capacity=max(1024, len(rows)))
        t = h._t
        t._reserve(len(rows))
        t._data[: len(rows)] = rows
        t.n = len(rows)
        t.n_coarse, t.serial_start, t.decimated_steps = int(meta[0]), int(meta[1]), float(meta[2])
        return h


@dataclass(frozen=True)
class Snapshot:
    """The state of a run at one step: what the window draws and writes, nothing more.

    ``diagnostics`` (a :class:`~rnnlab.core.diagnostics.Diagnostics`) is ``None`` when the expensive part was not
    computed for this snapshot (it is computed only every so many steps); views then keep what they show.
    """

    step: int
    config: object  # Experiment
    history: dict  # column -> (n,) array: the per-step rows since the previous snapshot
    loss: float
    metric: float  # latest held-out success rate (NaN before the first measurement)
    rho: float
    sigma_max: float
    gamma: float
    remedies: tuple  # short texts: what acts against vanishing/exploding gradients now (status bar)
    events: tuple = ()
    explosion: Explosion | None = None
    baseline: object = None  # tasks.Baseline
    task_name: str = ""
    steps_per_second: float = float("nan")
    diagnostics: object = None  # Diagnostics | None
    #: 1, or f when the engine averaged the (T, T) pictures and the hidden states over blocks of f steps for the
    #: window (T > :data:`MAX_PICTURE`; see :func:`for_display`)
    picture_scale: int = 1
    checkpoints: tuple = ()  # the kept steps Rewind can go to (rnnlab.train.timeline)
    stopped: str = ""  # why training stopped on its own at this snapshot (a step budget, success), or ""
    #: whether the engine was going on training when it took this snapshot (playing, or steps asked for still to
    #: make); False after a Pause: no step follows it until the next command
    running: bool = False

    @property
    def exploded(self) -> bool:
        return self.explosion is not None

    def __reduce__(self):
        """Pickled compactly (the training process sends snapshots to the window): the (T, T) pictures of the
        diagnostics travel as their defined part only (rows computed, entries k ≤ t), which at T = 2000 with the
        budgeted heatmap is 1.5 MB instead of 64 MB; unpickling gives the same arrays (NaN elsewhere)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "diagnostics"}
        return (_restore, (fields, None if self.diagnostics is None else _pack(self.diagnostics)))

    @staticmethod
    def merge(snaps: "list[Snapshot]") -> "Snapshot":
        """One snapshot standing for several consecutive ones: the latest scalars, the concatenated history, all
        events, and the latest diagnostics that were computed."""
        if not snaps:
            raise ValueError("nothing to merge")
        # a reset in the middle ends the earlier run: its rows and events are not part of this one
        start = max((i for i, s in enumerate(snaps) if any(e.starts_run for e in s.events)), default=0)
        snaps = snaps[start:]
        if len(snaps) == 1:
            return snaps[0]
        last = snaps[-1]
        hist = {k: np.concatenate([s.history[k] for s in snaps]) for k in last.history}
        events = tuple(e for s in snaps for e in s.events)
        with_diag = next((s for s in reversed(snaps) if s.diagnostics is not None), None)
        stopped = next((s.stopped for s in reversed(snaps) if s.stopped), "")
        if with_diag is None:
            return dataclasses.replace(last, history=hist, events=events, diagnostics=None, stopped=stopped)
        return dataclasses.replace(last, history=hist, events=events, diagnostics=with_diag.diagnostics,
                                   picture_scale=with_diag.picture_scale, stopped=stopped)


#: the app's engine sends (T, T) pictures (and the (T, H) hidden states) of at most this many rows: at larger T
#: they are averaged over blocks of f steps (``Snapshot.picture_scale``), so that a frame stays quick to send and
#: to draw (measured at T = 10,000: 800 MB per picture, seconds of the window's time per frame)
MAX_PICTURE = 1024


def block_mean(a: np.ndarray, f: int, axes: tuple[int, ...] = (0, 1)) -> np.ndarray:
    """``a`` averaged over blocks of ``f`` entries along ``axes`` (the last block may be shorter), NaN entries left
    out (a block with none stays NaN); a block holding +inf is +inf, one holding only −inf (and NaN) is −inf."""
    if f <= 1:
        return np.asarray(a)
    a = np.asarray(a, dtype=np.float64)
    shape = list(a.shape)
    for ax in axes:
        shape[ax] = -(-a.shape[ax] // f) * f
    pad = np.full(shape, np.nan)
    pad[tuple(slice(0, n) for n in a.shape)] = a
    ok = np.isfinite(pad)

    def blocks(x: np.ndarray) -> np.ndarray:  # 2f strided additions per axis (faster than a 4-d reduction)
        for ax in axes:
            idx = [slice(None)] * x.ndim
            idx[ax] = slice(0, None, f)
            acc = x[tuple(idx)].astype(np.float64)
            for i in range(1, f):
                idx[ax] = slice(i, None, f)
                acc += x[tuple(idx)]
            x = acc
        return x

    n = blocks(ok)
    out = np.full(n.shape, np.nan)
    np.divide(blocks(np.where(ok, pad, 0.0)), n, out=out, where=n > 0)
    if np.isinf(pad).any():
        out[(n == 0) & (blocks(pad == -np.inf) > 0)] = -np.inf
        out[blocks(pad == np.inf) > 0] = np.inf
    return out


def for_display(snap: "Snapshot", limit: int = MAX_PICTURE) -> "Snapshot":
    """The snapshot the app's engine sends: with T > ``limit`` its (T, T) pictures and its hidden states averaged
    over blocks of f = ⌈T / limit⌉ steps (``picture_scale = f``; the lag profile and every other field stay exact)."""
    d = snap.diagnostics
    if d is None:
        return snap
    T = d.jacobian_log10.shape[0]
    if T <= limit:
        return snap
    f = -(-T // limit)
    changes = {}
    for fld in dataclasses.fields(d):
        v = getattr(d, fld.name)
        if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape == (T, T):
            changes[fld.name] = block_mean(v, f, (0, 1))
    changes["hidden"] = block_mean(d.hidden, f, (0,))
    return dataclasses.replace(snap, diagnostics=dataclasses.replace(d, **changes), picture_scale=f)


class _Triangle:
    """The defined part of a lower-triangular (T, T) array whose other entries are NaN: the row numbers that hold
    any value and, for each, its entries 0 … t."""

    __slots__ = ("shape", "dtype", "rows", "values")

    def __init__(self, a: np.ndarray):
        self.shape, self.dtype = a.shape, a.dtype
        self.rows = np.flatnonzero(~np.all(np.isnan(a), axis=1))
        self.values = np.concatenate([a[t, : t + 1] for t in self.rows]) if self.rows.size else np.zeros(0, a.dtype)

    def array(self) -> np.ndarray:
        out = np.full(self.shape, np.nan, dtype=self.dtype)
        i = 0
        for t in self.rows:
            out[t, : t + 1] = self.values[i : i + t + 1]
            i += t + 1
        return out


def _triangular(a) -> bool:
    """A large square float array with nothing but NaN above its diagonal (a heatmap)."""
    if not (isinstance(a, np.ndarray) and a.ndim == 2 and a.shape[0] == a.shape[1] and a.size >= 40_000
            and a.dtype.kind == "f"):
        return False
    return bool(np.all(np.isnan(a[np.triu_indices(a.shape[0], 1)])))


def _pack(diag):
    fields = {f.name: getattr(diag, f.name) for f in dataclasses.fields(diag)}
    return type(diag), {k: (_Triangle(v) if _triangular(v) else v) for k, v in fields.items()}


def _restore(fields: dict, packed) -> "Snapshot":
    diag = None
    if packed is not None:
        cls, values = packed
        diag = cls(**{k: (v.array() if isinstance(v, _Triangle) else v) for k, v in values.items()})
    return Snapshot(**fields, diagnostics=diag)
