"""``rnnlab compare``: A and B trained headless, the paragraph the app's compare window shows, and its errors."""

from __future__ import annotations

import pytest

from rnnlab.cli import main
from rnnlab.config import Experiment, save_toml
from rnnlab.presets import get_preset
from rnnlab.studies.compare import compare


def test_compare_prints_the_windows_paragraph(capsys):
    rc = main(["compare", "--preset", "clipping", "--change", "remedies.clip=none", "--steps", "300"])
    assert rc == 0
    cap = capsys.readouterr()
    p = get_preset("clipping")
    want = compare(p.experiment, {"remedies.clip": "none"}, 300).text
    assert cap.out.strip().splitlines()[-1] == want
    assert "B differs from A only in remedies.clip: A = 'norm', B = 'none' (same seed, same data)." in want
    assert "B exploded at step" in want
    # the progress bar counts the steps of both runs (every 10 % when not on a terminal); B stops at its explosion
    assert "10% (60/600) A: loss" in cap.err and "(360/600) B: loss" in cap.err and "100%" not in cap.err


def test_compare_with_a_preset_flips_its_contrast_by_default(tmp_path, capsys):
    assert main(["compare", "--preset", "l2-penalty", "--steps", "20", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("B: the preset's contrast, remedies.l2 = 0")
    assert "B differs from A only in remedies.l2" in out
    # several changes apply at once, on top of --set, from a config file
    cfg = tmp_path / "exp.toml"
    save_toml(Experiment().replace(task__length=10, model__hidden_size=8), cfg)
    assert main(["compare", "--config", str(cfg), "--set", "training.learning_rate=0.05", "--change",
                 "model.leak_min=0.95", "--change", "model.leak_max=0.99", "--change", "model.arch=leaky",
                 "--steps", "5", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "model.arch: A = 'rnn', B = 'leaky'" in out and "model.leak_max: A = 0.9, B = 0.99" in out


@pytest.mark.parametrize("args,needle", [
    (["--change", "remedies.clip=norm"], "give --preset NAME or --config FILE"),
    (["--preset", "clipping", "--change", "remedies.clip=norm"], "B is identical to A"),
    (["--preset", "clipping", "--change", "remedies.clip=sometimes"], "remedies.clip = 'sometimes'"),
    (["--preset", "clipping", "--change", "remedies.clipp=none"], "unknown key 'remedies.clipp'"),
    (["--preset", "clipping", "--change", "remedies.clip"], "expected section.key=value"),
    (["--preset", "clipping", "--steps", "0"], "--steps 0: expected an integer in [1, 100000000]"),
])
def test_compare_errors_are_one_line(capsys, args, needle):
    assert main(["compare", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnlab: error: ") and err.count("\n") == 1 and needle in err, err


def test_compare_needs_a_change_without_a_preset(tmp_path, capsys):
    cfg = tmp_path / "exp.toml"
    save_toml(Experiment(), cfg)
    assert main(["compare", "--config", str(cfg)]) == 2
    assert "--change KEY=VALUE" in capsys.readouterr().err


def test_compare_help_says_what_it_prints(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # as one line, however argparse wraps it
    for needle in ("--change KEY=VALUE", "--steps N", "same seed", "last 10 % of the steps", "contrast"):
        assert needle in text
