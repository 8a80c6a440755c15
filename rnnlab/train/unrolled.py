"""The unrolled backward pass of a snapshot, as this experiment trains: its truncation and its clipping.

:func:`rnnlab.core.unrolled.unrolled_pass` follows BPTT along the probe sequence with the experiment's truncation;
what clipping then does to the whole gradient is a remedy of this layer (:func:`rnnlab.train.remedies.clip_gradients`,
the function the trainer's step calls), so it is stated here: the probe batch's loss gradient by the same BPTT,
its norm, and its norm after clipping. Norm clipping rescales every ∂E/∂s_k by the same factor; the view draws
the pass before it and the rescaled total beside it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..config import Experiment
from ..core.bptt import Trace, backward, loss_and_dz
from ..core.diagnostics import Diagnostics
from ..core.network import Network
from ..core.unrolled import UnrolledPass, unrolled_pass
from . import rules
from .remedies import clip_gradients

__all__ = ["with_unrolled", "pass_of"]


def pass_of(exp: Experiment, net: Network, trace: Trace, y: np.ndarray, mask: np.ndarray,
            flow: np.ndarray | None = None, b: int = 0, no_loss: str = "") -> UnrolledPass:
    """The unrolled pass of probe sequence ``b`` as ``exp`` trains (truncation where it applies), with the probe
    batch's gradient norm before and after the clipping that applies (``no_loss``: there is no loss, see
    :func:`~rnnlab.core.diagnostics.diagnose`)."""
    why = rules.applies(exp)
    r = exp.remedies
    k1, k2 = (r.tbptt_k1, r.tbptt_k2) if why.get("remedies.tbptt_k1") is None else (0, 0)
    dz = None
    with np.errstate(all="ignore"):
        if not no_loss and net.n_out and np.any(mask):
            _, dz = loss_and_dz(net, trace.z, y, mask)
        up = unrolled_pass(net, trace, dz, b, k1, k2, flow, probes=exp.diagnostics.probes)
        if dz is None:
            return up
        grads = backward(net, trace, dz, k1, k2)
        trainable = {k: grads[k] for k in net.trainable if k in grads}
        mode = r.clip if why.get("remedies.clip") is None else "none"
        _, rep = clip_gradients(trainable, mode, r.clip_threshold)
    return dataclasses.replace(up, grad_norm=rep.norm_before, grad_norm_clipped=rep.norm_after, clip=mode,
                               clip_threshold=float(r.clip_threshold))


def with_unrolled(diag: Diagnostics, exp: Experiment, net: Network, trace: Trace, y: np.ndarray, mask: np.ndarray,
                  b: int = 0, no_loss: str = "") -> Diagnostics:
    """``diag`` with its :attr:`~rnnlab.core.diagnostics.Diagnostics.unrolled` pass (from its own gradient flow)."""
    up = pass_of(exp, net, trace, y, mask, diag.gradient_flow_log10, b, no_loss or diag.loss_note)
    return dataclasses.replace(diag, unrolled=up)
