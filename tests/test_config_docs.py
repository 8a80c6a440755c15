"""The settings' help (the ``doc=`` of every key in rnnlab/config.py) is prose with TeX equations between ``$…$``
(docs/lessons.md): the app typesets them in the settings' tooltips, and the docs, status tips and the CLI show the
plain form. Every doc parses, every equation typesets without the rich-text fallback, no maths symbol is left in the
prose, and the plain form reads as before (the numbers it quotes are still there)."""

from __future__ import annotations

import pytest

from rnnlab.config import describe_keys
from rnnlab.lessons.typeset import available
from tests.texcheck import numbers, plain, prose_symbols, quotes, typeset_all

DOCS = {row["key"]: row["doc"] for row in describe_keys()}


@pytest.mark.parametrize("key", sorted(DOCS))
def test_every_doc_parses_with_its_maths_in_equations(key):
    text = plain(DOCS[key])  # raises TexError: an unknown command, an unclosed $, a command outside $…$
    assert len(text) > 5 and "\n" not in text, key  # one paragraph: a tooltip, a table cell
    assert not prose_symbols(DOCS[key]), (key, prose_symbols(DOCS[key]))


@pytest.mark.skipif(not available(), reason="ziamath is not installed")
def test_every_equation_of_the_docs_typesets():
    count = sum(typeset_all(doc) for doc in DOCS.values())
    assert count >= 60  # about 25 keys hold formulas or symbols


# the plain form keeps the formulas' numbers (as the docs had them before they were TeX)
PLAIN_NUMBERS = {
    "model.activation": "Bound γ on |f'|: tanh 1, sigmoid 1/4, relu 1, linear 1.",
    "model.lru_max_phase": "[0, max_phase] (2π: the whole ring; π/10 ≈ 0.314 in the paper's long-range settings)",
    "model.lru_normalize": "γ_j = √(1 − |λ_j|²) ... E|x|² ... |λ| → 1); false starts γ_j = 1",
    "model.esn_bias": "[−s, s] per unit and never trained (Jaeger 2001 feeds a constant bias input; 0 = none)",
    "remedies.l2": "(l2/2)·‖W_hh‖²",
    "remedies.esn_ridge": "W = (ZᵀZ + βI)⁻¹ZᵀY",
    "diagnostics.mode": "(cost T²H³/2) or `estimated` with random probes (cost T²H²·probes/2",
}


@pytest.mark.parametrize("key", sorted(PLAIN_NUMBERS))
def test_the_plain_form_keeps_the_numbers(key):
    assert quotes(PLAIN_NUMBERS[key], plain(DOCS[key])), (key, plain(DOCS[key]))


def test_the_number_check_fails_on_a_wrong_number():
    text = plain(DOCS["model.lru_max_phase"])
    assert quotes("π/10 ≈ 0.314", text) and not quotes("π/10 ≈ 0.315", text) and not quotes("π/9 ≈ 0.314", text)
    assert numbers("1.8·10⁻⁴") == numbers("1.8 · 10^(−4)") == ["1.8", "10", "−4"]
