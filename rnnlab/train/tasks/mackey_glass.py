"""Series prediction: the Mackey–Glass chaotic series, one step ahead (Jaeger 2001; SCIENCE.md §4.1).
"""

from __future__ import annotations

import functools

import numpy as np

from .base import REGRESSION_NRMSE_THRESHOLD, Baseline, Batch, Task, _check_batch_size


__all__ = ["MackeyGlassTask", "mackey_glass_series", "nrmse84", "HELD_OUT_SEED"]

#: the seed of the held-out series of :func:`nrmse84` (the task trains on ``series_seed = 17``)
HELD_OUT_SEED = 2001


def mackey_glass_series(rng: np.random.Generator, n_samples: int, *, tau: float = 17.0, delta: float = 0.1,
                        subsample: int = 10, washout: int = 1000, squash: bool = True) -> np.ndarray:
    """A Mackey–Glass series as in Jaeger (2001) §6 (SCIENCE.md §4.1).

    dy/dt = 0.2 y(t-τ) / (1 + y(t-τ)^10) - 0.1 y(t), Euler step δ (eq. 23:
    y(n+1) = y(n) + δ (0.2 y(n-τ/δ) / (1 + y(n-τ/δ)^10) - 0.1 y(n))), every ``subsample``-th Euler value kept,
    the first ``washout`` kept samples dropped, then squashed by tanh(y - 1). The initial history (τ/δ + 1
    values) is drawn U[0.5, 1.5] from ``rng``. Returns ``n_samples`` float64 values.

    Within a block of D = τ/δ Euler steps the delayed term is already known, so the linear recursion
    y(n+1) = a y(n) + b(n), a = 1 - 0.1 δ, is solved in closed form with a cumulative sum (same numbers as the
    step-by-step loop up to rounding).
    """
    D = int(round(tau / delta))
    if D < 1 or abs(D * delta - tau) > 1e-9:
        raise ValueError(f"tau / delta = {tau / delta!r} must be a positive integer number of Euler steps")
    n_euler = (n_samples + washout) * subsample
    y = np.empty(D + 1 + n_euler)
    y[:D + 1] = rng.uniform(0.5, 1.5, size=D + 1)
    a = 1.0 - 0.1 * delta
    apow = a ** np.arange(1, D + 1)
    ainv = a ** (-np.arange(0, D, dtype=np.float64))
    n0 = D                                        # index of the last known value
    last = y.size - 1
    while n0 < last:
        cnt = min(D, last - n0)
        yd = y[n0 - D:n0 - D + cnt]
        b = delta * 0.2 * yd / (1.0 + yd ** 10)
        c = np.cumsum(b * ainv[:cnt])
        y[n0 + 1:n0 + 1 + cnt] = apow[:cnt] * (y[n0] + c / a)
        n0 += cnt
    kept = y[D + subsample::subsample][washout:washout + n_samples]
    return np.tanh(kept - 1.0) if squash else kept


@functools.lru_cache(maxsize=4)
def _cached_mg(seed: int, n_samples: int) -> np.ndarray:
    s = mackey_glass_series(np.random.default_rng(seed), n_samples)
    s.setflags(write=False)
    return s


