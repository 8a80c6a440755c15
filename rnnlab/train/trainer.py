"""The trainer: steps an experiment, applies the remedies, survives explosions, and produces snapshots.

Step it yourself (:meth:`Trainer.step`, :meth:`Trainer.snapshot`), let :func:`rnnlab.train.run.run` train it to
the end, or let a :class:`rnnlab.train.session.Session` drive it from commands (the app)::

    tr = Trainer(exp)
    while tr.step_count < 100 and tr.step():
        pass
    snap = tr.snapshot(expensive=True)       # snap.diagnostics.jacobian_log10: the heatmap

One training step (first-order):
  1. sample a minibatch from the task (the data stream of the seed);
  2. forward, loss, backward: full or truncated BPTT(k1, k2); closed loop for generative tasks when the
     teacher-forcing ratio is below 1;
  3. add the gradients of the L1/L2 penalties and of α·Ω (Pascanu's regulariser) to ∂E/∂W_hh;
  4. clip (by norm or by value) and record the norm before and after;
  5. if anything is non-finite, do not update: record an :class:`Explosion` and stop;
  6. optimiser update of the trainable parameters.
With ``remedies.hessian_free`` the update is a Hessian-free step instead (clipping, penalties and Ω are not
applied then; HF has its own damping). An ESN solves its readout by ridge regression on the states gathered
so far (after the washout) instead.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from ..config import ConfigError, Experiment, key_field
from ..core._interrupt import hooked
from ..core.bptt import backward, forward, loss_and_dz, outputs
from ..core.diagnostics import Diagnostics, bptt_cost, diagnose, slow_cost, spectrum_cost
from ..core.init import sigma_max, spectral_radius
from . import rules
from .hessian_free import HessianFree
from .optim import make_optimizer, rebuild_optimizer
from .remedies import clip_gradients, omega_and_grad, penalty
from .setup import apply_readout, build, check_memory, eval_rows, probe_batch
from .snapshot import Event, Explosion, History, Snapshot
from .timeline import HEADLESS_BUDGET, Timeline, state_nbytes, trouble_start
from .unrolled import with_unrolled

__all__ = ["Trainer", "needs_reset"]

#: a checkpoint after every step while one costs at most this many bytes; larger states are kept more rarely
#: (every ``ceil(bytes / CHEAP_CHECKPOINT)`` steps, at most :data:`CHECKPOINT_EVERY`), so copying stays cheap
CHEAP_CHECKPOINT = 1 << 20
CHECKPOINT_EVERY = 25
#: how many history rows :meth:`Trainer.rewind_target` reads back to find where the trouble began
TROUBLE_LOOKBACK = 10_000  # (= snapshot.RECENT_ROWS: the rows the history keeps at full resolution)


#: a spectrum (eigenvalues and σ_max of W_hh) this cheap in multiply-adds is measured whenever asked (H ≲ 240)
CHEAP_SPECTRUM = 2e8


def spectrum_period(exp: Experiment, every: int) -> int:
    """Every how many steps the trainer measures ρ and σ_max when asked to every ``every`` steps (0: never):
    at least ``every``, and rarely enough that the O(H³) measurement costs at most a tenth of the training
    (H = 2048, T = B = 20: every 3rd step)."""
    if not every:
        return 0
    from ..core.cells import get_cell

    cell = get_cell(exp.model.arch)
    H = exp.model.hidden_size
    G = H * cell.blocks
    step = bptt_cost(exp.task.length, exp.task.batch_size, G, H)
    return max(every, int(math.ceil(spectrum_cost(H) / (10.0 * step))))


def needs_reset(old: Experiment, new: Experiment) -> list[str]:
    """The changed keys that need new weights (their metadata says ``resets``)."""
    return [k for k in old.diff(new) if key_field(k).metadata.get("resets")]


class Trainer:
    """Owns a network, its optimiser and the run's history.

    Parameters
    ----------
    exp : Experiment
    spectrum_every : int
        Measure ρ and σ_max of W_hh every this many steps (0: only in snapshots). An eigen-decomposition costs
        O(H³), so training flat out at large H uses 0.
    """

    def __init__(self, exp: Experiment, spectrum_every: int = 1, timeline: Timeline | None = None):
        self.spectrum_every = spectrum_every
        self._events: list[Event] = []
        #: the ring of checkpoints Rewind goes back to (rnnlab.train.timeline)
        self.timeline = timeline if timeline is not None else Timeline(HEADLESS_BUDGET)
        self.reset(exp)

    # --- life cycle ---------------------------------------------------------------------------------------------
    def reset(self, exp: Experiment | None = None) -> None:
        """New weights, optimiser and history from ``exp`` (or the current experiment).

        Everything is built first; only when building succeeded does the trainer switch to it, so an experiment
        that cannot be built (a :class:`ConfigError` naming the reason) leaves the trainer exactly as it was.
        """
        exp = exp or self.exp
        rules.check(exp)
        check_memory(exp, "train")  # refused before anything is allocated, saying how much it would need
        task, net, rngs = build(exp)  # may raise ConfigError: nothing has changed yet
        opt = make_optimizer(exp.training)
        r = exp.remedies
        hf = HessianFree(lam=r.hf_damping, mu=r.hf_mu, max_cg=r.hf_max_cg)
        probe = probe_batch(task, exp, rngs)
        # from here on nothing can fail: switch
        self.exp = exp
        self.task, self.net, self.rngs = task, net, rngs
        self.opt, self.hf = opt, hf
        self.step_count = 0
        self.history = History()
        self._snap_from = 0
        self.explosion: Explosion | None = None
        self.last_loss = float("nan")
        self.metric = float("nan")
        self.accuracy = float("nan")
        self.grad_norms: dict = {}
        self.regularizer = float("nan")
        self.last_finite_grad_norm = float("nan")
        self._rho = self._sigma = float("nan")
        self._slow = None  # (Diagnostics, step): the last spectrum and Lyapunov exponents computed
        self._spectrum_period = spectrum_period(exp, self.spectrum_every)
        if spectrum_cost(self.net.n_hidden) <= CHEAP_SPECTRUM:
            self._measure_spectrum()  # else measured with the first diagnostics (O(H³): seconds at H = 2048)
        self._esn_r = None  # the ESN readout's regression so far: R of the states' QR (see _ridge_readout) ...
        self._esn_c = None  # ... and Qᵀ Y
        self.probe = probe
        #: why this experiment cannot be trained (no readout, no targets), or None: :meth:`step` then does nothing
        self.untrainable: str | None = self.task.no_loss or None
        self.timeline.clear()
        self._ck_count = 0
        first = self._keep_checkpoint()
        self.checkpoint_every = int(min(CHECKPOINT_EVERY, max(1, -(-first.nbytes // CHEAP_CHECKPOINT))))
        self._t_last = time.perf_counter()
        self._steps_at_last = 0
        self._events.append(Event(0, "reset: new weights"))

    # --- checkpoints and rewind ---------------------------------------------------------------------------------
    def _keep_checkpoint(self):
        state = {"params": {k: v.copy() for k, v in self.net.params.items()}, "opt": self.opt.state_dict(),
                 "hf": self.hf.state_dict(),
                 # the data streams' states (dicts; written as JSON only into a Restart file)
                 "rng": {k: getattr(self.rngs, k).bit_generator.state for k in ("data", "eval", "extra")},
                 "esn": None if self._esn_r is None else (self._esn_r.copy(), self._esn_c.copy()),
                 "scalars": (self.last_loss, self.metric, self.accuracy, dict(self.grad_norms), self.regularizer,
                             self.last_finite_grad_norm)}
        # measuring a state walks it all: measure again only every 64 checkpoints (the optimiser's slots appear at
        # its first step; a change of optimiser resets the count)
        self._ck_count = getattr(self, "_ck_count", 0) + 1
        if self._ck_count % 64 == 1 or self._ck_count < 3:
            self._ck_nbytes = state_nbytes(state)
        return self.timeline.add(self.step_count, self.history.n, state, self._ck_nbytes)


    def rewind_target(self) -> int | None:
        """The kept step Rewind goes to: the last checkpoint before the trouble began (before the weights that
        produced the first row whose gradient norm or loss left its running range,
        :func:`rnnlab.train.timeline.trouble_start`); without trouble, after an explosion the last checkpoint,
        else the kept step before the current one."""
        n = self.history.n
        h = self.history.since(max(0, n - TROUBLE_LOOKBACK))
        begun = trouble_start(h["step"], h["loss"], h["grad_norm"])
        if begun is not None:
            target = begun - 2  # row `begun` measured the weights of step begun − 1: already in trouble
        elif self.explosion is not None:
            target = self.step_count
        else:
            target = self.step_count - 1
        ck = self.timeline.at_or_before(max(0, target)) or self.timeline.oldest()
        return None if ck is None else ck.step

    def rewind(self, step: int | None = None) -> int:
        """Restore a kept checkpoint (weights, optimiser state, history up to it): the one at or before ``step``,
        or :meth:`rewind_target` when ``step`` is None. Returns its step. The checkpoints after it are dropped."""
        target = self.rewind_target() if step is None else int(step)
        ck = self.timeline.at_or_before(self.step_count if target is None else target)
        if ck is None:  # a very large network keeps its newest checkpoint only: the oldest kept, then
            ck = self.timeline.oldest()
        if ck is None:  # pragma: no cover - there is always one
            return self.step_count
        st = ck.state
        for k, v in st["params"].items():
            self.net.params[k][...] = v
        if st["opt"].get("kind") == self.opt.kind:
            self.opt.load_state_dict(st["opt"])
            self.opt = rebuild_optimizer(self.opt, self.exp.training)
        else:  # the optimiser changed since: it starts afresh, as a change of optimiser does
            self.opt = make_optimizer(self.exp.training)
        self.hf.load_state_dict(st["hf"])
        self._esn_r, self._esn_c = (None, None) if st["esn"] is None else (st["esn"][0].copy(), st["esn"][1].copy())
        (self.last_loss, self.metric, self.accuracy, gn, self.regularizer, self.last_finite_grad_norm) = st["scalars"]
        self.grad_norms = dict(gn)
        self.step_count = ck.step
        self.history.truncate_after(ck.step)
        self._snap_from = min(self._snap_from, self.history.serial_end)
        self.explosion = None
        self._slow = None  # the spectrum of the weights before the rewind no longer applies
        self.timeline.drop_after(ck.step)
        self._measure_spectrum()
        self._events.append(Event(self.step_count, f"rewound to step {self.step_count}"))
        return self.step_count

    # --- a checkpoint as plain arrays (the app's engine writes it to a file; Restart reads it back) ---------------
    def checkpoint_arrays(self) -> dict:
        """The last finite checkpoint (weights, optimiser and Hessian-free state, step) and the history up to it,
        with the experiment as TOML: plain arrays, for ``np.savez`` (no pickles)."""
        from ..config import dumps_toml
        from .checkpoint import flatten

        import json

        latest = self.timeline.latest()  # the newest kept checkpoint of the timeline (always finite)
        ck = latest.state
        out = flatten({"params": ck["params"], "opt": ck["opt"], "hf": ck["hf"]})
        out.update({f"history/{k}": v for k, v in self.history.arrays().items()})
        out.update({f"rng/{k}": np.asarray(json.dumps(v)) for k, v in ck.get("rng", {}).items()})
        out["step"] = np.asarray(latest.step)
        out["experiment"] = np.asarray(dumps_toml(self.exp))
        return out

    def restore(self, arrays: dict) -> int:
        """Continue from :meth:`checkpoint_arrays` of a trainer of the same experiment (in its network's
        settings): weights, optimiser state, step and history. Raises :class:`ConfigError` (and changes nothing)
        when they do not fit this trainer. Returns the step."""
        from .checkpoint import unflatten

        try:
            import json

            if "experiment" in arrays:
                from ..config import loads_toml

                changed = needs_reset(loads_toml(str(np.asarray(arrays["experiment"])), "checkpoint"), self.exp)
                if changed:
                    raise ValueError(f"it is of other weights ({', '.join(changed)} changed since)")
            tree = unflatten({k: v for k, v in arrays.items() if not k.startswith("history/")})
            rng = {k: json.loads(str(v)) for k, v in tree.get("rng", {}).items()}
            params = tree["params"]
            step = int(np.asarray(arrays["step"]))
            history = History.from_arrays({k[8:]: v for k, v in arrays.items() if k.startswith("history/")})
            if set(params) != set(self.net.params) or any(
                    np.shape(params[k]) != self.net.params[k].shape for k in params):
                raise ValueError("its weights have other names or shapes")
            opt = make_optimizer(self.exp.training)
            opt.load_state_dict(tree["opt"])
            r = self.exp.remedies
            hf = HessianFree(lam=r.hf_damping, mu=r.hf_mu, max_cg=r.hf_max_cg)
            hf.load_state_dict(tree["hf"])
        except (KeyError, ValueError, TypeError) as exc:  # ConfigError is a ValueError
            raise ConfigError(f"the checkpoint does not fit this experiment: {str(exc)[:160]}") from None
        for k, v in params.items():
            self.net.params[k][...] = v
        for k, state in rng.items():  # the data streams go on where they were at the checkpoint
            try:
                getattr(self.rngs, k).bit_generator.state = state
            except (AttributeError, TypeError, ValueError, KeyError):  # pragma: no cover - another bit generator
                pass
        self.opt = rebuild_optimizer(opt, self.exp.training)
        self.hf = hf
        self.step_count = step
        history.truncate_after(step)
        self.history = history
        self._snap_from = history.serial_end
        self.explosion = None
        self._slow = None
        self.timeline.clear()  # the run goes on from here: older kept steps were of the process that died
        self._ck_count = 0
        self._keep_checkpoint()
        self._events.append(Event(step, f"restarted from the checkpoint of step {step}"))
        return step

    def apply_config(self, new: Experiment, allow_reset: bool = True) -> list[str]:
        """Apply a new experiment between steps. Remedies, optimiser and learning rate keep the weights; keys
        that need new weights reset the run (or raise :class:`ConfigError` if ``allow_reset`` is False).
        Returns the changed keys."""
        rules.check(new)
        changed = self.exp.diff(new)  # key -> (old value, new value)
        if not changed:
            return []
        resets = needs_reset(self.exp, new)
        old = self.exp
        if resets:
            if not allow_reset:
                raise ConfigError(f"changing {', '.join(resets)} needs new weights (a reset)")
            self.reset(new)
            return list(changed)
        opt = rebuild_optimizer(self.opt, new.training)  # may fail: before anything changes
        self.exp, self.opt = new, opt
        self._ck_count = 0  # the checkpoints' size may change with the optimiser
        r, ro = new.remedies, old.remedies
        if (r.hf_damping, r.hf_mu, r.hf_max_cg) != (ro.hf_damping, ro.hf_mu, ro.hf_max_cg):
            self.hf.lam, self.hf.mu, self.hf.max_cg = r.hf_damping, r.hf_mu, r.hf_max_cg
        if r.esn_washout != ro.esn_washout:  # other rows would have been used: gather them anew
            self._esn_r = self._esn_c = None
        if new.model.readout != old.model.readout:  # pragma: no cover - readout resets (metadata)
            pass
        for k, (a, b) in changed.items():
            self._events.append(Event(self.step_count, f"{k}: {a} → {b}"))
        return list(changed)

    # --- remedies in force --------------------------------------------------------------------------------------
    def remedies_on(self) -> tuple[str, ...]:
        """What acts against vanishing or exploding gradients now (:func:`rnnlab.train.rules.remedies_on`)."""
        return rules.remedies_on(self.exp, self.task.generative)

    # --- one step -----------------------------------------------------------------------------------------------
    def _feedback(self, T: int, B: int) -> np.ndarray | None:
        ratio = self.exp.remedies.teacher_forcing
        if not self.task.generative or ratio >= 1.0:
            return None
        return (self.rngs.extra.random((T, B)) < ratio).astype(np.float64)

    def step(self) -> bool:
        """One training step. Returns False (and does nothing) after an explosion, until :meth:`rewind` or
        :meth:`reset`, and when the experiment cannot be trained (:attr:`untrainable`)."""
        if self.explosion is not None or self.untrainable:
            return False
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected and reported, not warned
            return self._step()

    def _step(self) -> bool:
        exp, r = self.exp, self.exp.remedies
        net = self.net
        batch = self.task.sample(self.rngs.data, exp.task.batch_size)
        mask = apply_readout(batch.mask, exp.model.readout)
        T, B = mask.shape
        fb = self._feedback(T, B)
        trace = forward(net, batch.x, fb)
        loss, dz = loss_and_dz(net, trace.z, batch.y, mask)
        cell = net.cell
        by_gradient = not (r.hessian_free or cell.fixed_recurrence)
        use_omega = r.omega > 0 and by_gradient and cell.supports_omega
        deltas = np.zeros((T, B, net.cell.state_size)) if use_omega else None
        grads = backward(net, trace, dz, r.tbptt_k1, r.tbptt_k2, deltas)
        # nothing has changed so far (a caller's hook may abandon the step above); from here on it completes
        with hooked(None, chain=False):
            return self._finish_step(exp, net, batch, mask, trace, loss, grads, deltas, by_gradient, use_omega)

    def _finish_step(self, exp, net, batch, mask, trace, loss, grads, deltas, by_gradient, use_omega) -> bool:
        r, cell = exp.remedies, net.cell
        self.last_loss = loss
        row: dict = {"step": self.step_count + 1, "loss": loss, "learning_rate": self.opt.lr}

        bad = self._non_finite(loss, grads, trace)
        if bad:
            self._explode(bad, row)
            return False

        pen_value = 0.0
        if by_gradient:
            if (r.l1 > 0 or r.l2 > 0) and "W_hh" in cell.trainable:  # (rules.applies says so for the others)
                pen_value, pg = penalty(net.params["W_hh"], r.l1, r.l2)
                grads["W_hh"] = grads["W_hh"] + pg
            if use_omega:
                val, _, og = omega_and_grad(net.params["W_hh"], deltas, cell.da_factor(trace.cache))
                self.regularizer = val
                grads["W_hh"] = grads["W_hh"] + r.omega * og
            else:
                self.regularizer = float("nan")
        trainable = {k: grads[k] for k in net.trainable}
        norms = {k: float(np.linalg.norm(v)) for k, v in grads.items()}
        tot = float(np.sqrt(sum(norms[k] ** 2 for k in trainable)))  # the global norm, from the parts
        if not np.isfinite(tot):
            self._explode("the gradient norm overflowed", row)
            return False
        clipped, fired, tot_after = trainable, False, tot
        if by_gradient:
            clipped, rep = clip_gradients(trainable, r.clip, r.clip_threshold, norm=tot)
            fired, tot_after = rep.fired, rep.norm_after
        self.grad_norms = {**norms, "total": tot}
        self.last_finite_grad_norm = tot

        if cell.fixed_recurrence:
            self._ridge_readout(trace, batch.y, mask)
        elif r.hessian_free:
            self.hf.step(net, batch.x, batch.y, mask, grads, loss, trace)
        else:
            self.opt.step(net.params, clipped)
        cell.after_update(net.params)
        self.step_count += 1

        if any(not np.all(np.isfinite(net.params[k])) for k in net.trainable):  # pragma: no cover - defensive
            self._explode("the weights became non-finite after the update", row)
            return False
        if self._spectrum_period and self.step_count % self._spectrum_period == 0:
            self._measure_spectrum()
        row.update(grad_norm=tot, grad_norm_clipped=tot_after, clipped=float(fired), spectral_radius=self._rho,
                   sigma_max=self._sigma, regularizer=self.regularizer, penalty=pen_value,
                   grad_W_hh=norms.get("W_hh"), grad_W_hx=norms.get("W_hx"), grad_W_yh=norms.get("W_yh"))
        if self.step_count % exp.training.eval_every == 0 or self.step_count == 1:
            self.evaluate()
            row["metric"], row["accuracy"] = self.metric, self.accuracy
        self.history.append(row)
        if self.step_count % self.checkpoint_every == 0:
            self._keep_checkpoint()
        return True

    def _measure_spectrum(self) -> None:
        W = self.net.recurrent_matrix()
        self._rho, self._sigma = spectral_radius(W), sigma_max(W)

    def _non_finite(self, loss: float, grads: dict, trace) -> str | None:
        if not np.isfinite(loss):
            h = trace.hidden(self.net)
            if not np.all(np.isfinite(h)):
                t = int(np.argmax(~np.all(np.isfinite(h), axis=(1, 2))))
                return f"the hidden states overflowed at time step t = {t} and the loss became {loss}"
            return f"the loss became {loss}"
        for k in self.net.trainable:
            if k in grads and not np.all(np.isfinite(grads[k])):
                return f"the gradient of {k} became non-finite"
        return None

    def _explode(self, what: str, row: dict) -> None:
        row.update(grad_norm=np.inf)
        self.history.append(row)
        target = self.rewind_target()
        self.explosion = Explosion(self.step_count + 1, what, self.last_finite_grad_norm,
                                   self.step_count if target is None else target)
        self._events.append(Event(self.step_count + 1, f"exploded: {what}"))

    def _ridge_readout(self, trace, y: np.ndarray, mask: np.ndarray) -> None:
        """Ridge regression of the readout on the reservoir states gathered so far (after the washout): the update
        of a cell with a fixed recurrence (echo state network)."""
        net, r = self.net, self.exp.remedies
        h = trace.hidden(net)
        T, B, H = h.shape
        use = mask > 0
        use[: min(r.esn_washout, T - 1)] = False  # discard the initial transient
        if not use.any():
            use = mask > 0
        Z = np.concatenate([h[use], np.ones((int(use.sum()), 1))], axis=1)
        if net.output == "softmax":
            Y = np.zeros((Z.shape[0], net.n_out))
            Y[np.arange(Z.shape[0]), y[use].astype(int)] = 1.0
        else:
            Y = y[use]
        # ridge regression W = (ZᵀZ + βI)⁻¹ ZᵀY over every row Z gathered so far, β an absolute weight (so the
        # data outweigh it more and more as rows accumulate; dividing ZᵀZ by the row count instead would make the
        # effective ridge β·n grow with the number of states). Solved stably: the rows are kept as the triangular
        # factor R of a QR decomposition (ZᵀZ = RᵀR, updated with each batch), never as ZᵀZ, whose condition number
        # is the square of Z's (measured: cond(Z) ≈ 2·10¹¹ on Mackey–Glass, where ZᵀZ loses every digit at β ≈ 1e-12)
        if self._esn_r is None:
            self._esn_r = np.zeros((0, H + 1))  # R (k × (H + 1), k ≤ H + 1)
            self._esn_c = np.zeros((0, net.n_out))  # Qᵀ Y
        Q, R = np.linalg.qr(np.concatenate([self._esn_r, Z]))
        self._esn_r, self._esn_c = R, Q.T @ np.concatenate([self._esn_c, Y])
        Wb = self._ridge_solve(self._esn_r, self._esn_c, r.esn_ridge)
        net.params["W_yh"][...] = Wb[:H].T
        net.params["b_y"][...] = Wb[H]

    @staticmethod
    def _ridge_solve(R: np.ndarray, C: np.ndarray, beta: float) -> np.ndarray:
        """argmin_W ‖R W − C‖² + β‖W‖² (= the ridge solution on the rows that R, C = QᵀY summarise), by least
        squares on [R; √β I] (β = 0: the minimum-norm least-squares solution)."""
        n = R.shape[1]
        A = np.concatenate([R, np.sqrt(beta) * np.eye(n)]) if beta > 0 else R
        B = np.concatenate([C, np.zeros((n, C.shape[1]))]) if beta > 0 else C
        return np.linalg.lstsq(A, B, rcond=None)[0]

    # --- evaluation and diagnostics -----------------------------------------------------------------------------
    def evaluate(self, batch_size: int | None = None) -> tuple[float, float]:
        """Success rate and accuracy on a fresh held-out batch (free-running for generative tasks)."""
        n = batch_size or self.exp.training.eval_batch_size
        batch = self.task.sample_heldout(self.rngs.eval, n)
        mask = apply_readout(batch.mask, self.exp.model.readout)
        fb = None
        if self.task.generative:
            # free-running evaluation: the first quarter (and an ESN's washout) is driven by the true series, then
            # the network feeds itself its own predictions; only those free-running steps are scored
            T = mask.shape[0]
            warm = max(1, T // 4)
            if self.net.cell.fixed_recurrence:
                warm = max(warm, min(self.exp.remedies.esn_washout, T - 1))
            fb = np.zeros((T, n))
            fb[:warm] = 1.0
            scored = batch.mask.copy()
            scored[:warm] = 0.0
            batch = dataclasses.replace(batch, mask=scored)
        out = self._outputs_in_rows(batch.x, fb)
        if self.untrainable:
            self.metric, self.accuracy = float("nan"), float("nan")
            return self.metric, self.accuracy
        if not np.all(np.isfinite(out)):
            self.metric, self.accuracy = 0.0, float("nan")
            return self.metric, self.accuracy
        self.metric = float(np.mean(self.task.success(out, batch)))
        if self.task.kind == "classification":
            pred = np.argmax(out, axis=-1)
            m = mask > 0
            self.accuracy = float(np.mean(pred[m] == batch.y[m]))
        else:
            self.accuracy = float("nan")
        return self.metric, self.accuracy

    def _outputs_in_rows(self, x: np.ndarray, fb: np.ndarray | None) -> np.ndarray:
        """The network's outputs (T, n, O) on x (T, n, I), ``eval_rows`` sequences per forward pass (the rows of a
        batch are independent, so this is the whole batch's forward pass with bounded memory)."""
        net = self.net
        T, n = x.shape[:2]
        rows = eval_rows(T, net.cell.state_size, n, np.dtype(net.dtype).itemsize)
        if rows >= n:
            return outputs(net, forward(net, x, fb).z)
        out = np.empty((T, n, net.n_out), dtype=net.dtype)
        for s in range(0, n, rows):
            part = slice(s, s + rows)
            out[:, part] = outputs(net, forward(net, x[:, part], None if fb is None else fb[:, part]).z)
        return out

    #: multiply-adds the heatmap of a snapshot may cost (None: as configured, however long it takes); the app's
    #: session sets one so that a snapshot stays quick at any size (see core.diagnostics.plan_heatmap)
    diagnostics_budget: float | None = None

    def diagnostics(self, reuse_slow: bool = False, progress=None) -> Diagnostics:
        """The expensive part of a snapshot: :func:`rnnlab.core.diagnostics.diagnose` on the fixed probe batch (its
        estimated heatmap, when chosen, draws its probes from a fixed seed so unchanged weights give the same
        picture), within :attr:`diagnostics_budget`. ``reuse_slow``: take the spectrum and the Lyapunov exponents of
        the last diagnostics instead of recomputing them (the result's ``slow_note`` says which step they are of);
        ``progress`` as for :func:`~rnnlab.core.diagnostics.diagnose`."""
        x, y, mask = self.probe
        slow, note = None, ""
        if reuse_slow and self._slow is not None:
            slow, at = self._slow
            note = f"spectrum of step {at}: at this size it is recomputed less often"  # (and the Lyapunov exponents)
        t0 = time.perf_counter()
        d, trace, _ = diagnose(self.net, x, y, mask, self.exp.diagnostics, budget=self.diagnostics_budget,
                               no_loss=self.untrainable or "", progress=progress, slow=slow, slow_note=note)
        d = with_unrolled(d, self.exp, self.net, trace, y, mask)  # the backward pass as this experiment trains
        if slow is None:
            self._slow = (d, self.step_count)
            self.slow_seconds = time.perf_counter() - t0
            self._rho, self._sigma = d.rho, d.sigma_max
        return d

    #: measured wall time of the last diagnostics that computed the slow parts (spectrum, Lyapunov)
    slow_seconds: float = 0.0

    def slow_parts_due(self, budget: float | None) -> bool:
        """Whether the spectrum and the Lyapunov exponents should be recomputed now: always when they fit in
        ``budget`` (multiply-adds; None: no limit) or were never computed for these weights' run; the session
        rate-limits them otherwise (see :class:`~rnnlab.train.session.Session`)."""
        if self._slow is None or budget is None:
            return True
        cell = self.net.cell
        T = self.probe[0].shape[0]
        m = min(self.exp.diagnostics.lyapunov, cell.state_size)
        return slow_cost(T, cell.state_size, cell.gate_size, cell.n_hidden, m) <= budget

    def snapshot(self, expensive: bool = False, reuse_slow: bool = False) -> Snapshot:
        """An immutable snapshot; ``expensive`` adds the :class:`~rnnlab.core.diagnostics.Diagnostics` bundle
        (heatmap, gradient flow, spectrum, Lyapunov, …) measured on the probe batch."""
        diag = self.diagnostics(reuse_slow) if expensive else None  # may be abandoned: nothing changed before
        now = time.perf_counter()
        dt = now - self._t_last
        sps = (self.step_count - self._steps_at_last) / dt if dt > 0 else float("nan")
        self._t_last, self._steps_at_last = now, self.step_count
        if not expensive and not self._spectrum_period and spectrum_cost(self.net.n_hidden) <= CHEAP_SPECTRUM:
            self._measure_spectrum()  # larger: ρ and σ_max come with the diagnostics
        hist = self.history.since_serial(self._snap_from)
        self._snap_from = self.history.serial_end
        events, self._events = tuple(self._events), []
        return Snapshot(
            step=self.step_count,
            config=self.exp,
            history=hist,
            loss=self.last_loss,
            metric=self.metric,
            rho=self._rho,
            sigma_max=self._sigma,
            gamma=self.net.gamma,
            remedies=self.remedies_on(),
            events=events,
            explosion=self.explosion,
            checkpoints=self.timeline.steps(),
            baseline=self.task.baseline,
            task_name=self.task.name,
            steps_per_second=sps,
            diagnostics=diag,
        )
