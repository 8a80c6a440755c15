"""The file task: your sequences from .npz, .npy or .csv, held out, with a baseline that still means "learned
nothing"; rnnlab's own cells train on it; bad files give one line naming the problem."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rnnlab.config import ConfigError, Experiment, TaskConfig
from rnnlab.train import rules
from rnnlab.train.run import run
from rnnlab.train.tasks import make_task
from rnnlab.train.tasks.file import FileTask

DATA = Path(__file__).resolve().parent.parent / "data" / "import"


def task(path, **kw) -> FileTask:
    return make_task(TaskConfig(name="file", path=str(path), **kw))


def test_npz_sequences_with_lengths_and_a_class_at_the_last_step():
    t = task(DATA / "seqs_cls.npz")
    raw = np.load(DATA / "seqs_cls.npz")
    assert (t.n_in, t.n_out, t.kind, t.readout, t.length) == (3, 2, "classification", "last", 7)
    assert t.held.size == 8 and t.train.size == 32 and not set(t.held) & set(t.train)
    b = t.sample(np.random.default_rng(0), 5)
    idx, ln = b.info["index"], b.info["lengths"]
    np.testing.assert_array_equal(ln, raw["lengths"][idx])
    for j, n in enumerate(idx):  # time-major, the sequence's own steps, scored at its last real step
        np.testing.assert_array_equal(b.x[: ln[j], j], raw["x"][n, : ln[j]])
        assert np.all(b.x[ln[j]:, j] == 0)
        assert b.mask[:, j].sum() == 1 and b.mask[ln[j] - 1, j] == 1
        assert b.y[ln[j] - 1, j] == raw["y"][n]
    assert set(t.sample(np.random.default_rng(1), 200).info["index"]) <= set(t.train)
    held = t.sample_heldout(np.random.default_rng(2), 500)
    np.testing.assert_array_equal(np.sort(held.info["index"]), t.held)


def test_the_baseline_is_the_majority_class_of_the_training_sequences():
    t = task(DATA / "seqs_cls.npz")
    y = np.load(DATA / "seqs_cls.npz")["y"]
    p = np.bincount(y[t.train], minlength=2) / t.train.size
    assert t.baseline.loss == pytest.approx(-np.sum(p * np.log(p)))
    top = int(np.argmax(p))
    assert t.baseline.success_rate == pytest.approx(np.mean(y[t.held] == top))
    assert t.baseline.accuracy == pytest.approx(np.mean(y[t.held] == top))


def test_csv_regression_at_every_step_and_the_mean_predictor(tmp_path):
    t = task(DATA / "seqs_reg.csv", kind="regression", target="every", target_columns="target_0,target_1",
             feature_columns="a,b,c")
    assert (t.n_in, t.n_out, t.readout) == (3, 2, "every")
    assert t.data.x.shape[0] == 12
    b = t.sample(np.random.default_rng(0), 4)
    np.testing.assert_array_equal(b.mask.sum(axis=0), b.info["lengths"])
    rows = [r.split(",") for r in (DATA / "seqs_reg.csv").read_text().splitlines()[1:]]
    first = [r for r in rows if r[0] == "s0"]
    np.testing.assert_allclose(t.data.x[0, : len(first)], [[float(v) for v in r[2:5]] for r in first])
    np.testing.assert_allclose(t.data.y[0, : len(first)], [[float(v) for v in r[5:7]] for r in first])
    tr = t._batch(t.train)
    m = tr.mask > 0
    assert t.baseline.loss == pytest.approx(np.mean((tr.y[m] - tr.y[m].mean(axis=0)) ** 2))
    # the perfect predictor succeeds, the mean does not
    assert t.success(b.y.copy(), b).all()


def test_csv_labels_that_are_not_numbers_are_numbered_in_sorted_order(tmp_path):
    f = tmp_path / "words.csv"
    f.write_text("sequence,x1,target\n" + "\n".join(
        f"{n},{v},{lab}" for n, (v, lab) in enumerate([(0.1, "dog"), (0.2, "cat"), (0.3, "dog"), (0.4, "emu")])),
        encoding="utf-8")
    t = task(f, holdout=0.0)
    assert t.data.labels == ("cat", "dog", "emu") and t.n_out == 3
    np.testing.assert_array_equal(t.data.y, [1, 0, 1, 2])


def test_npy_is_inputs_only_and_nothing_is_scored(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((10, 6, 2)))
    t = task(tmp_path / "x.npy")
    assert not t.has_targets and t.no_loss and "inputs only" in t.no_loss
    b = t.sample(np.random.default_rng(0), 3)
    assert b.mask.sum() == 0 and b.x.shape == (6, 3, 2)
    exp = Experiment().replace(task__name="file", task__path=str(tmp_path / "x.npy"), model__hidden_size=4)
    assert "nothing to train" in rules.applies(exp)["training.learning_rate"]
    from rnnlab.train.trainer import Trainer

    tr = Trainer(exp)
    assert tr.untrainable and not tr.step()
    d = tr.diagnostics()
    assert math.isnan(d.loss) and "inputs only" in d.loss_note and np.isfinite(d.jacobian_log10[-1, 0])


def test_rnnlabs_own_cells_learn_from_a_file(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 8, 2))
    y = (x[:, 0, 0] > 0).astype(np.int64)  # the class is the sign of the first input: a 7-step memory
    np.savez(tmp_path / "first_sign.npz", x=x, y=y)
    exp = Experiment().replace(task__name="file", task__path=str(tmp_path / "first_sign.npz"), model__arch="gru",
                               model__hidden_size=16, training__optimizer="adam", training__learning_rate=0.03,
                               task__batch_size=32, seed=1)
    res = run(exp, 400)  # measured: 0.975-0.988 held out on seeds 1-4, in about half a second
    base = res.trainer.task.baseline
    assert 0.4 < base.success_rate < 0.6
    assert res.final_metric > 0.9, res.final_metric  # 80 held-out sequences, far above the majority class
    assert res.final_loss < 0.1 * base.loss


@pytest.mark.parametrize("make,words", [
    (lambda d: np.savez(d / "f.npz", inputs=np.zeros((3, 4, 2))), ("no array 'x'", "inputs")),
    (lambda d: np.savez(d / "f.npz", x=np.zeros((3, 4, 2)), y=np.zeros((3, 4))), ("y has shape (3, 4)", "(3,)")),
    (lambda d: np.savez(d / "f.npz", x=np.zeros((3, 4, 2)), y=np.array([0.5, 1, 2])), ("non-integer",)),
    (lambda d: np.savez(d / "f.npz", x=np.full((3, 4, 2), np.nan)), ("x[0, 0, 0] is nan", "finite")),
    (lambda d: np.savez(d / "f.npz", x=np.zeros((3, 4, 2)), lengths=np.array([1, 5, 2])), ("lengths",)),
    (lambda d: (d / "f.npz").write_bytes(b"not a zip"), ("not a readable .npz",)),
    (lambda d: (d / "f.csv").write_text("sequence,a,target\n1,x,0\n", encoding="utf-8"),
     ("row 2, column 'a'", "'x' is not a number")),
    (lambda d: (d / "f.csv").write_text("id,a,target\n1,0,0\n", encoding="utf-8"), ("no column 'sequence'",)),
    (lambda d: (d / "f.csv").write_text("sequence,a,label\n1,0,0\n", encoding="utf-8"), ("no target column",)),
    (lambda d: (d / "f.csv").write_bytes(b"sequence,a,target\n1,\xff\xfe,0\n"), ("not UTF-8",)),
    (lambda d: (d / "f.csv").write_text("sequence,a,target\n1,0\n", encoding="utf-8"), ("row 2 has 2 fields",)),
    (lambda d: (d / "f.txt").write_text("1 2 3", encoding="utf-8"), ("unknown data format", ".txt")),
])
def test_bad_data_files_give_one_line(tmp_path, make, words):
    make(tmp_path)
    path = next(tmp_path.iterdir())
    with pytest.raises(ConfigError) as exc:
        task(path)
    text = str(exc.value)
    assert "\n" not in text and len(text) <= 300 and path.name in text
    for w in words:
        assert w in text, text


def test_an_empty_path_is_refused_and_the_settings_apply_only_to_the_file_task():
    with pytest.raises(ConfigError, match="task.path is empty"):
        task("")
    why = rules.applies(Experiment())
    assert "file" in why["task.path"] and "file" in why["task.holdout"]
    why = rules.applies(Experiment().replace(task__name="file", task__path=str(DATA / "seqs_cls.npz")))
    assert why["task.path"] is None and "data file decides" in why["task.length"]
