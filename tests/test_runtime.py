"""The process tuning: BLAS threads per context, and the headless count ``rnnlab bench`` records."""

from __future__ import annotations

import json
import subprocess
import sys

from rnnlab import _runtime


def test_recorded_threads_reads_the_bench_file_and_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("RNNLAB_THREADS", raising=False)
    assert _runtime.recorded_threads() is None
    f = _runtime.threads_file()
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps({"headless": 2}))
    assert _runtime.recorded_threads() == 2
    monkeypatch.setenv("RNNLAB_THREADS", "3")
    assert _runtime.recorded_threads() == 3
    monkeypatch.delenv("RNNLAB_THREADS")
    for bad in ("{", json.dumps({"headless": "two"}), json.dumps([2]), json.dumps({"headless": 0})):
        f.write_text(bad)
        assert _runtime.recorded_threads() is None


def test_the_app_keeps_one_thread_and_headless_commands_use_the_recorded_count(tmp_path):
    f = tmp_path / "rnnlab" / "threads.json"
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps({"headless": 2}))
    code = ("import sys; from rnnlab import _runtime; _runtime.tune_process(headless=sys.argv[1] == '1'); "
            "import os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['RNNLAB_CORE_THREADS'])")
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RNNLAB_CORE_THREADS",
                        "RNNLAB_THREADS")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    out = [subprocess.run([sys.executable, "-c", code, h], capture_output=True, text=True, env=env,
                          check=True).stdout.split() for h in ("0", "1")]
    assert out == [["1", "1"], ["2", "2"]]


def test_core_passes_restore_the_callers_blas_threads():
    from rnnlab.core import _blas

    lib = _blas.blas_library()
    if lib is None or lib[3] is None:
        return  # not OpenBLAS: nothing is changed at all
    before = lib[3]()
    with _blas.blas_threads(1):
        assert lib[3]() == 1
    assert lib[3]() == before
