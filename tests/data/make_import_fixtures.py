"""Write the fixtures of the import tests (tests/data/import/) with PyTorch and ONNX, and check what only PyTorch
can check. A development tool: torch and onnx are needed here, never by the tests or by rnnlab.

    python -m venv /work/venv-torch
    /work/venv-torch/bin/pip install torch onnx numpy safetensors tomli_w
    /work/venv-torch/bin/python tests/data/make_import_fixtures.py            # write the fixtures
    PYTHONPATH=. /work/venv-torch/bin/python tests/data/make_import_fixtures.py --check   # PyTorch-side checks

For nn.RNN (tanh, relu), nn.LSTM and nn.GRU, 1 and 2 layers, uni- and bidirectional, in float32 and float64, it
writes a module ``Net`` (the recurrent module ``rnn`` and a readout ``fc = nn.Linear(directions·H, O)``) as

* ``<name>.safetensors``: the state_dict (keys ``rnn.weight_ih_l0``, …, ``fc.weight``, ``fc.bias``);
* ``<name>.onnx``: the same module exported to ONNX (the TorchScript exporter: RNN/LSTM/GRU operators);
* ``<name>.expected.npz``: a probe ``x`` (T, B, I), and for every layer k and direction d PyTorch's hidden states
  ``h_l<k>_<d>`` (T, B, H) in real time, and ``jac_l<k>_<d>`` = ∂s_last/∂s_first of sequence 0 along the
  direction's own time (s = h, or (h, c) for the LSTM), by torch autograd; ``out`` the readout's output.

plus a ``.pt`` of one state_dict, a few files rnnlab must refuse, and two data sets. ``--check`` fine-tunes
imported models in rnnlab, exports them as safetensors, reloads them into PyTorch modules with
``load_state_dict(strict=True)`` and compares the outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent / "import"
I, H, O, T, B = 3, 4, 2, 7, 2
KINDS = {"rnn_tanh": (torch.nn.RNN, {"nonlinearity": "tanh"}), "rnn_relu": (torch.nn.RNN, {"nonlinearity": "relu"}),
         "lstm": (torch.nn.LSTM, {}), "gru": (torch.nn.GRU, {})}
DTYPES = {"f32": torch.float32, "f64": torch.float64}


class Net(torch.nn.Module):
    def __init__(self, cls, kw, layers, bidir, bias=True):
        super().__init__()
        self.rnn = cls(I, H, num_layers=layers, bidirectional=bidir, bias=bias, **kw)
        self.fc = torch.nn.Linear(H * (2 if bidir else 1), O)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y)


def names():
    for kind in KINDS:
        for layers in (1, 2):
            for bidir in (False, True):
                for dt in DTYPES:
                    yield kind, layers, bidir, dt, f"{kind}_l{layers}_{'bi' if bidir else 'uni'}_{dt}"


def make(kind, layers, bidir, dt, seed, bias=True) -> Net:
    torch.manual_seed(seed)
    cls, kw = KINDS[kind]
    net = Net(cls, kw, layers, bidir, bias).to(DTYPES[dt])
    with torch.no_grad():  # larger weights than the default init, so the dynamics are not trivially contracting
        for p in net.rnn.parameters():  # (less for relu units, whose states would grow to hundreds)
            p.mul_(1.5 if kind == "rnn_relu" else 2.5)
    return net.eval()


def one_direction(net: Net, k: int, reverse: bool):
    """A one-layer, one-direction module of the same class with layer k's weights of that direction."""
    rnn = net.rnn
    cls = type(rnn)
    kw = {"nonlinearity": rnn.nonlinearity} if cls is torch.nn.RNN else {}
    one = cls(getattr(rnn, f"weight_ih_l{k}").shape[1], H, bias=rnn.bias,
              **kw).to(rnn.weight_hh_l0.dtype)
    sfx = f"l{k}" + ("_reverse" if reverse else "")
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if rnn.bias else ()):
            getattr(one, f"{name}_l0").copy_(getattr(rnn, f"{name}_{sfx}"))
    return one


