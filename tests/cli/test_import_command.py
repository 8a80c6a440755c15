"""``rnnlab inspect --model … --data …`` and ``rnnlab run --model …``: the same .npz as for rnnlab's own cells,
the fine-tuned weights beside the run, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnlab.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "import"


def test_inspect_a_layer_of_a_bidirectional_model(tmp_path, capsys):
    out = tmp_path / "lstm.npz"
    rc = main(["inspect", "--model", str(DATA / "lstm_l2_bi_f64.safetensors"), "--layer", "1", "--direction",
               "backward", "--set", "task.length=12", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Imported: lstm_l2_bi_f64.safetensors · layer 1 of 2 · backward · no readout" in text
    assert "loss: none (no data" in text
    d = np.load(out, allow_pickle=False)
    own = ("W_hx", "W_hh", "b_h", "W_yh", "b_y", "x", "h", "jacobian_log10", "lag_profile", "eigenvalues",
           "singular_values", "lyapunov", "hidden", "loss", "config", "loss_note")
    assert set(own) <= set(d.files)
    assert d["x"].shape[1:] == (min(20, 8), 8)  # the layer's input: both directions of layer 0, 2H = 8
    assert d["W_hx"].shape == (16, 8) and d["W_yh"].shape == (0, 4)
    assert np.isnan(d["loss"]) and "no data" in str(d["loss_note"])
    assert np.all(np.isfinite(np.diag(d["jacobian_log10"])))
    assert 'source = "' in str(d["config"]) and "source_direction = \"backward\"" in str(d["config"])


def test_inspect_a_model_on_your_data(tmp_path, capsys):
    out = tmp_path / "gru.npz"
    rc = main(["inspect", "--model", str(DATA / "gru_l1_uni_f32.safetensors"), "--data", str(DATA / "seqs_cls.npz"),
               "--out", str(out)])
    assert rc == 0
    assert "readout fc" in capsys.readouterr().out
    d = np.load(out, allow_pickle=False)
    assert np.isfinite(d["loss"]) and str(d["loss_note"]) == ""
    assert "grad_W_hh" in d.files and "grad_b_hn" in d.files and d["b_hn"].shape == (4,)
    t = int(np.flatnonzero(d["mask"][:, 0])[0])  # sequence 0's last real step: its one scored step
    assert d["x"].shape[0] == 7 and np.all(np.isfinite(d["gradient_flow_log10"][t, : t + 1]))


def test_data_alone_trains_rnnlabs_own_cell(tmp_path, capsys):
    rc = main(["run", "--data", str(DATA / "seqs_cls.npz"), "--set", "model.hidden_size=8", "--steps", "20",
               "--quiet", "--out", str(tmp_path / "run")])
    assert rc == 0
    assert "baseline" in capsys.readouterr().out
    assert (tmp_path / "run" / "state.npz").exists() and not (tmp_path / "run" / "weights.safetensors").exists()


def test_run_fine_tunes_an_imported_model_and_writes_its_weights(tmp_path, capsys):
    rc = main(["run", "--model", str(DATA / "rnn_relu_l1_uni_f32.safetensors"), "--data",
               str(DATA / "seqs_cls.npz"), "--set", "model.activation=relu", "--steps", "10", "--quiet",
               "--out", str(tmp_path / "run")])
    assert rc == 0
    assert "weights.safetensors" in capsys.readouterr().out
    from safetensors.numpy import load_file

    w = load_file(str(tmp_path / "run" / "weights.safetensors"))
    assert set(w) == {"rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight",
                      "fc.bias"}


@pytest.mark.parametrize("args,needle", [
    (["--model", str(DATA / "rnn_tanh_l1_uni_f32.pt")], None),  # torch may or may not be installed
    (["--model", str(DATA / "refuse_lstm_proj.safetensors")], "proj_size"),
    (["--model", str(DATA / "lstm_l1_uni_f32.safetensors"), "--layer", "3"], "model.source_layer = 3"),
    (["--layer", "1"], "--layer needs --model"),
    (["--model", str(DATA / "lstm_l1_uni_f32.safetensors"), "--set", "model.arch=gru"], "model.arch = 'gru'"),
    (["--model", "nothere.safetensors"], "no such file"),
])
def test_import_errors_are_one_line(tmp_path, capsys, args, needle):
    rc = main(["inspect", *args, "--out", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err.strip()
    if needle is None:
        if rc == 0:
            return
        needle = "needs torch"
    assert rc == 2
    assert err.count("\n") == 0 and needle in err, err


def test_run_refuses_what_it_cannot_train(tmp_path, capsys):
    rc = main(["run", "--model", str(DATA / "lstm_l2_uni_f32.safetensors"), "--steps", "5", "--quiet",
               "--out", str(tmp_path / "run")])
    assert rc == 2
    assert "nothing to train: no data" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
