"""Both paths of the numeric core: the tests of the modules that use the ``core_path`` fixture run once with pure
NumPy and once through the compiled kernels (rnnlab/core/_kernels.c, mode "on": every dtype, so the float64
finite-difference checks go through the C code too). The compiled run is kept only where it changes something:
the cells that have a compiled loop (the LSTM and both GRU variants with tanh; with every activation the vanilla and
orthogonal cells, the cells with leaky units, the IndRNN and the LRU), or tests not parametrised by cell. Without
built kernels the compiled runs are skipped, saying why, unless ``RNNLAB_REQUIRE_KERNELS`` is set (CI sets it: there
they must be built)."""

from __future__ import annotations

import os

import pytest

from rnnlab.core import _compiled

COMPILED_CELLS = ("lstm", "gru", "rnn", "exprnn", "leaky", "esn", "antisymmetric", "indrnn", "lru")
TANH_ONLY = ("lstm", "gru")  # (compiled with φ = tanh only)


def kernels_or_skip() -> None:
    if _compiled.kernels() is None:
        if os.environ.get("RNNLAB_REQUIRE_KERNELS"):
            pytest.fail(f"the compiled kernels are required here: {_compiled.why_not()}")
        pytest.skip(f"the compiled path cannot run here: {_compiled.why_not()}")


@pytest.fixture(params=["numpy", "compiled"])
def core_path(request):
    if request.param == "compiled":
        kernels_or_skip()
    with _compiled.using("on" if request.param == "compiled" else "off"):
        yield request.param


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        arch = params.get("arch", "lstm").split(":")[0]
        if params.get("core_path") == "compiled" and (
                arch not in COMPILED_CELLS or (arch in TANH_ONLY and params.get("act", "tanh") != "tanh")):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
