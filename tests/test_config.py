"""Configuration: validation messages, exact TOML round trip, --set overrides, docs in sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.config import (
    ConfigError,
    Experiment,
    apply_overrides,
    dumps_toml,
    load_toml,
    loads_toml,
    save_toml,
)


def test_defaults_are_valid_and_frozen():
    e = Experiment()
    with pytest.raises(Exception):
        e.seed = 3  # type: ignore[misc]
    with pytest.raises(Exception):
        e.model.hidden_size = 3  # type: ignore[misc]


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), rho=st.floats(1e-6, 100.0), lr=st.floats(1e-9, 100.0, exclude_min=True),
       H=st.integers(1, 2048), arch=st.sampled_from(["rnn", "leaky", "lstm", "gru", "esn"]))
def test_toml_round_trip_is_exact(tmp_path_factory, seed, rho, lr, H, arch):
    e = Experiment(seed=seed).replace(model__spectral_radius=rho, training__learning_rate=lr, model__hidden_size=H,
                                      model__arch=arch)
    assert loads_toml(dumps_toml(e)) == e
    p = tmp_path_factory.mktemp("t") / "e.toml"
    save_toml(e, p)
    assert load_toml(p) == e
    assert dumps_toml(load_toml(p)) == dumps_toml(e)


def test_messages_name_key_value_and_allowed():
    with pytest.raises(ConfigError, match=r"model\.hidden_size = 0: expected an integer in \[1, 2048\]"):
        Experiment().replace("model.hidden_size", 0)
    with pytest.raises(ConfigError, match=r"training\.learning_rate = nan"):
        Experiment().replace("training.learning_rate", float("nan"))
    with pytest.raises(ConfigError, match=r"remedies\.tbptt_k2 = 2 is smaller than remedies\.tbptt_k1 = 5"):
        Experiment().replace(remedies__tbptt_k1=5, remedies__tbptt_k2=2)
    with pytest.raises(ConfigError, match="unknown key 'model.foo'"):
        Experiment().replace("model.foo", 1)
    with pytest.raises(ConfigError, match=r"leak_min"):
        Experiment().replace(model__leak_min=0.9, model__leak_max=0.2)


def test_overrides_are_typed():
    e = apply_overrides(Experiment(), ["seed=7", "model.spectral_radius=2", "remedies.hessian_free=true",
                                       "model.arch=lstm"])
    assert e.seed == 7 and e.model.spectral_radius == 2.0 and isinstance(e.model.spectral_radius, float)
    assert e.remedies.hessian_free is True and e.model.arch == "lstm"
    with pytest.raises(ConfigError, match="expected section.key=value"):
        apply_overrides(Experiment(), ["model.arch"])
    with pytest.raises(ConfigError, match="true or false"):
        apply_overrides(Experiment(), ["remedies.hessian_free=maybe"])


def test_unknown_sections_and_bad_types_in_files(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text("[modle]\narch = 'rnn'\n")
    with pytest.raises(ConfigError, match=r"x\.toml: unknown key 'modle'"):
        load_toml(p)
    p.write_text("model = 3\n")
    with pytest.raises(ConfigError, match=r"\[model\] must be a table"):
        load_toml(p)
    p.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_toml(p)
    with pytest.raises(ConfigError, match="cannot read"):
        load_toml(tmp_path / "missing.toml")


def test_diff_lists_changed_keys():
    a = Experiment()
    b = a.replace("remedies.clip", "norm")
    assert b.diff(a) == {"remedies.clip": ("norm", "none")}


def test_docs_config_md_is_up_to_date():
    from rnnlab.docs import config_markdown

    path = Path(__file__).resolve().parent.parent / "docs" / "config.md"
    assert path.read_text(encoding="utf-8") == config_markdown(), "run: python -m rnnlab.docs"
    # the settings' formulas are written in TeX in the code (typeset in the app); the page shows plain Unicode
    assert "$" not in config_markdown() and "\\rho" not in config_markdown()


def test_every_key_is_documented_in_docs():
    from rnnlab.config import describe_keys

    text = (Path(__file__).resolve().parent.parent / "docs" / "config.md").read_text(encoding="utf-8")
    for row in describe_keys():
        assert f"`{row['key']}`" in text
