"""Headless parameter sweeps: a grid of training runs on a process pool or a Dask cluster.

A sweep is the cartesian product of the grid axes (``{"model.spectral_radius": [0.5, 1, 2], "task.length":
[10, 30]}``) times ``seeds`` replicates (seed offsets 0..S−1 added to the experiment's ``seed``). Every run is
a pure function :func:`run_one` of ``(experiment, steps)``: it builds its own network and random streams from
the experiment's seed and shares nothing with other runs, so a process pool, a thread pool and a Dask cluster
give identical numbers (apart from the wall time)::

    from rnnlab.presets import load_preset
    from rnnlab.sweep import run_sweep, write_csv, phase_png

    exp = load_preset("exploding-tanh").replace(model__hidden_size=16, training__optimizer="adam",
                                                remedies__clip="norm")
    grid = {"model.spectral_radius": [0.5, 1.0, 1.5, 2.0], "task.length": [10, 30, 50]}
    rows = run_sweep(exp, grid, seeds=2, steps=600)      # on a local process pool
    write_csv(rows, "sweep.csv", grid)
    phase_png(rows, grid, "phase.png")

With a Dask cluster: ``run_sweep(exp, grid, seeds, steps, executor=distributed.Client(address))``.

Each row (a dict, one per run) holds ``run`` (its index in the grid order), the grid values, ``seed`` (the seed
the run used), ``final_loss`` (mean training loss over the last 10 % of the steps; ``inf`` if the run
exploded), ``final_metric`` (held-out success rate at the end, on a fresh batch; 0 if it exploded), ``success``
(``final_metric >= success_threshold``), ``exploded``, ``steps`` (updates done) and ``wall_time_s``.

This module imports neither NumPy nor Qt at import time (the worker processes set their BLAS thread count
before NumPy loads); :func:`phase_png` imports Qt when it is called.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import itertools
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

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
    "summarize",
    "format_summary",
    "phase_png",
]

#: the columns after the grid values, in order
RESULT_COLUMNS = ("seed", "final_loss", "final_metric", "success", "exploded", "steps", "wall_time_s")

_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


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
    from .config import describe_keys

    return [d["key"] for d in describe_keys()]


def _check_key(key: str) -> None:
    """Raise ConfigError (one line, with the valid keys) unless ``key`` is a dotted experiment key for a grid."""
    from .config import ConfigError, SECTIONS, key_field

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
    from .config import ConfigError, parse_override

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
    from .config import ConfigError

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
    from .config import ConfigError

    out: dict[str, list] = {}
    for key, values in grid.items():
        _check_key(key)
        values = list(values)
        if not values:
            raise ConfigError(f"--grid {key}: no values")
        norm = []
        for v in values:
            if isinstance(v, str) and not isinstance(exp.get(key), str):
                from .config import parse_override

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
    from .config import ConfigError

    if not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"--seeds {seeds!r}: expected an integer >= 1")
    grid = check_grid(exp, grid)
    keys = list(grid)
    runs: list[Run] = []
    checked: set = set()
    for combo in itertools.product(*(grid[k] for k in keys)):
        values = dict(zip(keys, combo))
        try:
            point = exp.replace(**{k.replace(".", "__"): v for k, v in values.items()}) if values else exp
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
    """The checks the trainer would make when it starts (cheap: no network is built)."""
    from .config import ConfigError
    from .train.trainer import check_compatible

    check_compatible(exp)
    sig = (exp.task, exp.model.readout)
    if sig in seen:
        return
    from .train.setup import checked_task

    checked_task(exp)
    seen.add(sig)


# --- one run ----------------------------------------------------------------------------------------------------

def _limit_blas_threads() -> None:
    """One BLAS thread in a worker process (before NumPy loads if possible; via threadpoolctl if it is there).
    Nothing is changed in the caller's own process (a thread pool there, or no pool)."""
    import multiprocessing

    if multiprocessing.parent_process() is None:
        return
    for var in _BLAS_VARS:
        os.environ.setdefault(var, "1")
    try:
        from threadpoolctl import threadpool_limits  # optional; present on most Dask installs
    except ImportError:
        return
    threadpool_limits(1)


def _worker_init() -> None:
    """Initializer of the local pool's worker processes: one BLAS thread, and Ctrl-C is the parent's business
    (it cancels the sweep and ends the workers; a KeyboardInterrupt traceback per worker helps nobody)."""
    import signal

    for var in _BLAS_VARS:
        os.environ[var] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_one(exp, steps: int) -> dict:
    """Train ``exp`` for ``steps`` updates from scratch and measure it. A pure function of its arguments.

    Returns ``final_loss`` (mean training loss over the last 10 % of the updates done; ``inf`` after an
    explosion), ``final_metric`` (held-out success rate on a fresh batch of ``training.eval_batch_size``
    sequences; 0 after an explosion), ``exploded``, ``steps`` (updates done) and ``wall_time_s``.
    """
    _limit_blas_threads()
    from .train.run import run

    res = run(exp, steps)
    return {"final_loss": float(res.final_loss), "final_metric": float(res.final_metric), "exploded": res.exploded,
            "steps": int(res.steps), "wall_time_s": res.wall_time_s}


# --- executors --------------------------------------------------------------------------------------------------

def _is_dask(executor) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed"