class MackeyGlassTask(Task):
    """Next-step prediction of the Mackey–Glass series, τ = 17 (Jaeger 2001 §6; SCIENCE.md §4.1).

    One long series (:func:`mackey_glass_series`: Euler step 1/10, subsampled by 10, squashed tanh(y - 1),
    washout 1000 samples) is generated once per task from ``np.random.default_rng(series_seed)`` (a random
    initial history), like Jaeger's fixed training series; each sequence is a window of T+1 consecutive
    samples whose start is drawn uniformly from the sampler's ``rng``: x[t] = s_t, y[t] = s_{t+1}, scored at every
    step. Success: the window's NRMSE (RMSE over σ, σ² = the baseline loss) is below
    :data:`REGRESSION_NRMSE_THRESHOLD`. ``info``: start (B,) window starts in ``series``, length (int).

    Reference: SCIENCE.md §4.1 (Jaeger 2001 §6, eq. 23); Lukoševičius's ``MackeyGlass_t17.txt`` (§4.2) is the
    same kind of fixed series.
    """

    name = "mackey_glass"
    n_in = 1
    n_out = 1
    kind = "regression"
    readout = "every"
    generative = True
    min_length = 1
    series_seed = 17
    base_samples = 50_000

    def __init__(self, length: int, series_seed: int | None = None) -> None:
        super().__init__(length)
        L = self.length
        if series_seed is not None:
            self.series_seed = int(series_seed)
        n = max(self.base_samples, 20 * (L + 1))
        self.series = _cached_mg(self.series_seed, n)
        s = self.series
        n_win = s.size - L                              # window starts 0..n_win-1 (window s[i..i+L])
        self._n_windows = n_win
        # Every window is equally likely, so target s[j] (j in 1..n-1) has weight (#windows that score it).
        j = np.arange(s.size)
        w = np.clip(np.minimum(j - 1, n_win - 1) - np.maximum(j - L, 0) + 1, 0, None).astype(np.float64)
        w /= w.sum()
        c = float((w * s).sum())                        # the loss-optimal constant
        var = float((w * (s - c) ** 2).sum())
        self._variance = var
        self.constant = c
        # zero-cost exact success rate of the constant predictor over all windows
        cs = np.concatenate([[0.0], np.cumsum((s - c) ** 2)])
        win_mse = (cs[1 + L:1 + L + n_win] - cs[1:1 + n_win]) / L
        rate = float(np.mean(np.sqrt(win_mse / var) < REGRESSION_NRMSE_THRESHOLD))
        d = np.diff(s)
        persist = float(np.sqrt(np.mean(d ** 2) / var))
        self.persistence_nrmse = persist
        self.description = (
            f"The Mackey–Glass delay equation (τ = 17, mildly chaotic) sampled once per time unit and squashed by "
            f"tanh(y − 1), the classic echo-state-network benchmark. At each of {L} steps the network sees the "
            f"current value and predicts the next. The dynamics depend on the value 17 steps back, so a good "
            f"predictor needs a short memory. A sequence is solved when its RMSE is below "
            f"{REGRESSION_NRMSE_THRESHOLD} σ; copying the input gives about {persist:.2f} σ."
        )
        self.baseline = Baseline(
            loss=var,
            success_rate=rate,
            accuracy=None,
            note=(f"The constant {c:.4f} (the mean of the series, window-weighted) has MSE = the series variance "
                  f"{var:.5f}, computed exactly over all {n_win} windows of the task's {s.size}-sample series; it "
                  f"passes the NRMSE < {REGRESSION_NRMSE_THRESHOLD} criterion in {rate:.4f} of the windows."),
        )

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        start = rng.integers(self._n_windows, size=B)
        idx = start[None, :] + np.arange(L + 1)[:, None]
        w = self.series[idx]                                     # (L+1, B)
        return Batch(x=w[:-1, :, None].copy(), y=w[1:, :, None].copy(), mask=np.ones((L, B)),
                     info={"start": start, "length": L})


def nrmse84(net, runs: int = 100, teacher: int = 1000, horizon: int = 84, series_seed: int = HELD_OUT_SEED,
            seed: int = 0, return_errors: bool = False):
    """Jaeger's NRMSE84 (2001, §6; SCIENCE.md §4.1) of a network trained on :class:`MackeyGlassTask`, on a
    held-out series.

    The held-out series is :func:`mackey_glass_series` from ``np.random.default_rng(series_seed)`` (another
    initial history than the task's training series, so another stretch of the attractor). Each of ``runs`` runs
    starts at a uniformly drawn point (``np.random.default_rng(seed)``), feeds the network ``teacher`` true values
    (teacher forcing, from the zero state), then lets it run free for ``horizon`` − 1 steps on its own
    predictions; its prediction of the value ``horizon`` steps after the last true input is compared with the
    truth. Like Jaeger, the error is measured in the original coordinates of the delay equation (y = 1 + atanh s,
    undoing the task's squashing s = tanh(y − 1)) and normalised by the variance σ² of the held-out series there:

        NRMSE84 = √( Σ_runs (y − ŷ)² / (runs · σ²) )

    Jaeger's 400-unit leaky ESN reached ≈ 2.8·10⁻⁴ with 3000 training steps (τ = 17, 50 runs). A run whose
    prediction leaves (−1, 1) (the free run diverged) counts with the value clipped to ±(1 − 10⁻¹²).
    Returns the NRMSE84 (and the (runs,) signed errors in original coordinates with ``return_errors``).
    """
    from ...core.bptt import forward

    if net.n_in != 1 or net.n_out != 1 or net.output != "linear":
        raise ValueError("nrmse84 needs a network trained on mackey_glass (one input, one linear output)")
    T = int(teacher) + int(horizon) - 1
    series = _cached_mg(int(series_seed), max(20_000, 4 * (T + 1)))
    orig = 1.0 + np.arctanh(series)
    var = float(orig.var())
    starts = np.random.default_rng(seed).integers(0, series.size - T, size=int(runs))
    x = series[starts[None, :] + np.arange(T)[:, None]][:, :, None]
    fb = np.zeros((T, int(runs)))
    fb[: int(teacher)] = 1.0
    pred = forward(net, x, fb).z[-1, :, 0]
    truth = orig[starts + T]
    lim = 1.0 - 1e-12
    with np.errstate(invalid="ignore"):
        y_hat = 1.0 + np.arctanh(np.clip(np.nan_to_num(pred, nan=lim, posinf=lim, neginf=-lim), -lim, lim))
    err = y_hat - truth
    value = float(np.sqrt(np.mean(err ** 2) / var))
    return (value, err) if return_errors else value
