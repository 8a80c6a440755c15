"""What a run writes: ``config.toml``, ``metrics.csv`` and ``state.npz`` (used by ``rnnlab run``, the app's
*Export run* and ``rnnlab inspect``), and :func:`atomic_path`, the one way rnnlab writes a file.

``state.npz`` and ``rnnlab inspect``'s ``.npz`` hold the same arrays (:func:`probe_arrays`; load them with
``np.load(path, allow_pickle=False)``):

======================  ===================  =========================================================
key                     shape                meaning
======================  ===================  =========================================================
W_hx, W_hh, b_h         see core.network     the parameters under their documented names (the new cells'
W_yh, b_y, (alpha)                           u, A, W, nu_log, …: docs/cells.md)
x                       (T, B, I)            probe inputs
y                       (T, B) or (T, B, O)  targets (class indices or values)
mask                    (T, B)               1 where the output is scored
h                       (T, B, H)            hidden states, h[t] the state after input t
z                       (T, B, O)            readout pre-activations (logits or predictions)
loss                    ()                   loss of the probe batch
grad_<name>             like <name>          gradient of that loss (full BPTT)
jacobian_log10          (T, T)               log10 ‖∂s_t/∂s_k‖ of probe sequence 0; NaN above the diagonal
lag_profile             (T,)                 mean over t of jacobian_log10[t, t − d], d = 0 … T−1
lag_bound               (T,)                 d·log10(b) + log10 ‖I‖, b the cell's step bound (NaN: none stated)
gradient_flow_log10     (T, T)               log10 ‖∂E_t/∂s_k‖ of probe sequence 0
eigenvalues             (H,) complex         of the cell's recurrent matrix (LSTM/GRU: the candidate block)
singular_values         (H,)                 of the same matrix, decreasing
lyapunov                (m,)                 top Lyapunov exponents of the driven dynamics (per step)
saturation_counts       (20,)                histogram of f'(a) on [0, γ] ...
saturation_edges        (21,)                ... and its bin edges
long_term               (3,)                 ‖∂E/∂θ_rec short‖, ‖long‖ (lags > L), long share
rho, sigma_max, gamma   ()                   ρ(W_hh), σ_max(W_hh), γ
hidden                  (T, H)               hidden states of probe sequence 0 (= h[:, 0])
heatmap_mode            () str               "exact" or "estimated" (how jacobian_log10 was computed) ...
heatmap_stride, _note   (), () str           ... every how many rows t, and why (empty: as configured)
heatmap_probes          ()                   random probes m of an estimated heatmap (0: exact)
step_bound              ()                   b with ‖∂s_t/∂s_{t−1}‖₂ ≤ b at every step (NaN: none stated) ...
step_bound_formula      () str               ... and its formula in plain Unicode ("" when none) ...
step_bound_tex          () str               ... and in TeX, as the cell states it (the app typesets it)
recurrence_eigenvalues  (n,) complex         of the cell's effective linear recurrence (empty: LSTM, GRU) ...
recurrence_matrix       () str               ... and the name of that matrix ("diag(α) + diag(1−α)·W_hh")
jacobian_eigenvalues    (n_t, S) complex     of the step Jacobian ∂s_t/∂s_{t−1} of probe sequence 0 ...
jacobian_steps          (n_t,)               ... at these steps t (up to 32, evenly spaced)
regime                  () str               what the stated bound forces (core.diagnostics.regime)
loss_note               () str               empty, or why there is no loss (then loss, grad_*, the flow: NaN)
param_sensitivity       (T,)                 log10 ‖ds_t/dθ_rec‖ of probe sequence 0 (the curse of memory)
sensitivity_mode        () str               "exact" or "estimated with m random directions"
unrolled_total_log10    (T,)                 log10 ‖∂E/∂s_k‖ of probe sequence 0 as the experiment's BPTT (full or
                                             truncated) sums it: the unrolled view's backward pass ...
unrolled_arrow_log10    (T,)                 ... what crosses the recurrent arrow into k (the part of ∂E/∂s_{k−1}
                                             that comes through s_k; NaN at 0, −inf where nothing crosses) ...
unrolled_flow_log10     (T, T)               ... gradient_flow_log10 where its loss's window reaches (NaN beyond)
unrolled_scored, _reach (T,), (T,)           steps with a loss; the earliest step each loss reaches (−1: none)
unrolled_windows, _cuts (n, 3), (m,)         the backward windows with a loss; the arrows truncation cuts
unrolled_step_log10     (T,)                 log10 ‖∂s_j/∂s_{j−1}‖ (the factor of step j; NaN at 0) ...
unrolled_product_rows   (R,)                 ... and the running products log10 ‖∂s_t/∂s_k‖ for these t ...
unrolled_product_log10  (R, T)               ... (k ≤ t; NaN beyond), and their bound log10 Π‖∂s_j/∂s_{j−1}‖
unrolled_bound_log10    (R, T)               (j = k+1 … t): in unrolled_norm, "spectral" or
unrolled_norm, _probes  () str, ()           "frobenius" estimated with _probes random probes (0: exact)
unrolled_note           () str               empty, or what was computed instead and why
unrolled_factor         () str               the factor ∂s_j/∂s_{j−1} written out ({j}: the step; "" for gated cells)
unrolled_k1, _k2        (), ()               the truncation followed (0: full BPTT)
unrolled_grad_norm      ()                   ‖∂E/∂θ‖ of the probe batch by that BPTT ...
unrolled_grad_norm_clipped, _clip, _clip_threshold   ... after the clipping in force ("none", "norm", "value")
config                  () str               the experiment as TOML
======================  ===================  =========================================================

Every file is written to a temporary file in the same folder, fsynced and renamed over the target
(:func:`rnnlab.io.atomic_write`), so a reader never sees half a file and a failed write (a full disk, a read-only
folder) keeps the old file and says why in one line (:class:`rnnlab.io.WriteError`). A table that grows while a
run goes (:class:`MetricsStream`) is streamed to ``metrics.partial.csv``, flushed row by row (an explosion,
Ctrl-C or a crash keeps every row so far) and renamed over ``metrics.csv`` when it is complete.

NumPy is imported inside the functions: :mod:`rnnlab.studies.sweep` imports this module without loading it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..io import PARTIAL_SUFFIX, PartialFile, WriteError, atomic_path, atomic_write, partial_path

__all__ = ["atomic_path", "atomic_write", "WriteError", "write_run", "write_metrics_csv", "write_state", "save_npz",
           "probe_arrays", "MetricsStream", "PARTIAL_SUFFIX", "partial_path"]

# a table written while a run goes is streamed to ``<name>.partial.csv`` beside its target and renamed over the
# target when it is complete (rnnlab.io.PartialFile): the old file stays intact until then, and a crash leaves every
# row so far there


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _write_rows(history, fh, start: int, serial: bool = False) -> int:
    """Write the history's rows from ``start`` on (a row index, or with ``serial`` the serial number of
    :meth:`~rnnlab.train.snapshot.History.since_serial`); returns how many."""
    from .snapshot import HISTORY_COLUMNS

    w = csv.writer(fh)
    if start == 0:
        w.writerow(HISTORY_COLUMNS)
    rows = history.since_serial(start) if serial else history.table()
    for i in range(len(rows["step"])):
        w.writerow([_fmt(rows[c][i]) for c in HISTORY_COLUMNS])
    fh.flush()
    return len(rows["step"])


def write_metrics_csv(history, path: str | Path) -> int:
    """metrics.csv: every row of ``history`` (a :class:`~rnnlab.train.snapshot.History`) under the header
    :data:`~rnnlab.train.snapshot.HISTORY_COLUMNS`, written atomically; returns the rows written. A failure raises
    :class:`~rnnlab.io.WriteError` (one line) and leaves the old file as it was."""
    with atomic_write(path, newline="") as fh:
        return _write_rows(history, fh, 0)


class MetricsStream:
    """metrics.csv written while a run goes: :meth:`flush` appends the history rows not yet written to
    ``metrics.partial.csv`` (flushed to disk), :meth:`close` writes the rest, fsyncs it and renames it over
    ``metrics.csv``. The old metrics.csv is untouched until then; a crash (kill -9) leaves every row so far in
    the partial file; a failed write removes it and raises :class:`~rnnlab.io.WriteError` (one line). Every row
    is written once, as it comes (the trainer's history decimates rows far back; the file keeps them all).
    The streaming itself is :class:`rnnlab.io.PartialFile`."""

    def __init__(self, path: str | Path):
        self.file = PartialFile(path)
        self.path, self.partial = self.file.path, self.file.partial
        self.written = 0

    def flush(self, history) -> None:
        if not self.file.open:
            return
        try:
            self.written += _write_rows(history, self.file.fh, self.written, serial=True)
        except OSError as exc:
            self.file.fail(exc)

    def close(self, history) -> None:
        """Write the remaining rows and put the file in place (atomically)."""
        self.flush(history)
        self.file.commit()

    def abandon(self) -> None:
        """Close without putting the file in place (the partial file stays, holding the rows so far)."""
        self.file.abandon()


def save_npz(arrays: dict, path: str | Path) -> Path:
    """``np.savez`` of ``arrays`` to ``path`` (no ``.npz`` appended), atomically."""
    import numpy as np

    path = Path(path)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def probe_arrays(exp, net, x, y, mask, rng=None, no_loss: str = "", progress=None) -> tuple[dict, object]:
    """Every array of the table above for ``net`` on the probe batch ``x`` (T, B, I), ``y``, ``mask`` (T, B):
    ``(arrays, diagnostics)``, the diagnostics computed once by :func:`rnnlab.core.diagnostics.diagnose`
    (``no_loss``: why there is no loss, see there)."""
    import numpy as np

    from ..config import dumps_toml
    from ..core.diagnostics import diagnose

    from .unrolled import with_unrolled

    diag, trace, grads = diagnose(net, x, y, mask, exp.diagnostics, rng=rng, no_loss=no_loss, progress=progress)
    diag = with_unrolled(diag, exp, net, trace, y, mask)
    arrays: dict = {k: v for k, v in net.params.items()}
    arrays.update(x=trace.x, y=y, mask=mask, h=np.ascontiguousarray(trace.hidden(net)), z=trace.z,
                  loss=np.asarray(diag.loss))
    arrays.update({f"grad_{k}": v for k, v in grads.items()})
    arrays.update(diag.arrays())  # the Diagnostics bundle under its own field names
    arrays["config"] = np.asarray(dumps_toml(exp))
    return arrays, diag


def write_state(trainer, path: str | Path) -> None:
    """state.npz: final parameters, the probe batch, its loss and gradients, and the inspect diagnostics."""
    x, y, mask = trainer.probe
    arrays, _ = probe_arrays(trainer.exp, trainer.net, x, y, mask, no_loss=trainer.untrainable or "")
    save_npz(arrays, path)


def write_run(trainer, out: str | Path) -> list[Path]:
    """What ``rnnlab run`` writes, from a trainer in any state: config.toml, metrics.csv, state.npz, and for an
    imported model weights.safetensors (its file's tensors under their own names and layout, the fine-tuned ones
    replaced: :func:`rnnlab.train.imported.export_weights`)."""
    from ..config import save_toml

    out = Path(out)  # (created by the first write; a failure is a WriteError of one line)
    save_toml(trainer.exp, out / "config.toml")
    write_metrics_csv(trainer.history, out / "metrics.csv")
    write_state(trainer, out / "state.npz")
    paths = [out / "config.toml", out / "metrics.csv", out / "state.npz"]
    if trainer.exp.model.source:
        from .imported import export_weights

        paths.append(export_weights(trainer, out / "weights.safetensors"))
    return paths
