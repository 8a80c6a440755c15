"""The command line: inspect, run, presets, bench and their errors; the CLI package itself."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from rnnlab import __version__
from rnnlab.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as ex:
        main(["--version"])
    assert ex.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "rnnlab", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"rnnlab {__version__}"


def test_inspect_writes_documented_npz(tmp_path, capsys):
    out = tmp_path / "probe.npz"
    rc = main(["inspect", "--set", "model.spectral_radius=1.5", "--set", "task.length=30", "--set",
               "task.name=addition", "--set", "model.hidden_size=16", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "ρ(W_hh) = 1.5" in text and "σ_max" in text and "regime" in text
    d = np.load(out, allow_pickle=False)
    for k in ("W_hx", "W_hh", "b_h", "W_yh", "b_y", "x", "h", "jacobian_log10", "lag_profile", "eigenvalues",
              "singular_values", "lyapunov", "loss", "grad_W_hh"):
        assert k in d.files, k
    T, B, I = d["x"].shape
    assert d["h"].shape == (T, B, 16)
    assert d["W_hx"].shape == (16, I) and d["W_yh"].shape == (1, 16)
    J = d["jacobian_log10"]
    assert J.shape == (T, T)
    assert np.all(np.isnan(J[np.triu_indices(T, 1)])) and np.all(np.isfinite(np.diag(J)))
    assert abs(np.max(np.abs(d["eigenvalues"])) - 1.5) < 1e-9
    # h[t] is the state after input t: recompute h[0] from x[0]
    h0 = np.tanh(d["x"][0] @ d["W_hx"].T + d["b_h"])
    np.testing.assert_allclose(d["h"][0], h0, atol=1e-12)


@pytest.mark.parametrize("args,needle", [
    (["--set", "model.arch=transformer"], "model.arch = 'transformer': expected one of 'rnn'"),
    (["--set", "model.hiden_size=3"], "unknown key 'model.hiden_size'"),
    (["--set", "model.spectral_radius=-1"], "model.spectral_radius = -1.0"),
    (["--set", "task.length=abc"], "task.length = 'abc': expected an integer"),
    (["--preset", "nonexistent"], "unknown preset 'nonexistent': expected one of"),
])
def test_bad_input_is_a_one_line_error(tmp_path, capsys, args, needle):
    rc = main(["inspect", *args, "--out", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("rnnlab: error:")


def test_config_file_errors_name_the_file_and_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nhidden_size = 'many'\n")
    assert main(["inspect", "--config", str(bad), "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "model.hidden_size" in err
    bad.write_text("[model\n")
    assert main(["inspect", "--config", str(bad), "--out", str(tmp_path / "x.npz")]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_run_writes_config_metrics_state_and_config_reloads(tmp_path, capsys):
    out = tmp_path / "run"
    from rnnlab.config import Experiment, save_toml

    cfg = tmp_path / "exp.toml"
    save_toml(Experiment().replace("task.length", 12).replace("training.eval_every", 10), cfg)
    rc = main(["run", "--config", str(cfg), "--steps", "30", "--quiet", "--out", str(out)])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["config.toml", "metrics.csv", "state.npz"]  # no temporaries
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert len(rows) == 30
    for col in ("step", "loss", "metric", "grad_norm", "grad_norm_clipped", "clipped", "spectral_radius",
                "sigma_max"):
        assert col in rows[0]
    assert [int(r["step"]) for r in rows] == list(range(1, 31))
    assert rows[9]["metric"] != "" and rows[8]["metric"] == ""
    st = np.load(out / "state.npz", allow_pickle=False)
    for k in ("W_hh", "x", "y", "h", "loss", "grad_W_hh", "jacobian_log10", "lyapunov"):
        assert k in st.files
    # state.npz's loss and gradients are those of its probe batch at its parameters
    from rnnlab.config import load_toml
    from rnnlab.core import loss_and_grads
    from rnnlab.train.setup import build

    exp = load_toml(out / "config.toml")
    _, net, _ = build(exp)
    for k in net.params:
        net.params[k][...] = st[k]
    loss, grads, _ = loss_and_grads(net, st["x"], st["y"], st["mask"])
    assert loss == pytest.approx(float(st["loss"]), rel=1e-12)
    np.testing.assert_allclose(grads["W_hh"], st["grad_W_hh"], rtol=1e-10)
    # --config reloads the resolved config exactly
    out2 = tmp_path / "run2"
    assert main(["run", "--config", str(out / "config.toml"), "--steps", "30", "--quiet", "--out", str(out2)]) == 0
    assert (out2 / "config.toml").read_text() == (out / "config.toml").read_text()
    assert (out2 / "metrics.csv").read_text() == (out / "metrics.csv").read_text()


def test_run_that_explodes_exits_zero_and_keeps_files(tmp_path, capsys):
    from rnnlab.config import Experiment, save_toml

    exp = (Experiment().replace("task.name", "addition").replace("task.length", 20)
           .replace("model.activation", "linear").replace("model.spectral_radius", 3.0)
           .replace("training.learning_rate", 0.5))
    cfg = tmp_path / "boom.toml"
    save_toml(exp, cfg)
    out = tmp_path / "boom"
    rc = main(["run", "--config", str(cfg), "--steps", "500", "--quiet", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "EXPLODED" in text and "at step" in text
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert 0 < len(rows) < 500
    assert rows[-1]["grad_norm"] == "inf"
    st = np.load(out / "state.npz", allow_pickle=False)
    assert np.all(np.isfinite(st["W_hh"]))


def test_run_needs_a_preset_or_config(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path / "r")]) == 2
    assert "--preset" in capsys.readouterr().err


def test_presets_lists_descriptions(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "Contrast: set" in out
    # the descriptions' formulas are TeX (typeset in the app): here they are plain Unicode
    assert "$" not in out and "\\" not in out and "ρ" in out


def test_bench_quick_prints_json(capsys):
    import json

    assert main(["bench", "--quick"]) == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("dtype", "bptt_ms", "floor_ms", "heatmap_ms", "heatmap_efficiency", "train_step_over_bptt"):
        assert k in d


# --- the package ---------------------------------------------------------------------------------------------

def test_every_command_is_a_module_and_the_parser_loads_no_numpy_or_qt():
    code = ("import sys; from rnnlab.cli import COMMAND_MODULES, build_parser; p = build_parser(); "
            "names = set(p._subparsers._group_actions[0].choices); "
            "print(sorted(names ^ set(COMMAND_MODULES))); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'numpy', 'PySide6', 'shiboken6', 'pyqtgraph', 'superqt'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "[]"]


def test_nothing_outside_the_cli_package_imports_it():
    """The CLI is the top layer: only rnnlab/__main__.py (the entry point) may import rnnlab.cli."""
    import ast
    from pathlib import Path

    import rnnlab

    root = Path(rnnlab.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root.parent)
        if rel.parts[:2] == ("rnnlab", "cli") or rel == Path("rnnlab/__main__.py"):
            continue
        package = ".".join(rel.with_suffix("").parts[:-1] if path.name != "__init__.py" else rel.parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                mod = ".".join([*base, node.module] if node.module else base)
                names = [mod] + [f"{mod}.{a.name}" for a in node.names]
            else:
                continue
            if any(n == "rnnlab.cli" or n.startswith("rnnlab.cli.") for n in names):
                offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, offenders


@pytest.mark.parametrize("engine", ["thread", "process"])
def test_gui_engine_option_reaches_the_window(monkeypatch, engine):
    """`rnnlab gui --engine thread` is the brief's worker-thread mode; the default is the training process."""
    import rnnlab.gui.app as app_module
    import rnnlab.gui.main_window as mw_module
    from rnnlab.cli import main

    made = {}

    class FakeWindow:
        def __init__(self, exp, mode="process"):
            made["mode"] = mode

        def show(self):
            pass

    class FakeApp:
        def exec(self):
            return 0

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(mw_module, "MainWindow", FakeWindow)
    monkeypatch.setattr(app_module, "get_app", lambda *a: FakeApp())
    monkeypatch.setattr(app_module, "dispose", lambda w: None)
    args = ["gui", "--preset", "clipping"] + (["--engine", engine] if engine == "thread" else [])
    assert main(args) == 0
    assert made["mode"] == engine