def expected(net: Net, x: torch.Tensor, lstm: bool) -> dict:
    """Hidden states of every layer and direction, and the Jacobian of the last state by the first."""
    out = {"x": x.numpy()}
    rnn = net.rnn
    dirs = ("forward", "backward") if rnn.bidirectional else ("forward",)
    inp = x
    with torch.no_grad():
        out["out"] = net(x).numpy()
    for k in range(rnn.num_layers):
        outs = []
        for d in dirs:
            one = one_direction(net, k, d == "backward")
            seq = inp.flip(0) if d == "backward" else inp
            with torch.no_grad():
                y, _ = one(seq)
            h_real = y.flip(0) if d == "backward" else y
            out[f"h_l{k}_{d}"] = h_real.numpy()
            outs.append(h_real)
            # states along the direction's own time; s_0 after its first input (sequence 0 only)
            with torch.no_grad():
                y0, st = one(seq[:1, :1])
            if lstm:
                h0, c0 = st
                s0 = torch.cat([h0[0, 0], c0[0, 0]])
            else:
                s0 = st[0, 0]

            def last_state(s, one=one, seq=seq):
                if lstm:
                    h, c = s[:H].reshape(1, 1, H), s[H:].reshape(1, 1, H)
                    _, (hT, cT) = one(seq[1:, :1], (h, c))
                    return torch.cat([hT[0, 0], cT[0, 0]])
                _, hT = one(seq[1:, :1], s.reshape(1, 1, H))
                return hT[0, 0]

            out[f"jac_l{k}_{d}"] = torch.autograd.functional.jacobian(last_state, s0.clone()).numpy()
        inp = torch.cat(outs, dim=-1)
        # the layer stack run whole must agree with the one-direction modules chained
    with torch.no_grad():
        full, _ = rnn(x)
    np.testing.assert_allclose(full.numpy(), inp.numpy(), rtol=0, atol=1e-5 if x.dtype == torch.float32 else 1e-12)
    return out


def export_onnx(net: Net, x: torch.Tensor, path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), dynamo=False, input_names=["x"], output_names=["out"])


def write_models() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(1234)
    x32 = torch.randn(T, B, I, generator=gen, dtype=torch.float32)
    for i, (kind, layers, bidir, dt, name) in enumerate(names()):
        x = x32.to(DTYPES[dt])
        seed = 100 + i
        while True:  # a model whose every Jacobian is non-zero (relu units can all be off at one step)
            net = make(kind, layers, bidir, dt, seed=seed)
            ref = expected(net, x, kind == "lstm")
            if all(np.abs(v).max() > 1e-3 for k, v in ref.items() if k.startswith("jac")):
                break
            seed += 1000
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(OUT / f"{name}.safetensors"))
        np.savez(OUT / f"{name}.expected.npz", **ref)
        export_onnx(net, x, OUT / f"{name}.onnx")
    # a model without biases, and a bare nn.GRU state_dict (no prefix, no readout)
    net = make("gru", 2, True, "f64", seed=7, bias=False)
    save_file(dict(net.state_dict()), str(OUT / "gru_l2_bi_nobias_f64.safetensors"))
    np.savez(OUT / "gru_l2_bi_nobias_f64.expected.npz", **expected(net, x32.double(), False))
    bare = make("lstm", 1, False, "f32", seed=8).rnn
    save_file(dict(bare.state_dict()), str(OUT / "bare_lstm_f32.safetensors"))
    # a .pt state_dict (torch.save; read with torch.load(weights_only=True) when torch is installed)
    torch.save(make("rnn_tanh", 1, False, "f32", seed=9).state_dict(), OUT / "rnn_tanh_l1_uni_f32.pt")
    write_refused()
    write_data()


