"""Headless parameter sweeps: a grid of training runs on a process pool or a Dask cluster.

A sweep is the cartesian product of the grid axes (``{"model.spectral_radius": [0.5, 1, 2], "task.length":
[10, 30]}``) times ``seeds`` replicates (seed offsets 0..S−1 added to the experiment's ``seed``). Every run is
a pure function :func:`run_one` of ``(experiment, steps)``: it builds its own network and random streams from
the experiment's seed and shares nothing with other runs, so a process pool, a thread pool and a Dask cluster
give identical numbers (apart from the wall time)::

    from rnnlab.presets import load_preset
    from rnnlab.studies.sweep import run_sweep, write_csv

    exp = load_preset("exploding-tanh").replace(model__hidden_size=16, training__optimizer="adam",
                                                remedies__clip="norm")
    grid = {"model.spectral_radius": [0.5, 1.0, 1.5, 2.0], "task.length": [10, 30, 50]}
    rows = run_sweep(exp, grid, seeds=2, steps=600)      # on a local process pool
    write_csv(rows, "sweep.csv", grid)

The phase diagram is drawn by the app's view (:mod:`rnnlab.gui.sweep_view`, also for ``rnnlab sweep``'s
``phase.png``) from :func:`phase_cells`, which lays the rows out on two axes and pools any further ones.

With a Dask cluster: ``run_sweep(exp, grid, seeds, steps, executor=distributed.Client(address))``.

Each row (a dict, one per run) holds ``run`` (its index in the grid order), the grid values, ``seed`` (the seed
the run used), ``final_loss`` (mean training loss over the last 10 % of the steps; ``inf`` if the run
exploded), ``final_metric`` (held-out success rate at the end, on a fresh batch; 0 if it exploded), ``success``
(``final_metric >= success_threshold``), ``exploded``, ``steps`` (updates done) and ``wall_time_s``.

This module imports neither NumPy nor Qt at import time (the worker processes set their BLAS thread count
before NumPy loads), and never Qt. It is about 580 lines, above the ~500 guide: the grid, the runs, sweep.csv and
the layout of the phase diagram are one study whose parts share the grid's key order and the row format; where
the runs execute is apart, in :mod:`._pool`.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ._pool import as_completed, cancel, end_pool, limit_blas_threads, local_pool, submit

__all__ = [
    "RESULT_COLUMNS",
    "Run",
    "SweepInterrupted",
    "columns",
    "parse_grid_arg",
    "parse_grid",
    "check_grid",
    "plan_runs",
    "run_one",
    "run_sweep",
    "write_csv",
    "read_csv",
    "load_folder",
    "MAX_RUNS",
    "summarize",
    "format_summary",
    "SYMBOLS",
    "axis_label",
    "tick_text",
    "describe",
    "PhaseGrid",
    "phase_cells",
    "phase_notes",
]

#: the columns after the grid values, in order
RESULT_COLUMNS = ("seed", "final_loss", "final_metric", "success", "exploded", "steps", "wall_time_s")


class SweepInterrupted(KeyboardInterrupt):
    """The sweep was cancelled (Ctrl-C or a callback raised KeyboardInterrupt). ``rows`` holds the runs that
    finished (sorted by run index); ``total`` is the number of runs planned. Pending runs were cancelled."""

    def __init__(self, rows: list[dict], total: int):
        super().__init__(f"sweep interrupted after {len(rows)} of {total} runs")
        self.rows, self.total = rows, total


def columns(grid_keys: Iterable[str]) -> list[str]:
    """The CSV columns: ``run``, the grid keys in order, then :data:`RESULT_COLUMNS`."""
    return ["run", *grid_keys, *RESULT_COLUMNS]


# --- the grid ---------------------------------------------------------------------------------------------------

def _all_keys() -> list[str]:
    from ..config import describe_keys

    return [d["key"] for d in describe_keys()]


def _check_key(key: str) -> None:
    """Raise ConfigError (one line, with the valid keys) unless ``key`` is a dotted experiment key for a grid."""
    from ..config import ConfigError, SECTIONS, key_field

    if key == "seed":
        raise ConfigError("--grid seed: the seeds are swept with --seeds S (offsets 0..S-1 added to seed)")
    section = key.partition(".")[0]
    try:
        key_field(key)
    except ConfigError:
        if section in SECTIONS:  # the config's message lists the keys of that section
            raise
        keys = [k for k in _all_keys() if k != "seed"]
        raise ConfigError(f"unknown key {key!r}: expected one of {', '.join(keys)}") from None


def parse_grid_arg(text: str) -> tuple[str, list]:
    """Parse one ``--grid KEY=V1,V2,...`` into ``(key, [typed values])`` (ConfigError naming key and value)."""
    from ..config import ConfigError, parse_override

    if "=" not in text:
        raise ConfigError(f"--grid {text!r}: expected KEY=V1,V2,..., e.g. model.spectral_radius=0.5,1,1.5,2")
    key, _, raw = text.partition("=")
    key = key.strip()
    parts = [p.strip() for p in raw.split(",")]
    try:
        _check_key(key)
        if not parts or any(p == "" for p in parts):
            raise ConfigError(f"expected a comma-separated list of values, e.g. {key}=1,2,3")
        values = [parse_override(f"{key}={p}")[1] for p in parts]
    except ConfigError as exc:
        msg = str(exc)
        raise ConfigError(msg if msg.startswith("--grid") else f"--grid {key}: {msg}") from None
    if len(set(values)) != len(values):
        raise ConfigError(f"--grid {text!r}: a value is repeated")
    return key, values


def parse_grid(texts: Sequence[str]) -> dict[str, list]:
    """Several ``--grid`` strings into an ordered ``{key: [values]}`` (a key may appear only once)."""
    from ..config import ConfigError

    grid: dict[str, list] = {}
    for text in texts:
        key, values = parse_grid_arg(text)
        if key in grid:
            raise ConfigError(f"--grid {key} is given twice: give each key once with all its values")
        grid[key] = values
    return grid


def check_grid(exp, grid: dict[str, Sequence]) -> dict[str, list]:
    """Validate every key and every value of ``grid`` on ``exp``; return it with the values normalised
    (ints become floats for float keys). Raises ConfigError naming the key and the value."""
    from ..config import ConfigError

    out: dict[str, list] = {}
    for key, values in grid.items():
        _check_key(key)
        values = list(values)
        if not values:
            raise ConfigError(f"--grid {key}: no values")
        norm = []
        for v in values:
            if isinstance(v, str) and not isinstance(exp.get(key), str):
                from ..config import parse_override

                v = parse_override(f"{key}={v}")[1]
            try:
                norm.append(exp.replace(key, v).get(key))
            except ConfigError as exc:
                raise ConfigError(f"--grid {key}: {exc}") from None
        out[key] = norm
    return out


@dataclass(frozen=True)
class Run:
    """One planned run: its index, its grid values (``{key: value}``), its seed and its experiment."""

    index: int
    values: dict
    seed: int
    experiment: Any


def plan_runs(exp, grid: dict[str, Sequence], seeds: int = 1) -> list[Run]:
    """The runs of a sweep in grid order (first key outermost, seeds innermost). Every combination is built and
    checked here, so an unsupported combination fails before anything runs."""
    from ..config import ConfigError

    if not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"--seeds {seeds!r}: expected an integer >= 1")
    grid = check_grid(exp, grid)
    keys = list(grid)
    total = math.prod(len(v) for v in grid.values()) * seeds
    if total > MAX_RUNS:  # refused before a single run is planned
        raise ConfigError(f"the grid has {total} runs ({' × '.join(str(len(v)) for v in grid.values())} values × "
                          f"{seeds} seeds); a sweep may have at most {MAX_RUNS}")
    runs: list[Run] = []
    checked: set = set()
    for combo in itertools.product(*(grid[k] for k in keys)):
        values = dict(zip(keys, combo))
        try:
            point = exp.with_changes(values) if values else exp
            _precheck(point, checked)
        except ConfigError as exc:
            where = ", ".join(f"{k}={v}" for k, v in values.items())
            raise ConfigError(f"grid point {where}: {exc}") from None
        for s in range(seeds):
            seed = point.seed + s
            try:
                run_exp = point.replace("seed", seed)
            except ConfigError as exc:
                raise ConfigError(f"--seeds {seeds}: {exc}") from None
            runs.append(Run(len(runs), values, seed, run_exp))
    return runs


def _precheck(exp, seen: set) -> None:
    """The checks the trainer would make when it starts (cheap: no network is built): the rules'
    :func:`~rnnlab.train.rules.check`, and the task with its readout built once per distinct task."""
    from ..train.rules import check

    check(exp)
    sig = (exp.task, exp.model.readout)
    if sig in seen:
        return
    from ..train.setup import checked_task

    checked_task(exp)
    seen.add(sig)


# --- one run ----------------------------------------------------------------------------------------------------

def run_one(exp, steps: int) -> dict:
    """Train ``exp`` for ``steps`` updates from scratch and measure it. A pure function of its arguments.

    Returns ``final_loss`` (mean training loss over the last 10 % of the updates done; ``inf`` after an
    explosion), ``final_metric`` (held-out success rate on a fresh batch of ``training.eval_batch_size``
    sequences; 0 after an explosion), ``exploded``, ``steps`` (updates done) and ``wall_time_s``.
    """
    limit_blas_threads()
    from ..train.run import run

    res = run(exp, steps)
    return {"final_loss": float(res.final_loss), "final_metric": float(res.final_metric), "exploded": res.exploded,
            "steps": int(res.steps), "wall_time_s": res.wall_time_s}


# --- the sweep --------------------------------------------------------------------------------------------------

class _CsvSink:
    """sweep.csv written as runs finish: one flushed row each into ``sweep.partial.csv`` (the old sweep.csv stays
    intact meanwhile, and a crash keeps every finished run there: :class:`rnnlab.io.PartialFile`), rewritten in run
    order into sweep.csv at the end (atomically) and the partial file removed. A failed write raises
    :class:`rnnlab.io.WriteError`."""

    def __init__(self, path: Path, keys: list[str]):
        from ..io import PartialFile

        self.file = PartialFile(path)
        self.path, self.partial, self.cols = self.file.path, self.file.partial, columns(keys)
        self._row(self.cols)

    def _row(self, cells: list[str]) -> None:
        buf = io.StringIO()
        csv.writer(buf).writerow(cells)
        self.file.write(buf.getvalue())

    def add(self, row: dict) -> None:
        self._row([_fmt(row[c]) for c in self.cols])

    def close(self, rows: list[dict]) -> None:
        self.file.abandon()
        write_csv(rows, self.path, [c for c in self.cols if c not in ("run", *RESULT_COLUMNS)])
        self.file.discard()


def run_sweep(exp, grid: dict[str, Sequence], seeds: int = 1, steps: int | None = None, executor=None, *,
              workers: int | None = None, success_threshold: float = 0.9, csv_path: str | Path | None = None,
              on_result: Callable[[dict, int, int], None] | None = None) -> list[dict]:
    """Run the sweep and return one row per run, sorted by run index.

    Parameters
    ----------
    exp : Experiment
        The base experiment; each grid point replaces its keys, each seed offset is added to ``exp.seed``.
    grid : dict
        ``{dotted key: [values]}``; the cartesian product in this order (first key outermost). May be empty
        (the seeds only).
    seeds : int
        Replicates per grid point (seed offsets 0..seeds−1).
    steps : int
        Updates per run (default ``exp.training.steps``).
    executor :
        ``None`` (a local :func:`local_pool` of ``workers`` processes, shut down at the end), any
        ``concurrent.futures.Executor`` (left running), or a ``distributed.Client`` (Dask; left connected).
    success_threshold : float
        A run succeeded when its held-out success rate is at least this.
    csv_path :
        Stream each row, as its run finishes (flushed), into ``<name>.partial.csv`` beside it, then write the
        whole table in run order to ``csv_path`` atomically at the end (also after an interruption) and remove
        the partial file; an older file at ``csv_path`` stays intact until then.
    on_result :
        Called in this process as ``on_result(row, done, total)`` after each run. It may raise
        KeyboardInterrupt to cancel the sweep.

    Raises
    ------
    SweepInterrupted
        (a KeyboardInterrupt) on Ctrl-C or when ``on_result`` raised KeyboardInterrupt: the pending runs are
        cancelled, and ``.rows`` holds the finished ones (also in ``csv_path``).
    ConfigError
        A bad key, value or combination (before anything runs).
    """
    from ..config import ConfigError

    steps = exp.training.steps if steps is None else steps
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"--steps {steps!r}: expected an integer >= 1")
    if not 0.0 <= float(success_threshold) <= 1.0:
        raise ConfigError(f"--success-threshold {success_threshold!r}: expected a number in [0, 1]")
    grid = check_grid(exp, grid)
    runs = plan_runs(exp, grid, seeds)
    keys = list(grid)
    total = len(runs)
    if total > MAX_RUNS:
        raise ConfigError(f"the grid has {total} runs; a sweep may have at most {MAX_RUNS}")
    sink = _CsvSink(Path(csv_path), keys) if csv_path is not None else None  # a write failure: before any run
    own = executor is None
    if own:
        executor = local_pool(min(workers or os.cpu_count() or 1, total))
    rows: list[dict] = []
    futures: dict = {}
    interrupted = False
    try:
        for run in runs:
            futures[submit(executor, run_one, run, steps)] = run
        for fut in as_completed(executor, list(futures)):
            run = futures[fut]
            res = fut.result()
            row = {"run": run.index, **run.values, "seed": run.seed, **res,
                   "success": (not res["exploded"]) and res["final_metric"] >= success_threshold}
            row = {c: row[c] for c in columns(keys)}
            rows.append(row)
            if sink:
                sink.add(row)
            if on_result:
                on_result(row, len(rows), total)
    except KeyboardInterrupt:
        interrupted = True
        cancel(executor, futures)
    except BaseException:
        interrupted = True  # a failed run: stop the others too
        cancel(executor, futures)
        raise
    finally:
        rows.sort(key=lambda r: r["run"])
        if own:
            end_pool(executor, interrupted)
        if sink:
            sink.close(rows)
    if interrupted:
        raise SweepInterrupted(rows, total)
    return rows


# --- files ------------------------------------------------------------------------------------------------------

def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    return str(v)


def write_csv(rows: Sequence[dict], path: str | Path, grid: dict | Sequence[str] | None = None) -> Path:
    """Write ``rows`` (sorted by run) to ``path`` with the columns :func:`columns` of the grid keys (taken from the
    rows when ``grid`` is None). Written to a temporary file, fsynced and renamed (:func:`rnnlab.io.atomic_write`),
    so a reader never sees half a file; a failure raises :class:`rnnlab.io.WriteError` (one line) and keeps the
    old file."""
    path = Path(path)
    if grid is None:
        keys = [k for k in (rows[0] if rows else {}) if k not in ("run", *RESULT_COLUMNS)]
    else:
        keys = list(grid)
    cols = columns(keys)
    from ..io import atomic_write

    with atomic_write(path, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for row in sorted(rows, key=lambda r: r.get("run", 0)):
            w.writerow([_fmt(row[c]) for c in cols])
    return path


#: the most runs a sweep folder may hold (and a sweep may plan): the phase diagram and the table stay usable
MAX_RUNS = 100_000


def read_csv(path: str | Path) -> tuple[list[dict], list[str]]:
    """Read a sweep.csv back through the guarded reader (:mod:`rnnlab.io`): ``(rows, grid keys)`` with the values
    typed (grid values by their key's type). Everything is checked: the header (``run``, at least one grid key
    of the experiment, then :data:`RESULT_COLUMNS`), at least one row, every value; a problem is a ConfigError
    naming the file, the line and the column."""
    from ..config import ConfigError, _short, parse_override
    from ..io import file_error, read_csv as read_table

    table = read_table(path, what="sweep table")
    if not table or not any(c.strip() for c in table[0]):
        raise file_error(path, "empty: expected a header line (run, the grid keys, seed, final_loss, …)")
    header = [c.strip() for c in table[0]]
    missing = [c for c in ("run", *RESULT_COLUMNS) if c not in header]
    if missing:
        raise file_error(path, f"not a sweep table: no column {', '.join(missing)} (expected run, the grid keys, "
                               f"{', '.join(RESULT_COLUMNS)})")
    if len(set(header)) != len(header):
        raise file_error(path, "not a sweep table: a column name is repeated")
    keys = [c for c in header if c not in ("run", *RESULT_COLUMNS)]
    if not keys:
        raise file_error(path, "not a sweep table: no grid column (a setting such as model.spectral_radius)")
    for k in keys:
        try:
            _check_key(k)
        except ConfigError as exc:
            raise file_error(path, f"column {_short(k)}: {exc}") from None
    body = [rec for rec in table[1:] if any(v.strip() for v in rec)]
    if not body:
        raise file_error(path, "no runs: the table has a header and no rows")
    if len(body) > MAX_RUNS:
        raise file_error(path, f"{len(body)} runs; a sweep folder may hold at most {MAX_RUNS}")
    floats = {"final_loss": "a number", "final_metric": "a number", "wall_time_s": "a number"}
    rows = []
    line = 1
    for rec in table[1:]:
        line += 1
        if not any(v.strip() for v in rec):
            continue
        if len(rec) != len(header):
            raise file_error(path, f"line {line}: {len(rec)} values for {len(header)} columns")
        d = dict(zip(header, (v.strip() for v in rec)))
        col = "run"
        try:
            row: dict = {"run": int(d["run"])}
            for col in keys:
                row[col] = parse_override(f"{col}={d[col]}")[1]
            col = "seed"
            row["seed"] = int(d["seed"])
            for col in floats:
                row[col] = float(d[col])
            for col in ("success", "exploded"):
                if d[col] not in ("true", "false"):
                    raise ValueError("expected true or false")
                row[col] = d[col] == "true"
            col = "steps"
            row["steps"] = int(d["steps"])
        except (ValueError, ConfigError) as exc:
            why = str(exc).removeprefix(f"{col} = ")
            raise file_error(path, f"line {line}, column {_short(col)}: {_short(d.get(col))}: "
                                   f"{why if isinstance(exc, ConfigError) else 'not a valid value'}") from None
        if row["seed"] < 0 or row["steps"] < 0 or row["run"] < 0:
            raise file_error(path, f"line {line}: run, seed and steps must be >= 0")
        rows.append(row)
    if len({r["run"] for r in rows}) != len(rows):
        raise file_error(path, "a run number is repeated")
    return rows, keys


def load_folder(folder: str | Path) -> tuple[Any, list[dict], dict]:
    """``(base experiment, rows, grid)`` of a sweep folder written by ``rnnlab sweep`` (``sweep.csv`` and
    ``config.toml``), read through the guarded reader and validated as a whole: every grid point is a valid
    experiment that the engine can train (:func:`plan_runs`' checks), so any cell of its phase diagram opens.
    Raises ConfigError naming the file and what is wrong."""
    from ..config import ConfigError, load_toml
    from ..io import check_path, file_error

    folder = check_path(folder)
    if not folder.is_dir():
        raise file_error(folder, "not a folder (a sweep folder holds sweep.csv and config.toml)")
    table = folder / "sweep.csv"
    if not table.exists():
        raise file_error(folder, "no sweep.csv (is this a folder written by rnnlab sweep?)")
    rows, keys = read_csv(table)
    base = load_toml(folder / "config.toml")
    grid = {k: sorted({r[k] for r in rows}, key=_sort_key) for k in keys}
    try:
        check_grid(base, grid)
        plan_runs(base, grid, 1)
    except ConfigError as exc:
        raise file_error(table, str(exc)) from None
    return base, rows, grid


def _sort_key(v: Any) -> tuple:
    """Values of one grid key in order (numbers by value, strings and booleans by text)."""
    return (0, v, "") if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, 0, str(v))


# --- summaries --------------------------------------------------------------------------------------------------

def summarize(rows: Sequence[dict], grid: dict[str, Sequence]) -> dict[tuple, dict]:
    """Per grid cell (a tuple of values in grid order): ``n`` runs finished, ``successes``, ``mean_success``
    (fraction of the seeds that succeeded; NaN without runs), ``mean_metric``, ``exploded``. Every cell of the
    grid is present, finished or not."""
    keys = list(grid)
    cells: dict[tuple, dict] = {}
    for combo in itertools.product(*(list(grid[k]) for k in keys)):
        cells[combo] = {"n": 0, "successes": 0, "exploded": 0, "metric_sum": 0.0}
    for row in rows:
        c = cells.setdefault(tuple(row[k] for k in keys), {"n": 0, "successes": 0, "exploded": 0,
                                                           "metric_sum": 0.0})
        c["n"] += 1
        c["successes"] += bool(row["success"])
        c["exploded"] += bool(row["exploded"])
        c["metric_sum"] += float(row["final_metric"])
    for c in cells.values():
        n = c["n"]
        c["mean_success"] = c["successes"] / n if n else math.nan
        c["mean_metric"] = c.pop("metric_sum") / n if n else math.nan
    return cells


def format_summary(rows: Sequence[dict], grid: dict[str, Sequence], seeds: int) -> str:
    """A plain-text table of successes per cell (``k/n``; ``!`` marks cells where a run exploded)."""
    cells = summarize(rows, grid)
    keys = list(grid)

    def cell_text(c: dict) -> str:
        if not c["n"]:
            return "-"
        return f"{c['successes']}/{c['n']}" + ("!" if c["exploded"] else "")

    def show(v: Any) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    lines = [f"successful runs per cell (of {seeds} seed{'s' if seeds != 1 else ''}; ! = a run exploded):"]
    if len(keys) == 2:
        kx, ky = keys
        xs, ys = list(grid[kx]), list(grid[ky])
        head = f"{ky} \\ {kx}"
        w0 = max(len(head), *(len(show(y)) for y in ys))
        ws = [max(len(show(x)), 5) for x in xs]
        lines.append(head.ljust(w0) + "  " + "  ".join(show(x).rjust(w) for x, w in zip(xs, ws)))
        for y in ys:
            lines.append(show(y).ljust(w0) + "  " + "  ".join(cell_text(cells[(x, y)]).rjust(w)
                                                              for x, w in zip(xs, ws)))
    else:
        for combo, c in cells.items():
            where = ", ".join(f"{k}={show(v)}" for k, v in zip(keys, combo)) or "(all runs)"
            lines.append(f"  {where}: {cell_text(c)}  (mean held-out success {c['mean_metric']:.3f})"
                         if c["n"] else f"  {where}: -")
    return "\n".join(lines)


# --- the phase diagram (drawn by rnnlab.gui.sweep_view, for the app and for phase.png) ---------------------------

#: short symbols shown beside the keys the lab's lessons talk about
SYMBOLS = {
    "model.spectral_radius": "ρ",
    "task.length": "T",
    "model.hidden_size": "H",
    "training.learning_rate": "η",
    "remedies.clip_threshold": "c",
    "training.momentum": "μ",
    "task.batch_size": "B",
}


def axis_label(key: str) -> str:
    """``"ρ   (model.spectral_radius)"`` for a key with a symbol, the key otherwise."""
    sym = SYMBOLS.get(key)
    return f"{sym}   ({key})" if sym else key


def tick_text(v: Any) -> str:
    """A grid value as a tick label (``0.5``, ``1e-05``, ``true``, ``lstm``)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def describe(exp, grid: dict | Sequence[str], steps: int | None, seeds: int) -> tuple[str, str]:
    """Title and subtitle of the phase diagram: the task, the network and the settings that are not swept
    (a swept task, cell or activation is not named in the title; ``steps`` None: not stated)."""
    m, t, tr, r = exp.model, exp.task, exp.training, exp.remedies
    arch, act = "model.arch" not in grid, "model.activation" not in grid
    net = (f"{m.arch} ({m.activation}) network" if arch and act else f"{m.arch} network" if arch
           else f"{m.activation} network" if act else "network")
    title = "Where does training succeed?  " + ", ".join([*([t.name] if "task.name" not in grid else []), net])
    shown = [("model.hidden_size", f"H = {m.hidden_size}"), ("task.length", f"T = {t.length}"),
             ("model.spectral_radius", f"ρ = {m.spectral_radius:g}"), ("model.init", f"{m.init} init"),
             ("training.optimizer", f"{tr.optimizer}"), ("training.learning_rate", f"η = {tr.learning_rate:g}"),
             ("remedies.clip", f"clip {r.clip}" + (f" {r.clip_threshold:g}" if r.clip != "none" else ""))]
    parts = [text for key, text in shown if key not in grid]
    s0 = exp.seed
    seeds_txt = f"seed {s0}" if seeds == 1 else f"seeds {s0}–{s0 + seeds - 1}"
    parts += ([f"{steps} steps"] if steps is not None else []) + [seeds_txt]
    return title, ", ".join(parts)


@dataclass(frozen=True)
class PhaseGrid:
    """The phase diagram of a sweep laid out on (at most) two axes, as :func:`phase_cells` builds it.

    ``xkey``/``xs`` run across (the first grid key; ``None``/``[None]`` without a grid), ``ykey``/``ys`` up (the
    second key; ``None``/``[None]`` with fewer than two keys), ``pooled`` lists the further keys. ``cells[(i, j)]``
    is the cell of ``ys[i]`` and ``xs[j]``: ``n`` finished runs, ``successes``, ``exploded`` (runs that exploded),
    ``mean_success`` = successes / n (NaN without runs) and ``mean_metric`` (their mean held-out success rate).
    """

    xkey: str | None
    xs: list
    ykey: str | None
    ys: list
    pooled: list
    cells: dict

    def values(self) -> list[list[float]]:
        """``mean_success`` as rows (ys) × columns (xs), NaN where no run finished: the colour of each cell."""
        return [[self.cells[(i, j)]["mean_success"] for j in range(len(self.xs))] for i in range(len(self.ys))]


def phase_cells(rows: Sequence[dict], grid: dict[str, Sequence]) -> PhaseGrid:
    """Lay the runs of a sweep out as the phase diagram: the first grid key across, the second up, and every
    further key POOLED, the one rule for extra axes in the app's sweep window and in ``phase.png``.

    Pooled means a cell counts every finished run with its two values, over all values of the extra keys and all
    seeds: ``mean_success`` is the share of those runs that succeeded (``successes / n``), ``mean_metric`` their
    mean held-out success rate. For a complete sweep this is the mean over the extra keys' combinations of each
    combination's share of successful seeds; for a cancelled one every finished run counts once. (Small multiples,
    one panel per combination of the extra keys, were the PNG's rule before; they stop being readable beyond a few
    dozen panels and needed a second rule there, while pooling reads the same for any number of keys.)
    """
    keys = list(grid)
    xkey = keys[0] if keys else None
    ykey = keys[1] if len(keys) > 1 else None
    xs = list(grid[xkey]) if xkey else [None]
    ys = list(grid[ykey]) if ykey else [None]
    col = {v: j for j, v in enumerate(xs)}
    row_of = {v: i for i, v in enumerate(ys)}
    acc = {(i, j): [0, 0, 0, 0.0] for i in range(len(ys)) for j in range(len(xs))}
    for r in rows:
        i = row_of.get(r[ykey]) if ykey else 0
        j = col.get(r[xkey]) if xkey else 0
        if i is None or j is None:  # a value outside the grid (a hand-edited table): not drawn
            continue
        a = acc[(i, j)]
        a[0] += 1
        a[1] += bool(r["success"])
        a[2] += bool(r["exploded"])
        a[3] += float(r["final_metric"])
    cells = {ij: {"n": n, "successes": s, "exploded": e, "mean_success": s / n if n else math.nan,
                  "mean_metric": m / n if n else math.nan} for ij, (n, s, e, m) in acc.items()}
    return PhaseGrid(xkey, xs, ykey, ys, keys[2:], cells)


def phase_notes(phase: PhaseGrid, grid: dict[str, Sequence], *, threshold: float | None = None,
                runs: int | None = None, total_runs: int | None = None, cell_text: bool = True) -> list[str]:
    """The lines printed with the phase diagram: (``runs < total_runs``) that the sweep is partial, what the
    colour and (``cell_text``) the numbers in the cells mean, and how extra keys are pooled."""
    lines = []
    if runs is not None and total_runs is not None and runs < total_runs:
        lines.append(f"PARTIAL: {runs} of {total_runs} runs finished (the sweep was cancelled); grey cells have "
                     "no finished run.")
    reached = f"reached {threshold:g}" if threshold is not None else "reached the success threshold"
    colour = f"Colour: the share of the runs whose held-out success rate {reached}."
    if cell_text:
        colour += " In each cell: successful runs / runs, then their mean held-out success rate; ! = a run exploded."
    lines.append(colour)
    if phase.pooled:
        lines.append("Pooled over " + ", ".join(f"{k} ({len(grid[k])} values)" for k in phase.pooled)
                     + ": each cell counts its runs for every "
                     + ("value of that key" if len(phase.pooled) == 1 else "combination of those keys") + ".")
    return lines