def test_bench_compare_torch_says_clearly_when_torch_is_missing(capsys):
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here")
    assert main(["bench", "--quick", "--compare-torch"]) != 0
    err = capsys.readouterr().err
    assert "--compare-torch needs PyTorch" in err and err.count("\n") == 1


def test_bench_reports_every_cell_and_dtype(capsys):
    import json

    from rnnlab.core.cells import CELLS

    assert main(["bench", "--quick", "--no-record"]) == 0
    d = json.loads(capsys.readouterr().out)
    for arch in list(CELLS) + ["gru_reset_after"]:
        for dtype in ("float32", "float64"):
            r = d["cells"][arch][dtype]
            assert r["bptt_ms"] > 0 and r["floor_ms"] > 0 and r["bptt_over_floor"] > 0
        assert d["heatmaps"][arch]["ms"] > 0
    assert d["library_path"]["rnn.float64"]["notebook_ms"] > 0
    th = d["threads"]
    assert th["headless_choice"] in (1, 2) and "recorded_in" not in th
    r = th["rnn.float64"]
    assert r["choice_ms"] == r[f"threads_{th['headless_choice']}_ms"]
    assert r["default_ms"] == r[f"threads_{th['core_threads'] if th['core_threads'] in (1, 2) else 1}_ms"]