def write_refused() -> None:
    """Files rnnlab must refuse, each for one named reason."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    torch.manual_seed(3)
    proj = torch.nn.LSTM(I, H, proj_size=2)
    save_file(dict(proj.state_dict()), str(OUT / "refuse_lstm_proj.safetensors"))
    rng = np.random.default_rng(0)

    def lstm_graph(extra_nodes, extra_inits, lstm_inputs, name):
        W = numpy_helper.from_array(rng.standard_normal((1, 4 * H, I)).astype(np.float32), "W")
        R = numpy_helper.from_array(rng.standard_normal((1, 4 * H, H)).astype(np.float32), "R")
        node = helper.make_node("LSTM", lstm_inputs, ["Y", "Y_h", "Y_c"], hidden_size=H)
        graph = helper.make_graph(extra_nodes + [node], name,
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [T, 1, I])],
                                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [W, R] + extra_inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])

    # peepholes: the LSTM's 8th input P
    P = numpy_helper.from_array(rng.standard_normal((1, 3 * H)).astype(np.float32), "P")
    onnx.save(lstm_graph([], [P], ["x", "W", "R", "", "", "", "", "P"], "peephole"),
              str(OUT / "refuse_onnx_peephole.onnx"))
    # an operator rnnlab does not know between the input and the LSTM
    onnx.save(lstm_graph([helper.make_node("Softsign", ["x"], ["xs"])], [], ["xs", "W", "R"], "softsign"),
              str(OUT / "refuse_onnx_operator.onnx"))
    # no recurrent operator at all
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), str(OUT / "refuse_onnx_none.onnx"))


def write_data() -> None:
    """Two data sets: sequences as arrays (classification at the last step) and as CSV (regression at every step)."""
    rng = np.random.default_rng(5)
    N = 40
    x = rng.standard_normal((N, T, I)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64)  # classes 0 and 1 (the fixtures' readouts have O = 2)
    lengths = rng.integers(4, T + 1, N)
    lengths[0] = T
    for n in range(N):
        x[n, lengths[n]:] = 0.0
    np.savez(OUT / "seqs_cls.npz", x=x, y=y, lengths=lengths)
    rows = ["sequence,t,a,b,c,target_0,target_1"]
    for n in range(12):
        L = int(rng.integers(3, T + 1))
        for t in range(L):
            a, b, c = rng.standard_normal(3)
            rows.append(f"s{n},{t},{a:.6f},{b:.6f},{c:.6f},{np.sin(a):.6f},{b * c:.6f}")
    (OUT / "seqs_reg.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


# --- the checks that need PyTorch -----------------------------------------------------------------------------------

def check() -> int:
    """Fine-tune imported models in rnnlab, export them as safetensors, reload them in PyTorch, compare outputs."""
    import tempfile

    from safetensors.torch import load_file

    from rnnlab.train.imported import experiment_for, export_weights
    from rnnlab.train.trainer import Trainer

    failures = 0
    cases = [("lstm_l1_uni_f64", 0, "forward", 1e-12), ("gru_l2_bi_f32", 1, "backward", 1e-6),
             ("rnn_relu_l2_uni_f32", 1, "forward", 1e-6), ("gru_l1_uni_f64", 0, "forward", 1e-12),
             ("lstm_l2_uni_f32", 1, "forward", 1e-6)]
    for name, layer, direction, tol in cases:
        kind = name.split("_l")[0]
        layers = int(name.split("_l")[1][0])
        bidir = "_bi_" in name
        dt = name[-3:]
        exp = experiment_for(OUT / f"{name}.safetensors", layer=layer, direction=direction,
                             data=OUT / "seqs_cls.npz",
                             changes={"training.optimizer": "adam", "training.learning_rate": 0.05,
                                      "model.activation": "relu" if kind == "rnn_relu" else "tanh",
                                      "task.batch_size": 8})
        tr = Trainer(exp)
        before = {k: v.copy() for k, v in tr.net.params.items()}
        if tr.untrainable is None:
            for _ in range(5):
                assert tr.step(), tr.explosion
        else:  # no readout on this layer: move the recurrent weights by hand, the export must carry them
            for k in tr.net.cell.trainable:
                tr.net.params[k] += 0.01 * np.random.default_rng(0).standard_normal(tr.net.params[k].shape)
        moved = max(float(np.abs(tr.net.params[k] - before[k]).max()) for k in tr.net.cell.trainable)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "weights.safetensors"
            export_weights(tr, path)
            state = load_file(str(path))
        net = make(kind, layers, bidir, dt, seed=0)
        net.load_state_dict(state, strict=True)
        raw = tr.task.inner.sample(np.random.default_rng(0), 4).x  # sequences of the data, before the front end
        ref = expected(net, torch.from_numpy(raw).to(DTYPES[dt]), kind == "lstm")[f"h_l{layer}_{direction}"]
        from rnnlab.core.bptt import forward

        trace = forward(tr.net, tr.task.front_end(raw))
        h = trace.hidden(tr.net)
        if direction == "backward":
            h = h[::-1]
        err = float(np.abs(h - ref).max())
        ok = err <= tol and moved > 1e-4
        text = f"max |h_rnnlab - h_torch| = {err:.2e}"
        if tr.net.n_out:  # the readout was fine-tuned too: the module's output
            with torch.no_grad():
                out = net(torch.from_numpy(raw).to(DTYPES[dt])).numpy()
            err_out = float(np.abs(trace.z - out).max())
            ok = ok and err_out <= tol
            text += f", of the readout's output {err_out:.2e}"
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name} layer {layer} {direction}: weights moved by up to {moved:.3g}; "
              f"PyTorch reloaded the export (load_state_dict strict): {text} (tolerance {tol:g})")
    # a .pt state_dict, read with torch.load(weights_only=True) because torch is installed here
    from rnnlab.config import ModelConfig
    from rnnlab.core.bptt import forward as rnnlab_forward
    from rnnlab.models import open_model

    m = open_model(OUT / "rnn_tanh_l1_uni_f32.pt")
    net = make("rnn_tanh", 1, False, "f32", seed=0)
    net.load_state_dict(torch.load(OUT / "rnn_tanh_l1_uni_f32.pt", weights_only=True))
    x = torch.randn(T, B, I, generator=torch.Generator().manual_seed(7))
    ref = expected(net, x, False)["h_l0_forward"]
    rnet = m.network(ModelConfig(), 0, "forward", None, "linear")
    err = float(np.abs(rnnlab_forward(rnet, x.double().numpy()).hidden(rnet) - ref).max())
    ok = err <= 1e-6
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} rnn_tanh_l1_uni_f32.pt read with torch.load(weights_only=True): "
          f"max |h_rnnlab - h_torch| = {err:.2e} (tolerance 1e-06)")
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="run the PyTorch-side checks instead of writing fixtures")
    args = ap.parse_args()
    if args.check:
        return check()
    write_models()
    print(f"wrote {len(list(OUT.iterdir()))} files into {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
