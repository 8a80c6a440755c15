"""Write ``docs/config.md`` from the configuration metadata (``python -m rnnlab.docs``); a test keeps it in sync."""

from __future__ import annotations

import sys
from pathlib import Path

from .config import SECTIONS, describe_keys
from .texmath import tex_to_plain

__all__ = ["config_markdown"]

_INTRO = """# Experiment settings

Every experiment is a TOML file with a top-level `seed` and five tables. Any key can be overridden on the command
line with `--set section.key=value` (repeatable), e.g. `rnnlab inspect --set model.spectral_radius=1.5 --out a.npz`.
A value outside its range is refused with a message naming the key, the value and what is allowed.
Keys marked **new weights** need a fresh network: the app asks before it resets the run.

This page is generated from the code (`python -m rnnlab.docs`); a test fails when it is out of date.
"""

_TASKS = """
## Tasks (`task.name`)

| name | what the network must do | output | scored | baseline ("learned nothing") |
|---|---|---|---|---|
| `random` | nothing learnable: N(0,1) inputs and targets (a neutral probe for diagnostics) | linear, 8 | every step | loss 1 |
| `temporal_order` | report the order of two symbols A/B placed at p0 ∈ [0.1T, 0.2T) and p1 ∈ [0.5T, 0.6T) among distractors (Pascanu et al.) | softmax, 4 | last step | loss ln 4, success 25 % |
| `temporal_order_3bit` | the same with three symbols (8 classes) | softmax, 8 | last step | loss ln 8, success 12.5 % |
| `addition` | average of the two marked values; length varies in [T, 1.1T) | linear, 1 | last step | MSE 1/24, success 64 % |
| `multiplication` | product of the two marked values | linear, 1 | last step | MSE 7/144, success 61 % |
| `permutation` | repeat the first symbol (0 or 1) at the end of a sequence of 100-symbol noise | softmax, 100 | last step | loss ln 2, success 50 % |
| `memorization` | reproduce a pattern of `mem_positions` symbols (of `mem_values`) after T blanks | softmax | every step | loss n·ln k/(T+2n) |
| `reber` | next-symbol prediction in the embedded Reber grammar (long-lag symbol at the end) | softmax, 7 | every step | success 50 % |
| `sine` | next-step prediction of a mixture of three sines (periods 10, 23, 57) | linear, 1 | every step | MSE 1/6 |
| `mackey_glass` | next-step prediction of the Mackey–Glass series (τ = 17, squashed by tanh(y − 1)) | linear, 1 | every step | MSE 0.0467 |
| `file` | your sequences from `task.path` (.npz, .npy or .csv; see docs/import.md) | `task.kind`: softmax or linear | `task.target`: last or every step | majority class or mean target |

Success is each task's own criterion, measured on a fresh held-out batch: the right class (temporal order,
permutation), squared error ≤ 0.04 (addition, multiplication), every step right (memorisation), every prediction
legal and the long-lag symbol right (Reber), RMSE below 0.1σ of the series when running free (sine, Mackey–Glass).
`sine` and `mackey_glass` are generative: the input at t is the value at t, so `remedies.teacher_forcing` applies.
"""


def config_markdown() -> str:
    rows = describe_keys()
    out = [_INTRO]
    by_section: dict[str, list] = {"": []}
    for r in rows:
        sec = r["key"].split(".")[0] if "." in r["key"] else ""
        by_section.setdefault(sec, []).append(r)
    titles = {"": "Top level"}
    titles.update({name: f"[{name}]" for name in SECTIONS})
    for sec in [""] + list(SECTIONS):
        cls = SECTIONS.get(sec)
        out.append(f"\n## {titles[sec]}\n")
        if cls is not None and cls.__doc__:
            out.append(cls.__doc__.strip() + "\n")
        out.append("| key | default | allowed | meaning |")
        out.append("|---|---|---|---|")
        for r in by_section[sec]:
            flag = " **New weights.**" if r["resets"] else ""
            default = repr(r["default"]).replace("'", '"') if isinstance(r["default"], str) else \
                str(r["default"]).lower() if isinstance(r["default"], bool) else repr(r["default"])
            doc = tex_to_plain(r["doc"]).replace("|", "\\|")  # the formulas, written in TeX, as plain Unicode
            out.append(f"| `{r['key']}` | `{default}` | {r['allowed']} | {doc}{flag} |")
    out.append(_TASKS)
    return "\n".join(out) + "\n"


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "docs" / "config.md"
    from .io import atomic_write

    with atomic_write(path) as fh:
        fh.write(config_markdown())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