def _submit(executor, run: Run, steps: int):
    if _is_dask(executor):
        # pure=False: a fresh task per run (Dask would otherwise hash the arguments, which is fine but slow)
        return executor.submit(run_one, run.experiment, steps, pure=False, key=f"rnnlab-run-{run.index}-"
                               f"{os.getpid()}-{time.monotonic_ns()}")
    return executor.submit(run_one, run.experiment, steps)


def _as_completed(executor, futures: list):
    if _is_dask(executor):
        from distributed import as_completed

        return as_completed(futures)
    return cf.as_completed(futures)


def _cancel(executor, futures: Iterable) -> None:
    pending = [f for f in futures if not f.done()]
    if _is_dask(executor):
        if pending:
            executor.cancel(pending)
        return
    for f in pending:
        f.cancel()


def local_pool(workers: int | None = None) -> cf.ProcessPoolExecutor:
    """The default executor: ``workers`` processes (default ``os.cpu_count()``), started with ``spawn`` (no Qt or
    thread state inherited), one BLAS thread each, Ctrl-C ignored in the workers."""
    import multiprocessing

    n = workers or os.cpu_count() or 1
    return cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_worker_init)


def _end_pool(pool: cf.ProcessPoolExecutor, interrupted: bool) -> None:
    """Shut down a pool this module started; after an interruption, end its workers (by process id) at once
    instead of waiting for the runs in progress."""
    if interrupted:
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
    pool.shutdown(wait=True, cancel_futures=True)


# --- the sweep --------------------------------------------------------------------------------------------------

class _CsvSink:
    """sweep.csv written as runs finish (one flushed row each), rewritten in run order at the end."""

    def __init__(self, path: Path, keys: list[str]):
        self.path, self.cols = Path(path), columns(keys)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "w", newline="", encoding="utf-8")
        self.w = csv.writer(self.fh)
        self.w.writerow(self.cols)
        self.fh.flush()

    def add(self, row: dict) -> None:
        self.w.writerow([_fmt(row[c]) for c in self.cols])
        self.fh.flush()

    def close(self, rows: list[dict]) -> None:
        self.fh.close()
        write_csv(rows, self.path, [c for c in self.cols if c not in ("run", *RESULT_COLUMNS)])


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
        Write each row there as its run finishes (flushed), then the whole file in run order at the end (also
        after an interruption).
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
    from .config import ConfigError

    steps = exp.training.steps if steps is None else steps
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"--steps {steps!r}: expected an integer >= 1")
    if not 0.0 <= float(success_threshold) <= 1.0:
        raise ConfigError(f"--success-threshold {success_threshold!r}: expected a number in [0, 1]")
    grid = check_grid(exp, grid)
    runs = plan_runs(exp, grid, seeds)
    keys = list(grid)
    total = len(runs)
    own = executor is None
    if own:
        executor = local_pool(min(workers or os.cpu_count() or 1, total))
    sink = _CsvSink(Path(csv_path), keys) if csv_path is not None else None
    rows: list[dict] = []
    futures: dict = {}
    interrupted = False
    try:
        for run in runs:
            futures[_submit(executor, run, steps)] = run
        for fut in _as_completed(executor, list(futures)):
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
        _cancel(executor, futures)
    except BaseException:
        interrupted = True  # a failed run: stop the others too
        _cancel(executor, futures)
        raise
    finally:
        rows.sort(key=lambda r: r["run"])
        if own:
            _end_pool(executor, interrupted)
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
    rows when ``grid`` is None). Written to a temporary file and renamed, so a reader never sees half a file."""
    path = Path(path)
    if grid is None:
        keys = [k for k in (rows[0] if rows else {}) if k not in ("run", *RESULT_COLUMNS)]
    else:
        keys = list(grid)
    cols = columns(keys)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for row in sorted(rows, key=lambda r: r.get("run", 0)):
            w.writerow([_fmt(row[c]) for c in cols])
    tmp.replace(path)
    return path


def read_csv(path: str | Path) -> tuple[list[dict], list[str]]:
    """Read a sweep.csv back: ``(rows, grid keys)`` with the values typed (grid values by their key's type)."""
    from .config import parse_override

    with open(path, newline="", encoding="utf-8") as fh:
        r = csv.reader(fh)
        header = next(r)
        keys = [c for c in header if c not in ("run", *RESULT_COLUMNS)]
        rows = []
        for rec in r:
            d = dict(zip(header, rec))
            row: dict = {"run": int(d["run"])}
            for k in keys:
                row[k] = parse_override(f"{k}={d[k]}")[1]
            row.update(seed=int(d["seed"]), final_loss=float(d["final_loss"]),
                       final_metric=float(d["final_metric"]), success=d["success"] == "true",
                       exploded=d["exploded"] == "true", steps=int(d["steps"]),
                       wall_time_s=float(d["wall_time_s"]))
            rows.append(row)
    return rows, keys


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


def phase_png(rows: Sequence[dict], grid: dict[str, Sequence], path: str | Path, **kwargs) -> Path:
    """Draw the phase diagram of ``rows`` over ``grid`` to a PNG (see :func:`rnnlab.sweep_plot.phase_png`;
    imports Qt)."""
    from .sweep_plot import phase_png as _phase_png

    return _phase_png(rows, grid, path, **kwargs)