def test_the_headless_thread_count_is_two_only_when_no_step_is_slower_and_both_gain_ten_percent():
    from rnnlab.studies.bench import thread_choice

    def fig(one, two):
        return {"threads_1_ms": one, "threads_2_ms": two}

    assert thread_choice([]) == 1
    assert thread_choice([fig(10.4, 8.6), fig(16.1, 9.9)]) == 2
    # the vanilla step only 5 % faster (the other core busy for its figures), the LSTM's 40 %: two threads
    assert thread_choice([fig(9.84, 9.37), fig(16.0, 9.6)]) == 2
    assert thread_choice([fig(9.84, 9.90), fig(16.0, 9.6)]) == 1  # one step slower at two threads
    assert thread_choice([fig(10.0, 9.5), fig(16.0, 14.8)]) == 1  # together only 7 % faster
    assert thread_choice([fig(10.0, 9.0), fig(10.0, 9.0)]) == 2  # exactly 10 %
    assert thread_choice([fig(10.0, 100.0), fig(16.0, 160.0)]) == 1  # another process on the other core


def test_the_library_path_probe_alternates_with_this_process_and_reports_its_failure(monkeypatch):
    """The notebook's interpreter and this process take turns, block by block (each block's calls are timed where
    they run); a probe that fails to start is one line in the report, not a traceback."""
    from rnnlab.studies import bench

    r = bench.bench_library_path(quick=True)["library_path"]["rnn.float64"]
    assert r["notebook_ms"] > 0 and r["command_ms"] > 0
    assert r["notebook_over_command"] == pytest.approx(r["notebook_ms"] / r["command_ms"])
    monkeypatch.setattr(bench, "_LIBRARY_PROBE", "import sys; sys.exit('the probe broke here')")
    assert bench.bench_library_path(quick=True) == {
        "library_path": {"error": "the probe interpreter failed: the probe broke here"}}


@pytest.mark.parametrize("probe", ["import os; print('ready', flush=True); os._exit(3)",
                                   "import time; print('ready', flush=True); time.sleep(3600)"])
def test_a_library_path_probe_that_dies_or_hangs_midway_is_one_line(monkeypatch, probe):
    """A probe that answers "ready" and then dies, or hangs (ended by the watchdog), is reported, not raised."""
    from rnnlab.studies import bench

    monkeypatch.setattr(bench, "_LIBRARY_PROBE", probe)
    monkeypatch.setattr(bench, "_PROBE_TIMEOUT_S", 2.0)
    r = bench.bench_library_path(quick=True)["library_path"]
    assert list(r) == ["error"] and r["error"].startswith("the probe interpreter failed: ")
