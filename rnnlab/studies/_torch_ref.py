"""PyTorch references for ``rnnlab bench --compare-torch`` (PyTorch is a development tool here, never a
dependency: this module is imported only by that option, and says clearly when PyTorch is missing).

Each reference does what rnnlab's ``loss_and_grads`` does for the same network: forward over (T, B, I), a linear
readout and softmax cross-entropy at every step (the mean over T·B), and the gradient of every parameter by
``backward()``. The vanilla, LSTM and GRU cells are PyTorch's own ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` (its
reset-after GRU also stands against rnnlab's Cho GRU: the same products); the other cells have no PyTorch module
and are written as the loop of PyTorch operations a user would write (eager mode, no compilation).
"""

from __future__ import annotations

__all__ = ["version", "set_threads", "threads", "make_step"]

_default_threads: int | None = None


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("--compare-torch needs PyTorch, which is not installed here (it is a development tool, "
                           "not a dependency of rnnlab)") from exc
    global _default_threads
    if _default_threads is None:
        _default_threads = torch.get_num_threads()
        from .._runtime import SET_HERE

        if "OMP_NUM_THREADS" in SET_HERE:  # the rnnlab command's own limit, not the user's: PyTorch alone would
            import os  # use one thread per core

            _default_threads = os.cpu_count() or 1
    return torch


def version() -> dict:
    torch = _torch()
    return {"version": torch.__version__, "default_threads": _default_threads}


def set_threads(n: int | None) -> None:
    """PyTorch's intra-op threads: ``n``, or its default (None)."""
    torch = _torch()
    torch.set_num_threads(int(n) if n else int(_default_threads or 1))


def threads() -> int:
    return _torch().get_num_threads()


def make_step(net, x, y):
    """A function running one forward + loss + backward of the PyTorch counterpart of ``net`` on (x, y), or None
    when there is no counterpart."""
    import numpy as np

    torch = _torch()
    F = torch.nn.functional
    dt = torch.float64 if net.dtype == np.float64 else torch.float32
    cell = net.cell
    I, H, O = net.n_in, net.n_hidden, net.n_out
    T, B, _ = x.shape
    p = {k: torch.tensor(np.asarray(v), dtype=dt, requires_grad=True) for k, v in net.params.items()}
    X = torch.tensor(np.asarray(x), dtype=dt)
    Y = torch.tensor(np.asarray(y).reshape(-1), dtype=torch.long)
    act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda a: a}[cell.act.name]
    ro = torch.nn.Linear(H, O).to(dt)
    module = _MODULES.get(cell.name)
    if module is not None:
        mod = module(torch, I, H, cell).to(dt)
        params = list(mod.parameters()) + list(ro.parameters())

        def run():
            out, _ = mod(X)
            return out
    else:
        loop = _LOOPS.get(cell.name)
        if loop is None:
            return None
        params = [v for k, v in p.items() if k != "alpha"] + list(ro.parameters())
        run = loop(torch, cell, p, X, act, T, B, H)

    def step():
        for q in params:
            q.grad = None
        h = run()
        loss = F.cross_entropy(ro(h).reshape(T * B, O), Y)
        loss.backward()

    return step


#: PyTorch's own modules for rnnlab's vanilla, LSTM and GRU cells
_MODULES = {
    "rnn": lambda torch, I, H, cell: torch.nn.RNN(I, H, nonlinearity="relu" if cell.act.name == "relu" else "tanh"),
    "lstm": lambda torch, I, H, cell: torch.nn.LSTM(I, H),
    "gru": lambda torch, I, H, cell: torch.nn.GRU(I, H),
}


def _leaky(torch, cell, p, X, act, T, B, H):
    a = p["alpha"].detach()

    def run():
        U = X @ p["W_hx"].T + p["b_h"]
        h = torch.zeros(B, H, dtype=X.dtype)
        hs = []
        for t in range(T):
            h = a * h + (1 - a) * act(U[t] + h @ p["W_hh"].T)
            hs.append(h)
        return torch.stack(hs)
    return run


def _indrnn(torch, cell, p, X, act, T, B, H):
    def run():
        U = X @ p["W_hx"].T + p["b_h"]
        h = torch.zeros(B, H, dtype=X.dtype)
        hs = []
        for t in range(T):
            h = act(U[t] + p["u"] * h)
            hs.append(h)
        return torch.stack(hs)
    return run


def _dense(torch, matrix, euler: float | None, p, X, act, T, B, H):
    """h_t = f(a_t) (``euler`` None) or h_t = h_{t−1} + ε f(a_t), a_t = W_hx x_t + b_h + M h_{t−1}."""
    def run():
        M = matrix()
        U = X @ p["W_hx"].T + p["b_h"]
        h = torch.zeros(B, H, dtype=X.dtype)
        hs = []
        for t in range(T):
            a = U[t] + h @ M.T
            h = act(a) if euler is None else h + euler * act(a)
            hs.append(h)
        return torch.stack(hs)
    return run


def _exprnn(torch, cell, p, X, act, T, B, H):
    return _dense(torch, lambda: torch.matrix_exp(p["A"] - p["A"].T), None, p, X, act, T, B, H)


def _antisymmetric(torch, cell, p, X, act, T, B, H):
    eye = torch.eye(H, dtype=X.dtype)
    return _dense(torch, lambda: p["W"] - p["W"].T - cell.diffusion * eye, cell.epsilon, p, X, act, T, B, H)


def _lru(torch, cell, p, X, act, T, B, H):
    cdt = torch.complex128 if X.dtype == torch.float64 else torch.complex64

    def run():
        lam = torch.exp(torch.complex(-torch.exp(p["nu_log"]), torch.exp(p["theta_log"])))
        gam = torch.exp(p["gamma_log"])
        Bc = torch.complex(p["B_re"], p["B_im"]) * gam[:, None]
        Ux = X.to(cdt) @ Bc.T
        xs = []
        s = torch.zeros(B, H, dtype=cdt)
        for t in range(T):
            s = lam * s + Ux[t]
            xs.append(s)
        Xs = torch.stack(xs)
        Cc = torch.complex(p["C_re"], p["C_im"])
        return act((Xs @ Cc.T).real + X @ p["D"].T + p["b_h"])
    return run


#: the other cells, as loops of PyTorch operations
_LOOPS = {"leaky": _leaky, "esn": _leaky, "indrnn": _indrnn, "exprnn": _exprnn, "antisymmetric": _antisymmetric,
          "lru": _lru}
