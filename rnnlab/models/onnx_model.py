"""ONNX models (``.onnx``, read with the ``onnx`` package, an optional extra: ``pip install "rnnlab[onnx]"``).

The graph must be a stack of ``RNN``, ``LSTM`` or ``GRU`` operators (all of one kind), each reading the output of
the one before through shape operators only, optionally followed by a readout (``MatMul`` with a stored weight
and an ``Add`` of a stored bias, or ``Gemm``). What is read:

======================  ======================  ===============================================================
ONNX                    shape                   rnnlab
======================  ======================  ===============================================================
W (input 1)             (D, G, I)               W_hx of each direction d (0 forward, 1 reverse), blocks
                                                reordered (LSTM i,o,f,c → i,f,g,o; GRU z,r,h → z,r,n)
R (input 2)             (D, G, H)               W_hh, reordered the same way
B (input 3, optional)   (D, 2G) = [Wb, Rb]      b_h = Wb + Rb; GRU with ``linear_before_reset``: the h block of Rb
                                                is b_hn (``model.gru_reset_after = true``), else all of it adds up
activations             f, g, h per direction   gates Sigmoid, candidate (and LSTM output) Tanh, Relu or Sigmoid
MatMul/Gemm weight      (H, O) / (O, H)         a readout candidate W_yh (with the Add's or Gemm's bias b_y)
======================  ======================  ===============================================================

Refused, by name: an operator outside this list (and the shape operators between layers), cell clipping
(``clip``), coupled gates (``input_forget``), peepholes (a non-zero ``P``), weights computed in the graph, an
initial state that is not zero, layers of different kinds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import ConfigError, _short
from ._guard import MODEL_LIMIT, checked_file, read_bytes, reason
from .model import DIRECTIONS, ONNX_BLOCKS, ImportedModel, Layer, Readout, from_rnnlab, to_rnnlab

__all__ = ["read_onnx", "RECURRENT", "PLUMBING"]

#: ONNX operator -> (rnnlab cell, gate blocks, default activations per direction)
RECURRENT = {"RNN": ("rnn", 1, ("Tanh",)), "LSTM": ("lstm", 4, ("Sigmoid", "Tanh", "Tanh")),
             "GRU": ("gru", 3, ("Sigmoid", "Tanh"))}
#: operators that only move, reshape or compute shapes (allowed anywhere; followed through between layers)
PLUMBING = {"Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Cast", "Shape", "Gather", "Constant",
            "ConstantOfShape", "Slice", "Concat", "Expand", "Dropout", "Flatten", "Split"}
#: operators of a readout and of an output nonlinearity after it
READOUT_OPS = {"MatMul", "Add", "Gemm", "Softmax", "LogSoftmax", "Sigmoid"}
_ACTS = {"Tanh": "tanh", "Relu": "relu", "Sigmoid": "sigmoid"}
_FOLLOW = {"Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Cast", "Dropout", "Flatten"}


def read_onnx(path) -> ImportedModel:
    """Open an ONNX model holding RNN, LSTM or GRU operators (see the module docstring)."""
    p = checked_file(path, "a model file", MODEL_LIMIT)
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ConfigError(f"{p.name}: reading ONNX needs the onnx package: pip install \"rnnlab[onnx]\" "
                          "(or pip install onnx)") from None
    data = read_bytes(p)
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as exc:  # DecodeError and friends on a damaged file
        raise ConfigError(f"{p}: not a readable ONNX model ({reason(exc, 120)})") from None
    graph = proto.graph
    if not graph.node:
        raise ConfigError(f"{p}: not a readable ONNX model (its graph has no operator)")
    return _Graph(p, graph, numpy_helper).model()


class _Graph:
    def __init__(self, path: Path, graph, numpy_helper):
        self.path, self.graph, self.nh = path, graph, numpy_helper
        self.values: dict[str, np.ndarray] = {}
        try:
            for t in graph.initializer:
                self.values[t.name] = numpy_helper.to_array(t)
            for n in graph.node:
                if n.op_type == "Constant":
                    for a in n.attribute:
                        if a.name == "value":
                            self.values[n.output[0]] = numpy_helper.to_array(a.t)
        except Exception as exc:  # a tensor whose stored bytes do not match its shape, external data missing …
            raise ConfigError(f"{path}: a stored tensor cannot be read ({reason(exc, 120)})") from None
        self.producer = {o: n for n in graph.node for o in n.output if o}
        self.inputs = {i.name for i in graph.input}

    def where(self, node) -> str:
        return f"node {node.name!r}" if node.name else f"node writing {node.output[0]!r}"

    def attr(self, node, name, default=None):
        from onnx import helper

        for a in node.attribute:
            if a.name == name:
                v = helper.get_attribute_value(a)
                if isinstance(v, bytes):
                    return v.decode("utf-8", "replace")
                if isinstance(v, list):
                    return [x.decode("utf-8", "replace") if isinstance(x, bytes) else x for x in v]
                return v
        return default

    def stored(self, name: str, what: str, node) -> np.ndarray:
        if name in self.values:
            a = np.asarray(self.values[name])
            if a.dtype.kind != "f":
                raise ConfigError(f"{self.path.name}: {what} of {self.where(node)} is {a.dtype}, expected floats")
            return a
        raise ConfigError(f"{self.path.name}: {what} of {self.where(node)} is computed in the graph, not stored; "
                          "rnnlab reads stored weights only")

    def source(self, name: str) -> tuple[str, object]:
        """Follow ``name`` back through shape operators: ("input", name), ("node", node) or ("value", name)."""
        seen = 0
        while True:
            if name in self.values:
                return "value", name
            if name in self.inputs:
                return "input", name
            node = self.producer.get(name)
            if node is None or node.op_type not in _FOLLOW or seen > 1000:
                return "node", node
            name = node.input[0]
            seen += 1

    def is_zero(self, name: str) -> bool | None:
        """Whether an initial state is zero: True, False, or None when it is a graph input (given at run time)."""
        if not name:
            return True
        kind, obj = self.source(name)
        if kind == "value":
            return not np.any(self.values[obj])
        if kind == "input":
            return None
        if obj is not None and obj.op_type in ("Expand", "ConstantOfShape"):
            if obj.op_type == "ConstantOfShape":
                v = self.attr(obj, "value")
                return v is None or not np.any(self.nh.to_array(v))
            k2, o2 = self.source(obj.input[0])
            return k2 == "value" and not np.any(self.values[o2])
        return False

    def model(self) -> ImportedModel:
        path, name = self.path, self.path.name
        rec = [n for n in self.graph.node if n.op_type in RECURRENT and n.domain in ("", "ai.onnx")]
        if not rec:
            raise ConfigError(f"{name}: no RNN, LSTM or GRU operator in the graph")
        for node in self.graph.node:
            if node.domain not in ("", "ai.onnx"):
                raise ConfigError(f"{name}: unsupported operator {node.domain}.{node.op_type} ({self.where(node)}): "
                                  "rnnlab opens graphs of RNN, LSTM and GRU operators with an optional "
                                  "MatMul/Gemm readout")
            if node.op_type not in RECURRENT and node.op_type not in PLUMBING and node.op_type not in READOUT_OPS:
                raise ConfigError(f"{name}: unsupported operator {node.op_type!r} ({self.where(node)}): rnnlab "
                                  "opens graphs of RNN, LSTM and GRU operators with an optional MatMul/Gemm readout")
        kinds = sorted({n.op_type for n in rec})
        if len(kinds) > 1:
            raise ConfigError(f"{name}: mixes {' and '.join(kinds)} layers; rnnlab opens a stack of one kind")
        op = kinds[0]
        arch, nblk, default_acts = RECURRENT[op]
        perm = ONNX_BLOCKS[arch]
        layers, specs, acts, resets, dtypes = [], [], set(), set(), set()
        for k, node in enumerate(rec):
            where = self.where(node)
            H = self.attr(node, "hidden_size")
            if self.attr(node, "clip") is not None:
                raise ConfigError(f"{name}: {op} {where} clips its cell (clip): not supported")
            if self.attr(node, "input_forget", 0):
                raise ConfigError(f"{name}: {op} {where} couples its input and forget gates (input_forget): "
                                  "not supported")
            direction = self.attr(node, "direction", "forward")
            dirs = {"forward": ("forward",), "reverse": ("backward",), "bidirectional": DIRECTIONS}.get(direction)
            if dirs is None:
                raise ConfigError(f"{name}: {op} {where} has direction {_short(direction)}")
            a = self.attr(node, "activations") or list(default_acts) * len(dirs)
            per = len(default_acts)
            if len(a) != per * len(dirs):
                raise ConfigError(f"{name}: {op} {where} lists {len(a)} activations, expected {per * len(dirs)}")
            for d in range(len(dirs)):
                own = a[d * per : (d + 1) * per]
                if per > 1 and own[0] != "Sigmoid":
                    raise ConfigError(f"{name}: {op} {where} uses {own[0]} for its gates; rnnlab's gates are Sigmoid")
                cand = own[1:] if per > 1 else own
                if len(set(cand)) > 1 or cand[0] not in _ACTS:
                    raise ConfigError(f"{name}: {op} {where} uses the activations {', '.join(cand)}; rnnlab "
                                      f"supports one of {', '.join(_ACTS)} for the candidate"
                                      f"{' and the cell output' if op == 'LSTM' else ''}")
                acts.add(cand[0])
            ins = list(node.input) + [""] * 8
            W = self.stored(ins[1], "W", node)
            R = self.stored(ins[2], "R", node)
            Bv = self.stored(ins[3], "B", node) if ins[3] else None
            if op == "LSTM" and ins[7]:
                P = self.stored(ins[7], "P (peepholes)", node)
                if np.any(P):
                    raise ConfigError(f"{name}: LSTM {where} has peephole connections (input P): rnnlab's LSTM "
                                      "has none")
            for i in (5, 6) if op == "LSTM" else (5,):
                z = self.is_zero(ins[i])
                if z is False:
                    raise ConfigError(f"{name}: {op} {where} starts from a stored non-zero "
                                      f"{'initial_h' if i == 5 else 'initial_c'}; rnnlab starts from zero")
            D = len(dirs)
            G = nblk * H
            if W.ndim != 3 or W.shape[:2] != (D, G) or R.shape != (D, G, H):
                raise ConfigError(f"{name}: {op} {where}: W has shape {tuple(W.shape)} and R {tuple(R.shape)}, "
                                  f"expected ({D}, {G}, I) and ({D}, {G}, {H})")
            if Bv is not None and Bv.shape != (D, 2 * G):
                raise ConfigError(f"{name}: {op} {where}: B has shape {tuple(Bv.shape)}, expected ({D}, {2 * G})")
            reset_after = bool(self.attr(node, "linear_before_reset", 0)) if op == "GRU" else False
            resets.add(reset_after)
            dtypes.update(x.dtype for x in (W, R) if x is not None)
            # the layer reads the graph's input (k = 0) or the previous layer's output, through shape operators
            kind, src = self.source(ins[0])
            if k == 0:
                if kind != "input":
                    what = src.op_type if kind == "node" and src is not None else kind
                    raise ConfigError(f"{name}: the first {op} ({where}) does not read the graph's input directly "
                                      f"(it reads the output of {_short(what)})")
            else:
                if not (kind == "node" and src is rec[k - 1]):
                    raise ConfigError(f"{name}: {op} {where} does not read the output of the {op} before it; "
                                      "rnnlab opens a plain stack of recurrent layers")
                prev = layers[-1]
                if W.shape[2] != prev.n_hidden * len(prev.directions):
                    raise ConfigError(f"{name}: {op} {where} takes {W.shape[2]} inputs, the layer below gives "
                                      f"{prev.n_hidden * len(prev.directions)}")
            params = {}
            for d, dname in enumerate(dirs):
                b_in = Bv[d, :G] if Bv is not None else None
                b_rec = Bv[d, G:] if Bv is not None else None
                params[dname] = to_rnnlab(W[d], R[d], b_in, b_rec, perm, reset_after)
            layers.append(Layer(W.shape[2], H, params, Bv is not None))  # no B: the biases stay zero (frozen)
            specs.append((ins[1], ins[2], ins[3], dirs))
        if len(acts) > 1:
            raise ConfigError(f"{name}: the layers use different activations ({', '.join(sorted(acts))})")
        if len(resets) > 1:
            raise ConfigError(f"{name}: the GRU layers differ in linear_before_reset")
        readouts, ro_specs = self._readouts(rec[-1], layers[-1])
        dtype = max(dtypes, key=lambda t: t.itemsize)
        model = ImportedModel(path, f"ONNX {op}", arch, _ACTS[acts.pop()], resets.pop(), layers, readouts,
                              np.dtype(dtype))
        originals = {k: np.asarray(v) for k, v in self.values.items() if k in {t.name for t in self.graph.initializer}}

        def writer(m, layer, direction, params, readout, readout_params):
            out = dict(originals)
            w_name, r_name, b_name, dirs = specs[layer]
            d = dirs.index(direction)
            G = params["W_hh"].shape[0]
            has_b = bool(b_name)
            old_b = originals[b_name] if has_b else None
            Wi, Wr, bi, br = from_rnnlab(params, old_b[d, G:] if has_b else None, perm, m.reset_after, has_b)
            W = originals[w_name].copy()
            R = originals[r_name].copy()
            W[d], R[d] = Wi, Wr
            out[w_name], out[r_name] = W, R
            if has_b:
                Bn = old_b.copy()
                Bn[d, :G], Bn[d, G:] = bi, br
                out[b_name] = Bn
            if readout is not None and readout_params is not None:
                wn, bn, transposed = ro_specs[readout.name]
                Wy = np.asarray(readout_params["W_yh"])
                out[wn] = (Wy.T if transposed else Wy).astype(originals[wn].dtype)
                if bn:
                    out[bn] = np.asarray(readout_params["b_y"]).reshape(originals[bn].shape).astype(originals[bn].dtype)
            return out

        model.writer = writer
        return model

    def _readouts(self, last, layer: Layer) -> tuple[list[Readout], dict]:
        """MatMul (+ Add) and Gemm nodes reading the last layer's output with stored weights."""
        out, specs = [], {}
        for node in self.graph.node:
            if node.op_type not in ("MatMul", "Gemm"):
                continue
            kind, src = self.source(node.input[0])
            if not (kind == "node" and src is last):
                continue
            wname = node.input[1]
            if wname not in self.values or self.values[wname].ndim != 2:
                continue
            Wv = np.asarray(self.values[wname])
            bias_name = ""
            if node.op_type == "Gemm":
                if self.attr(node, "transA", 0) or self.attr(node, "alpha", 1.0) != 1.0 or \
                        self.attr(node, "beta", 1.0) != 1.0:
                    continue
                transposed = not self.attr(node, "transB", 0)
                if len(node.input) > 2 and node.input[2] in self.values:
                    bias_name = node.input[2]
            else:
                transposed = True
                adds = [n for n in self.graph.node if n.op_type == "Add" and node.output[0] in n.input]
                if len(adds) == 1:
                    other = [i for i in adds[0].input if i != node.output[0]]
                    if other and other[0] in self.values:
                        bias_name = other[0]
            W = Wv.T if transposed else Wv  # (O, H_in)
            b = np.asarray(self.values[bias_name]).reshape(-1) if bias_name else None
            if b is not None and b.shape[0] != W.shape[0]:
                b, bias_name = None, ""
            out.append(Readout(wname, W, b))
            specs[wname] = (wname, bias_name, transposed)
        return out, specs
