"""The guarded reader and the atomic writer (rnnlab.io), and every writer of rnnlab under failure: a read-only
folder, a folder where the file should be, a file where a folder should be, a full disk."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

from rnnlab import io
from rnnlab.config import ConfigError, Experiment, load_toml, save_toml
from tests import faults


# --- reading ---------------------------------------------------------------------------------------------------

def _err(fn, *args, **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg and len(msg) <= io.MESSAGE_LIMIT, msg
    return msg


def test_a_nul_byte_in_the_path_is_refused_in_one_line():
    assert "NUL byte" in _err(io.read_text, "a\x00b.toml")
    assert "NUL byte" in _err(load_toml, "exp\x00.toml")


def test_only_regular_files_are_read(tmp_path):
    assert "a folder, not a regular file" in _err(io.read_text, tmp_path)
    assert "a device, not a regular file" in _err(io.read_text, "/dev/zero")
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # opened without blocking: no writer, no hang
    assert "FIFO" in _err(io.read_text, fifo)
    assert "no such file" in _err(io.read_text, tmp_path / "missing.toml")


def test_size_limit_is_checked_before_reading(tmp_path):
    big = tmp_path / "big.toml"
    with open(big, "wb") as fh:
        fh.truncate(io.MAX_TEXT_BYTES + 1)  # sparse: nothing of it is read
    msg = _err(io.read_text, big, what="experiment file")
    assert "may be at most 1.05 MB" in msg and "big.toml" in msg


def test_utf8_is_checked_and_names_the_line(tmp_path):
    p = tmp_path / "latin1.toml"
    p.write_bytes(b"seed = 1\ndescription = 'caf\xe9'\n")
    assert "not a UTF-8 text file (byte 0xe9 on line 2)" in _err(io.read_text, p)
    p.write_bytes(b"\xef\xbb\xbfseed = 3\n")  # a byte-order mark (Windows editors) is fine
    assert load_toml(p).seed == 3


@pytest.mark.parametrize("text", [
    "x = " + "[" * 500 + "]" * 500 + "\n",
    "x = " + "{a = " * 500 + "1" + "}" * 500 + "\n",
    "[model]\n" + "a." * 400 + "b = 1\n",
])
def test_deep_nesting_is_refused_without_recursion(text):
    msg = _err(io.parse_toml, text, "deep.toml")
    assert "nested" in msg and "deep.toml" in msg


def test_brackets_in_strings_and_comments_do_not_count():
    text = ('a = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\n'
            "b = '{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{'\n"
            'c = """\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"""\n'
            "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
            "d = [[1], [2, [3]]]\n")
    assert io.toml_depth(text) == (3, 7)  # the line of d
    assert io.parse_toml(text)["d"] == [[1], [2, [3]]]


def test_long_values_and_paths_are_shortened(tmp_path):
    p = tmp_path / ("x" * 200 + ".toml")
    p.write_text("seed = '" + "y" * 8_000_000 + "'\n")  # an 8 MB string: refused by size, not echoed
    msg = _err(load_toml, p)
    assert "…" in msg and "yyyy" not in msg
    q = tmp_path / "long.toml"
    q.write_text("description = 1\n[model]\narch = '" + "z" * 100_000 + "'\n")
    msg = _err(load_toml, q)
    assert "model.arch" in msg and msg.count("z") < 100


def test_guarded_turns_anything_into_one_line():
    with pytest.raises(ConfigError, match=r"^f\.npz: not a readable model file: 'boom'$"):
        with io.guarded("f.npz", "model file"):
            raise KeyError("boom")
    with pytest.raises(ConfigError, match="nested too deeply"):
        with io.guarded("f.npz", "model file"):
            raise RecursionError()


def test_read_csv_refuses_nul_and_names_the_line(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n1,\x002\n")
    assert "NUL" in _err(io.read_csv, p)


# --- writing: the primitive ------------------------------------------------------------------------------------

def test_atomic_write_replaces_and_leaves_nothing(tmp_path):
    p = tmp_path / "sub" / "f.txt"
    with io.atomic_write(p) as fh:
        fh.write("one")
    assert p.read_text() == "one"
    with pytest.raises(RuntimeError):
        with io.atomic_write(p) as fh:
            fh.write("two")
            raise RuntimeError("a writer failing half way")
    assert p.read_text() == "one"
    assert sorted(x.name for x in p.parent.iterdir()) == ["f.txt"]


def test_a_writer_that_writes_nothing_fails(tmp_path):
    p = tmp_path / "x.png"
    p.write_bytes(faults.OLD)
    with pytest.raises(io.WriteError, match="nothing was written"):
        with io.atomic_path(p, check_nonempty=True) as tmp:
            tmp.write_bytes(b"")
    assert p.read_bytes() == faults.OLD and sorted(x.name for x in tmp_path.iterdir()) == ["x.png"]


# --- every writer under every failure --------------------------------------------------------------------------

def _small_trainer():
    from rnnlab.train.trainer import Trainer

    tr = Trainer(Experiment().replace(task__length=10, model__hidden_size=4, training__eval_every=5))
    for _ in range(6):
        tr.step()
    return tr


def _write_metrics_stream(path):
    from rnnlab.train.outputs import MetricsStream

    tr = _small_trainer()
    stream = MetricsStream(path)
    stream.flush(tr.history)
    stream.close(tr.history)


def _write_sweep_stream(path):
    from rnnlab.studies.sweep import _CsvSink

    sink = _CsvSink(path, ["model.spectral_radius"])
    row = {"run": 0, "model.spectral_radius": 0.5, "seed": 0, "final_loss": 1.0, "final_metric": 0.5,
           "success": False, "exploded": False, "steps": 3, "wall_time_s": 0.1}
    sink.add(row)
    sink.close([row])


def _write_sweep_csv(path):
    from rnnlab.studies.sweep import write_csv

    write_csv([{"run": 0, "model.spectral_radius": 0.5, "seed": 0, "final_loss": 1.0, "final_metric": 0.5,
                "success": False, "exploded": False, "steps": 3, "wall_time_s": 0.1}], path,
              ["model.spectral_radius"])


def _write_inspect(path):
    from rnnlab.studies.inspect import inspect_experiment

    inspect_experiment(Experiment().replace(task__length=10, model__hidden_size=4)).save(path)


def _write_checkpoint(path):
    from rnnlab.train.checkpoint import save_checkpoint

    save_checkpoint(_small_trainer(), path)


WRITERS = {
    "config.toml (save_toml)": (lambda p: save_toml(Experiment(), p), "config.toml"),
    "metrics.csv (write_metrics_csv)": (
        lambda p: __import__("rnnlab.train.outputs", fromlist=["x"]).write_metrics_csv(_small_trainer().history, p),
        "metrics.csv"),
    "metrics.csv (streamed by rnnlab run)": (_write_metrics_stream, "metrics.csv"),
    "state.npz (write_state)": (
        lambda p: __import__("rnnlab.train.outputs", fromlist=["x"]).write_state(_small_trainer(), p), "state.npz"),
    "inspect .npz": (_write_inspect, "inspect.npz"),
    "sweep.csv (write_csv)": (_write_sweep_csv, "sweep.csv"),
    "sweep.csv (streamed by rnnlab sweep)": (_write_sweep_stream, "sweep.csv"),
    "checkpoint.npz (the engine's)": (_write_checkpoint, "checkpoint.npz"),
}


@pytest.fixture
def fault(tmp_path, monkeypatch):
    yield lambda mode, name: faults.setup(mode, tmp_path, monkeypatch, name)
    faults.restore(tmp_path)


@pytest.mark.parametrize("mode", faults.MODES)
@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_writer_fails_cleanly(fault, writer, mode):
    write, name = WRITERS[writer]
    target = fault(mode, name)
    with pytest.raises(OSError) as info:
        write(target)
    assert isinstance(info.value, io.WriteError)
    faults.check(mode, target, info.value)


@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_writer_writes_when_it_can(tmp_path, writer):
    write, name = WRITERS[writer]
    target = tmp_path / "new" / name
    write(target)
    assert target.stat().st_size > 0
    assert sorted(p.name for p in target.parent.iterdir()) == [name]


# --- a real full disk and a real read-only file system, where the machine lets us mount one ------------------

@pytest.fixture
def tmpfs(tmp_path):
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mounted = []

    def mount(options: str):
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mnt)], capture_output=True)
        if r.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
        mounted.append(mnt)
        return mnt

    yield mount
    for m in mounted:
        subprocess.run(["umount", str(m)], check=False)


def test_a_real_full_disk(tmpfs):
    mnt = tmpfs("size=64k")
    target = mnt / "state.npz"
    target.write_bytes(faults.OLD)
    from rnnlab.train.outputs import save_npz

    with pytest.raises(io.WriteError, match="the disk is full") as info:
        save_npz({"x": np.zeros(100_000)}, target)  # 800 kB into 64 kB
    assert target.read_bytes() == faults.OLD and sorted(p.name for p in mnt.iterdir()) == ["state.npz"]
    assert "\n" not in str(info.value)


def test_a_real_read_only_file_system(tmpfs, tmp_path):
    mnt = tmpfs("size=64k")
    (mnt / "config.toml").write_bytes(faults.OLD)
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
    with pytest.raises(io.WriteError, match="read-only"):
        save_toml(Experiment(), mnt / "config.toml")
    assert (mnt / "config.toml").read_bytes() == faults.OLD
