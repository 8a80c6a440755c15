"""Resources are found from a source checkout, an installed wheel and a frozen bundle."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from rnnlab import resources


def test_source_tree_layout():
    d = resources.resources_dir()
    assert (d / "presets").is_dir()
    assert any((d / "presets").glob("*.toml"))


def test_frozen_bundle_layout(tmp_path, monkeypatch):
    bundle = tmp_path / "bundle"
    shutil.copytree(resources.resources_dir(), bundle / "rnnlab" / "resources")
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert resources.candidate_dirs()[0] == bundle / "rnnlab" / "resources"
    assert resources.resources_dir() == bundle / "rnnlab" / "resources"


def test_missing_resources_name_every_place(monkeypatch, tmp_path):
    monkeypatch.setattr(resources, "candidate_dirs", lambda: [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(FileNotFoundError, match="looked in"):
        resources.resources_dir()


@pytest.mark.slow
def test_installed_wheel_layout(tmp_path):
    """Build the wheel, check it carries rnnlab/resources, install it into a fresh target and load a preset."""
    root = resources._PKG.parent
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                          str(tmp_path), str(root)], capture_output=True, text=True)
    if out.returncode != 0 and "hatchling" in out.stderr:
        out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(root)],
                             capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = next(tmp_path.glob("rnnlab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("rnnlab/resources/presets/") and n.endswith(".toml") for n in names)
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = ("import rnnlab.resources as r, rnnlab.presets as p; d = r.resources_dir(); "
            "assert str(d).startswith(%r), d; print(len(p.preset_names()))" % str(target))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert int(res.stdout.strip()) >= 1
