"""Built-in presets: small, fast demonstrations in ``resources/presets/*.toml``.

Each preset is an ordinary experiment file with a ``description`` a teacher can read aloud, and a
``[contrast]`` table naming the one setting to flip to bring the problem back, e.g.
``contrast = { "remedies.clip" = "none" }``; the tests run both and check the difference.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from .config import ConfigError, Experiment, loads_toml, parse_override
from .resources import resource_path

__all__ = ["Preset", "preset_names", "load_preset", "get_preset", "all_presets"]


@dataclass(frozen=True)
class Preset:
    name: str
    experiment: Experiment
    contrast: dict  # dotted key -> value that brings the problem back
    expect: str  # what the contrast test checks, in words

    @property
    def description(self) -> str:
        return self.experiment.description

    def contrast_experiment(self) -> Experiment:
        exp = self.experiment
        for k, v in self.contrast.items():
            exp = exp.replace(k, v)
        return exp


def preset_names() -> list[str]:
    return sorted(p.stem for p in resource_path("presets").glob("*.toml"))


def get_preset(name: str) -> Preset:
    names = preset_names()
    if name not in names:
        raise ConfigError(f"unknown preset {name!r}: expected one of {', '.join(names)}")
    path = resource_path("presets", f"{name}.toml")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    contrast = data.pop("contrast", {})
    expect = data.pop("expect", "")
    import tomli_w

    exp = loads_toml(tomli_w.dumps(data), str(path))
    for k, v in contrast.items():
        parse_override(f"{k}={v}")  # validates the key
    return Preset(name, exp, dict(contrast), expect)


def load_preset(name: str) -> Experiment:
    """The experiment of the preset called ``name`` (a ConfigError lists the valid names)."""
    return get_preset(name).experiment


def all_presets() -> list[Preset]:
    return [get_preset(n) for n in preset_names()]
