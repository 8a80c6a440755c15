"""Every preset demonstrates by contrast: the preset run and the run with its one setting flipped differ as the
preset's ``[check]`` says (SCIENCE.md-backed where it can be; each file's description says what to watch)."""

from __future__ import annotations

import pytest

from rnnlab.presets import all_presets, condition_holds, get_preset, measure_run, preset_names

REQUIRED = ["vanishing-sigmoid", "exploding-tanh", "clipping", "truncated-bptt", "l2-penalty",
            "pascanu-regularizer", "teacher-forcing", "echo-state", "leaky-units", "orthogonal-init", "lstm", "gru",
            "hessian-free"]


def test_all_required_presets_exist_and_load():
    names = preset_names()
    missing = [n for n in REQUIRED if n not in names]
    assert not missing, f"missing presets: {missing}"
    for p in all_presets():
        assert len(p.description) > 80, p.name
        assert p.contrast, p.name
        assert {"steps", "measure", "preset", "contrast"} <= set(p.check), p.name
        # the description names the setting to flip
        for key in p.contrast:
            assert key.split(".")[-1] in p.description, (p.name, key)


@pytest.mark.slow
@pytest.mark.parametrize("name", REQUIRED)
def test_preset_contrast(name):
    p = get_preset(name)
    steps, measure = int(p.check["steps"]), p.check["measure"]
    got = measure_run(p.experiment, steps, measure)
    assert condition_holds(got, p.check["preset"]), f"{name}: {measure} = {got}, expected {p.check['preset']}"
    got_c = measure_run(p.contrast_experiment(), steps, measure)
    assert condition_holds(got_c, p.check["contrast"]), \
        f"{name} with {p.contrast}: {measure} = {got_c}, expected {p.check['contrast']}"


def test_multi_key_contrast_is_validated_as_a_whole():
    from dataclasses import replace as dc_replace

    p = get_preset(preset_names()[0])
    p2 = dc_replace(p, contrast={"remedies.tbptt_k1": 5, "remedies.tbptt_k2": 8})
    e = p2.contrast_experiment()
    assert (e.remedies.tbptt_k1, e.remedies.tbptt_k2) == (5, 8)
