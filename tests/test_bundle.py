"""Build the one-folder app with PyInstaller, unpack its archive into an empty folder and run its self-test with
an empty environment (no Python packages, no PYTHONPATH). Slow (about two minutes); CI runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux build script")
def test_bundle_builds_and_passes_its_selftest(tmp_path):
    # building needs the machine's package-index settings; only running the bundle uses an empty environment
    build = subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], capture_output=True, text=True,
                           env={**os.environ, "PYTHON": sys.executable}, timeout=1800)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    archives = list((ROOT / "packaging" / "dist").glob("rnnlab-*-linux-*.tar.gz"))
    assert len(archives) == 1
    target = tmp_path / "unpacked"
    target.mkdir()
    with tarfile.open(archives[0]) as tf:
        tf.extractall(target)
    app = target / "rnnlab" / "rnnlab"
    assert app.exists()
    size_mb = sum(f.lstat().st_size for f in (target / "rnnlab").rglob("*") if f.is_file() and not f.is_symlink()) / 1e6
    print(f"bundle: {size_mb:.0f} MB unpacked, archive {archives[0].stat().st_size / 1e6:.0f} MB")
    assert size_mb <= 250
    run = subprocess.run([str(app), "selftest"], capture_output=True, text=True, cwd=target, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "self-test passed" in run.stdout
    m = re.search(r"start-up to a drawn window: ([0-9.]+) s", run.stdout)
    assert m, run.stdout
    print(f"start-up to a drawn window: {m.group(1)} s")
    version = subprocess.run([str(app), "--version"], capture_output=True, text=True, env={"PATH": "/usr/bin"})
    assert version.stdout.startswith("rnnlab ")
    # the bundle opens trained models: a safetensors state_dict on data, and an ONNX graph (the onnx extra)
    data = ROOT / "tests" / "data" / "import"
    for model in ("lstm_l2_bi_f32.safetensors", "gru_l1_uni_f32.onnx"):
        res = subprocess.run([str(app), "inspect", "--model", str(data / model), "--data", str(data / "seqs_cls.npz"),
                              "--out", str(tmp_path / f"{model}.npz")], capture_output=True, text=True, cwd=target,
                             timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        assert res.returncode == 0 and f"Imported: {model}" in res.stdout, res.stdout[-2000:] + res.stderr[-2000:]
    shutil.rmtree(ROOT / "packaging" / "build", ignore_errors=True)
