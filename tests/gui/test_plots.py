"""The plot widgets: empty states, real snapshots reaching the items, resets, events, exports, fixed levels."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from PySide6 import QtCore

from rnnlab.gui.maths import math_text
from rnnlab.gui.plots import VIEWS
from rnnlab.gui.plots.base import SnapshotPlot
from rnnlab.gui.plots.grad_norms import GradNormsPlot
from rnnlab.gui.plots.gradient_flow import GradientFlowPlot
from rnnlab.gui.plots.heatmap import DEFAULT_LEVELS, HeatmapPlot
from rnnlab.gui.plots.hidden_states import HiddenStatesPlot, nice_ceiling
from rnnlab.gui.plots.lag_profile import LagProfilePlot
from rnnlab.gui.plots import VIEWS
from rnnlab.gui.plots.loss import LossPlot
from rnnlab.gui.plots.lyapunov import LyapunovPlot
from rnnlab.gui.plots.saturation import SaturationPlot
from rnnlab.gui.plots.spectrum import SpectrumPlot
from rnnlab.train.snapshot import HISTORY_COLUMNS, Event

ALL = list(VIEWS.values())  # every registered view
TIME_SERIES = [GradNormsPlot, LossPlot, SpectrumPlot, LyapunovPlot]


def make(qtbot, cls, show: bool = False):
    w = cls()
    qtbot.addWidget(w)
    w.resize(800, 500)
    if show:
        w.show()
        qtbot.waitExposed(w)
    return w


def feed(w, snaps):
    for s in snaps:
        w.update(s)


def history(snaps, col):
    return np.concatenate([s.history[col] for s in snaps])


def rows(steps, **cols):
    """A history dict for the given steps (NaN for the columns not given)."""
    steps = np.asarray(steps, dtype=np.float64)
    out = {c: np.full(len(steps), np.nan) for c in HISTORY_COLUMNS}
    out["step"] = steps
    for k, v in cols.items():
        out[k] = np.broadcast_to(np.asarray(v, dtype=np.float64), steps.shape).copy()
    return out


def cheap(snap, **kw):
    """The snapshot without its expensive part (as between two diagnostics)."""
    return dataclasses.replace(snap, **{"diagnostics": None, **kw})


def with_diag(snap, **fields):
    """The snapshot with some fields of its Diagnostics bundle replaced."""
    return dataclasses.replace(snap, diagnostics=dataclasses.replace(snap.diagnostics, **fields))


def _rect_in_view(view, vb) -> QtCore.QRect:
    lw = view.layout_widget
    poly = lw.mapFromScene(vb.sceneBoundingRect()).boundingRect()
    return QtCore.QRect(lw.mapTo(view, poly.topLeft()), poly.size())


def test_the_empty_views_text_lies_over_its_first_plot_not_across_the_next_ones_title(qtbot):
    """Centred on a view of two stacked plots, "Press Play" had lain across the lower plot's title; now it is
    centred over the first plot's data area, and where it would not fit there, over the whole view."""
    w = make(qtbot, LossPlot, show=True)
    qtbot.waitUntil(lambda: w._empty.geometry() != w.rect())
    text = w._empty.geometry()
    top, bottom = _rect_in_view(w, w.loss_plot.vb), _rect_in_view(w, w.metric_plot.vb)
    assert top.contains(text) and not text.intersects(bottom)
    assert not text.intersects(_rect_in_view(w, w.metric_plot.titleLabel))
    assert abs(text.center().y() - top.center().y()) <= 1 and abs(text.center().x() - top.center().x()) <= 1
    w.resize(800, 700)  # follows the plot when the layout settles again
    qtbot.waitUntil(lambda: _rect_in_view(w, w.loss_plot.vb).contains(w._empty.geometry())
                    and abs(w._empty.geometry().center().y() - _rect_in_view(w, w.loss_plot.vb).center().y()) <= 1
                    and w._empty.geometry() != text)
    small = make(qtbot, GradNormsPlot, show=True)
    small.resize(150, 120)  # the plot's area is too small for the text: centred on the whole view
    qtbot.waitUntil(lambda: small.rect().contains(small._empty.geometry())
                    and not _rect_in_view(small, small.plot.vb).contains(small._empty.geometry())
                    and abs(small._empty.geometry().center().y() - small.rect().center().y()) <= 1)


# --- every widget ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_widget_life_cycle(qtbot, tmp_path, snapshots, cls):
    snaps, _ = snapshots
    w = make(qtbot, cls, show=True)
    assert isinstance(w, SnapshotPlot) and w.title and w.title != "plot"
    # empty state before the first snapshot
    assert not w.has_data and w._empty.isVisible()
    header, data = w.data_table()
    assert len(data) == 0
    feed(w, snaps)
    assert w.has_data and not w._empty.isVisible()
    header, data = w.data_table()
    assert len(header) == data.shape[1] and len(data) > 0
    # exports
    png, svg, csv = w.export_image(tmp_path / "p.png"), w.export_image(tmp_path / "p.svg"), w.export_csv(
        tmp_path / "p.csv")
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg.stat().st_size > 1000 and b"<svg" in svg.read_bytes()
    assert csv.read_text(encoding="utf-8").splitlines()[0].split(",") == header
    # a new run
    w.clear_data()
    assert not w.has_data and w._empty.isVisible() and len(w.data_table()[1]) == 0
    feed(w, snaps)
    assert w.has_data


@pytest.mark.parametrize("cls", [HeatmapPlot, GradientFlowPlot, LagProfilePlot, HiddenStatesPlot, SaturationPlot,
                                 SpectrumPlot, LyapunovPlot], ids=lambda c: c.__name__)
def test_expensive_none_keeps_the_drawing(qtbot, snapshots, cls):
    snaps, _ = snapshots
    w = make(qtbot, cls)
    w.update(cheap(snaps[1], history=rows([])))  # no diagnostics yet: still empty, with a waiting text
    assert not w.has_data and "diagnostics" in w._empty.text()
    feed(w, snaps)
    before = w.data_table()[1].copy()
    w.update(cheap(snaps[-1], history=rows([])))
    np.testing.assert_array_equal(w.data_table()[1], before)
    assert w.has_data


# --- heatmap and gradient flow ----------------------------------------------------------------------------------------
def test_heatmap_image_levels_and_readout(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, HeatmapPlot, show=True)
    feed(w, snaps)
    heat = snaps[-1].diagnostics.jacobian_log10
    np.testing.assert_array_equal(w.image.image, heat)  # NaN above the diagonal preserved
    assert np.isnan(w.image.image[0, 1])
    assert w.levels() == DEFAULT_LEVELS and tuple(w.image.levels) == DEFAULT_LEVELS
    # a new snapshot with a very different range does not move the colour scale
    w.update(dataclasses.replace(with_diag(snaps[-1], jacobian_log10=heat * 40 - 100), history=rows([])))
    assert w.levels() == DEFAULT_LEVELS and tuple(w.image.levels) == DEFAULT_LEVELS
    assert "beyond the colour bar" in w.readout.text()
    # set by hand, fitted once
    w.set_levels(-3, 2)
    assert w.levels() == (-3.0, 2.0) and tuple(w.image.levels) == (-3.0, 2.0)
    with pytest.raises(ValueError):
        w.set_levels(1, 1)
    lo, hi = w.auto_levels()
    fin = w.image.image[np.isfinite(w.image.image)]
    assert lo == -hi and hi >= np.max(np.abs(fin)) and hi - np.max(np.abs(fin)) < 1
    # data table: the lower triangle, long form
    header, data = w.data_table()
    T = heat.shape[0]
    assert header[:2] == ["t", "k"] and len(data) == T * (T + 1) // 2
    assert np.all(data[:, 1] <= data[:, 0])
    # hover read-out
    t, k = 7, 3
    pos = w.plot.vb.mapViewToScene(QtCore.QPointF(k, t))
    w._on_mouse_moved(pos)
    text = w.readout.text()
    assert f"t = {t}, k = {k}" in text and "log10 ‖∂h_t/∂h_k‖ = " in text
    assert f"{w.image.image[t, k]:+.2f}" in text
    assert "undefined" in w.readout_text(2, 5)


def test_an_estimated_heatmap_states_its_error(qtbot, snapshots):
    from rnnlab.core.diagnostics import estimate_error_log10

    snaps, _ = snapshots
    w = make(qtbot, HeatmapPlot)
    w.update(snaps[-1])
    assert "estimated" not in w.readout.text() and "Frobenius norm" in w.readout.text()
    w.update(with_diag(snaps[-1], heatmap_mode="estimated", heatmap_probes=16, heatmap_stride=3,
                       heatmap_note="estimated with 16 random probes; one row t in 3 computed"))
    spread, bias = estimate_error_log10(16)
    text = w.readout.text()
    assert f"estimated with 16 probes (±{spread:.2g} decades per entry, bias ≥ {bias:.2g})" in text
    assert "±0.079" in text and "-0.014" in text and "one row t in 3" in text and "would not stream" in text


def test_heatmap_minus_inf_is_the_lowest_colour(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, HeatmapPlot)
    heat = snaps[-1].diagnostics.jacobian_log10.copy()
    heat[5, 0] = -np.inf
    w.update(with_diag(snaps[-1], jacobian_log10=heat))
    assert w.image.image[5, 0] == -np.inf
    w.image.render()
    q = w.image.qimage
    lut = w.bar.colorMap().getLookupTable(nPts=256, alpha=True)
    c = q.pixelColor(0, 5)
    assert (c.red(), c.green(), c.blue(), c.alpha()) == tuple(int(v) for v in lut[0])
    assert q.pixelColor(1, 0).alpha() == 0  # NaN above the diagonal: transparent
    assert "−∞" in w.readout_text(5, 0)


def test_gradient_flow_rows(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, GradientFlowPlot)
    feed(w, snaps)
    gf = snaps[-1].diagnostics.gradient_flow_log10
    np.testing.assert_array_equal(w.image.image, gf)
    defined = np.flatnonzero(np.any(np.isfinite(gf), axis=1))
    assert w.row_t == defined[-1]
    row = gf[w.row_t, : w.row_t + 1]
    np.testing.assert_allclose(w.row_curve.yData, row[np.isfinite(row)])
    if defined.size == 1:  # a task scored at the last step: the single row is explained
        assert f"Only t = {w.row_t} carries a loss" in w.readout.text()


# --- lag profile ----------------------------------------------------------------------------------------------------
def test_lag_profile_curves(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, LagProfilePlot)
    feed(w, snaps)
    prof, bound = snaps[-1].diagnostics.lag_profile, snaps[-1].diagnostics.lag_bound
    np.testing.assert_allclose(w.measured.yData, prof[np.isfinite(prof)])
    np.testing.assert_allclose(w.bound.yData, bound[np.isfinite(bound)])
    header, data = w.data_table()
    np.testing.assert_array_equal(data[:, 1], prof)
    np.testing.assert_array_equal(data[:, 2], bound)
    # the caption states the vanilla cell's own bound, with its value
    d = snaps[-1].diagnostics
    text = math_text(w.caption)
    assert "b = γ σ_max(W_hh)" in text and f"{d.step_bound:.3g}" in text
    # its formulas are typeset pictures, not Unicode text
    assert w.caption.text().count("<img") == 3 and "σ" not in w.caption.text()


def _diagnosed_snapshot(changes):
    from rnnlab.config import Experiment
    from rnnlab.train.trainer import Trainer

    exp = Experiment().with_changes({"task.length": 15, "model.hidden_size": 6, **changes})
    return Trainer(exp).snapshot(expensive=True)


def test_lag_profile_states_each_cells_bound_or_none(qtbot):
    w = make(qtbot, LagProfilePlot)
    leaky = _diagnosed_snapshot({"model.arch": "leaky", "model.spectral_radius": 0.3, "model.leak_min": 0.95,
                                 "model.leak_max": 0.99})
    w.update(leaky)
    text = math_text(w.caption)
    assert "max α + max(1 − α) γ σ_max(W_hh)" in text and "vanishing is forced" not in text
    assert leaky.diagnostics.step_bound >= 1 and "≥ 1: not forced either way" in text  # the core's reading, quoted
    assert leaky.diagnostics.regime.startswith("not forced either way")
    assert w.legend.getLabel(w.bound).text == "stated bound" and len(w.bound.yData) == 15
    small = _diagnosed_snapshot({"model.spectral_radius": 0.3, "model.init": "orthogonal"})
    w.update(small)
    assert small.diagnostics.step_bound < 1 and "< 1: vanishing is forced" in math_text(w.caption)
    for arch, label in (("lstm", "LSTM"), ("gru", "GRU")):
        w.update(_diagnosed_snapshot({"model.arch": arch}))
        assert w.bound.yData is None or len(w.bound.yData) == 0  # no line
        assert f"no bound on ‖∂s_t/∂s_(t−1)‖ is stated for the {label}" in math_text(w.caption)
        assert w.legend.getLabel(w.bound).text == "no bound stated"


# --- gradient norms ---------------------------------------------------------------------------------------------------
def test_grad_norms_curves_threshold_and_clipping(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, GradNormsPlot)
    feed(w, snaps)
    steps = history(snaps, "step")
    np.testing.assert_array_equal(w.total.xData, steps)
    np.testing.assert_allclose(w.total.yData, np.log10(history(snaps, "grad_norm")))
    for name, c in w.parts.items():
        np.testing.assert_allclose(c.yData, np.log10(history(snaps, name)))
    # the fixture clips by norm at 0.05
    assert w.threshold.isVisible() and w.threshold.value() == pytest.approx(math.log10(0.05))
    assert "0.05" in w.threshold.label.format
    fired = history(snaps, "clipped") == 1
    assert fired.any() and len(w.clip_marks.data) == fired.sum()
    np.testing.assert_array_equal(w.clip_marks.data["x"], steps[fired])
    header, data = w.data_table()
    assert header[0] == "step" and "grad_norm" in header
    np.testing.assert_array_equal(data[:, header.index("grad_norm")], history(snaps, "grad_norm"))
    # clipping switched off: the line goes
    cfg = snaps[-1].config.replace(remedies__clip="none")
    w.update(dataclasses.replace(cheap(snaps[-1]), config=cfg, history=rows([])))
    assert not w.threshold.isVisible()


def test_grad_norms_explosion_reset_and_events(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, GradNormsPlot)
    feed(w, snaps)
    last = int(snaps[-1].step)
    boom = rows([last + 1], grad_norm=np.inf, loss=np.nan)
    w.update(cheap(snaps[-1], history=boom, events=(Event(last + 1, "exploded: the loss became nan"),)))
    assert len(w.boom.data) == 1 and w.boom.data["x"][0] == last + 1
    assert f"step {last + 1}" in w.boom_text.toPlainText()
    assert w.events.texts()[-1] == (last + 1, "exploded: the loss became nan")
    # a rewind: the rows after the checkpoint and their markers go
    w.update(cheap(snaps[-1], history=rows([11, 12], grad_norm=1.0), events=(Event(10, "rewound to step 10"),)))
    assert w.buf.n == 12 and len(w.boom.data) == 0 and w.boom_text.toPlainText() == ""
    assert [s for s, _ in w.events.texts()] == [10]
    # an event marks the step; two at the same step share one marker
    w.update(cheap(snaps[-1], history=rows([13], grad_norm=1.0),
                   events=(Event(13, "training.learning_rate: 0.01 → 0.1"), Event(13, "remedies.clip: none → norm"))))
    assert w.events.texts()[-1] == (13, "training.learning_rate: 0.01 → 0.1; remedies.clip: none → norm")
    assert len(w.events.items) == 2
    # a reset: the series restarts at step 1 and the markers go
    w.update(cheap(snaps[-1], history=rows([1, 2, 3], grad_norm=0.5), events=(Event(0, "reset: new weights"),)))
    np.testing.assert_array_equal(w.total.xData, [1, 2, 3])
    assert w.events.texts() == [] and len(w.data_table()[1]) == 3


def test_merged_snapshot_draws_the_same(qtbot, snapshots):
    from rnnlab.train.snapshot import Snapshot

    snaps, _ = snapshots
    a, b = make(qtbot, GradNormsPlot), make(qtbot, GradNormsPlot)
    feed(a, snaps)
    b.update(Snapshot.merge(snaps))
    np.testing.assert_array_equal(a.data_table()[1], b.data_table()[1])


# --- loss -----------------------------------------------------------------------------------------------------------
def test_loss_metric_and_baselines(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, LossPlot)
    feed(w, snaps)
    np.testing.assert_allclose(w.loss_curve.yData, np.log10(history(snaps, "loss")))
    m = history(snaps, "metric")
    ok = np.isfinite(m)
    assert 0 < ok.sum() < len(m)  # measured every eval_every steps only
    np.testing.assert_array_equal(w.metric_curve.xData, history(snaps, "step")[ok])
    np.testing.assert_allclose(w.metric_curve.yData, 100 * m[ok])
    base = snaps[-1].baseline
    assert w.loss_base.isVisible() and w.loss_base.value() == pytest.approx(math.log10(base.loss))
    assert w.metric_base.value() == pytest.approx(100 * base.success_rate)
    assert "baseline (learned nothing)" in w.loss_base.label.format
    # events on both plots
    w.update(cheap(snaps[-1], history=rows([31], loss=1.0), events=(Event(31, "training.learning_rate: 0.01 → 0.1"),)))
    (step, lines), = w.events.items
    assert step == 31 and {p for p, _ in lines} == {w.loss_plot, w.metric_plot}


# --- spectrum -------------------------------------------------------------------------------------------------------
def test_spectrum_eigenvalues_circles_and_series(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, SpectrumPlot)
    feed(w, snaps)
    d = snaps[-1].diagnostics
    ev = d.recurrence_eigenvalues  # vanilla: the eigenvalues of W_hh itself
    np.testing.assert_allclose(np.sort_complex(ev), np.sort_complex(d.eigenvalues), atol=1e-12)
    np.testing.assert_allclose(w.eigs.data["x"], ev.real)
    np.testing.assert_allclose(w.eigs.data["y"], ev.imag)
    cloud = d.jacobian_eigenvalues.ravel()
    assert cloud.size == len(d.jacobian_steps) * 12 > 0
    np.testing.assert_allclose(w.cloud.data["x"], cloud.real)
    np.testing.assert_allclose(w.cloud.data["y"], cloud.imag)
    assert "dots: eig of W_hh" in w.plane_note.text() and "cloud: eig of ∂<i>s</i><sub><i>t</i></sub>/" in w.plane_note.text()
    assert "_{" not in w.plane_note.text()  # a formula, set with real subscripts
    assert not w.inv_gamma.isVisible()  # tanh: 1/γ = 1, the unit circle
    np.testing.assert_allclose(w.rho_curve.yData, np.log10(history(snaps, "spectral_radius")))
    np.testing.assert_allclose(w.sigma_curve.yData, np.log10(history(snaps, "sigma_max")))
    assert w.one_line.value() == 0.0
    # sigmoid: γ = 1/4, the 1/γ circle has radius 4
    w.update(dataclasses.replace(snaps[-1], gamma=0.25, history=rows([])))
    x, y = w.inv_gamma.getData()
    assert w.inv_gamma.isVisible() and np.allclose(np.hypot(x, y), 4.0)
    assert w.gamma_line.value() == pytest.approx(math.log10(4.0)) and "1/γ = 4" in w.legend.getLabel(w.inv_gamma).text
    header, data = w.data_table()
    assert header == ["step", "spectral_radius", "sigma_max", "eig_re", "eig_im", "jac_step", "jac_re", "jac_im"]
    np.testing.assert_array_equal(data[: len(ev), 3], ev.real)
    np.testing.assert_array_equal(data[: cloud.size, 6], cloud.real)
    np.testing.assert_array_equal(data[: cloud.size, 5], np.repeat(d.jacobian_steps, 12))


def test_spectrum_draws_the_effective_recurrence_of_each_cell(qtbot):
    w = make(qtbot, SpectrumPlot)
    leaky = _diagnosed_snapshot({"model.arch": "leaky", "model.leak_min": 0.9, "model.leak_max": 0.99})
    w.update(leaky)
    d = leaky.diagnostics
    assert d.recurrence_matrix == "diag(α) + diag(1−α)·W_hh"
    # the dots are the leaky recurrence's eigenvalues, not W_hh's
    np.testing.assert_allclose(np.sort(w.eigs.data["x"]), np.sort(d.recurrence_eigenvalues.real))
    assert np.max(np.hypot(w.eigs.data["x"], w.eigs.data["y"])) != pytest.approx(np.max(np.abs(d.eigenvalues)))
    assert "dots: eig of diag(α) + diag(1−α)·W_hh" in w.plane_note.text()
    lstm = _diagnosed_snapshot({"model.arch": "lstm"})
    w.update(lstm)
    assert len(w.eigs.data) == 0 and len(w.cloud.data) == lstm.diagnostics.jacobian_eigenvalues.size > 0
    assert "no dots: the LSTM has no state-independent recurrence" in w.plane_note.text()


# --- Lyapunov exponents ---------------------------------------------------------------------------------------------
def test_lyapunov_exponents_and_their_history(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, LyapunovPlot)
    feed(w, snaps)
    lam = snaps[-1].diagnostics.lyapunov
    np.testing.assert_allclose(w.curve.yData, lam)
    np.testing.assert_array_equal(w.curve.xData, np.arange(1, len(lam) + 1))
    assert w.zero.value() == 0.0 and w.zero_t.value() == 0.0
    with_diag_steps = [s.step for s in snaps if s.diagnostics is not None]
    np.testing.assert_array_equal(w.l1_curve.xData, with_diag_steps)
    np.testing.assert_allclose(w.l1_curve.yData, [s.diagnostics.lyapunov[0] for s in snaps if s.diagnostics])
    assert f"λ_1 = {lam[0]:.3g}" in w.caption.text()
    assert ("< 0: perturbations die out" in w.caption.text()) == (lam[0] < 0)
    header, data = w.data_table()
    assert header == ["i", "lambda_i", "step", "lambda_1"]
    np.testing.assert_array_equal(data[: len(lam), 1], lam)
    # a rewind drops the points after it; a reset drops them all
    last = with_diag_steps[-1]
    w.update(cheap(snaps[-1], history=rows([]), events=(Event(last - 1, f"rewound to step {last - 1}"),)))
    assert list(w.buf.column("step")) == [s for s in with_diag_steps if s <= last - 1]
    w.update(dataclasses.replace(snaps[0], events=(Event(0, "reset: new weights"),)))
    assert list(w.buf.column("step")) == [snaps[0].step]
    # a chaotic network: λ_1 > 0 is called so
    chaotic = _diagnosed_snapshot({"model.spectral_radius": 3.0, "model.input_scale": 0.01, "task.name": "random",
                                   "task.length": 200, "model.hidden_size": 40})
    w.update(chaotic)
    assert chaotic.diagnostics.lyapunov[0] > 0 and "> 0: a perturbation grows (chaotic)" in w.caption.text()


# --- hidden states and saturation -----------------------------------------------------------------------------------
def test_hidden_states_image_and_scale(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, HiddenStatesPlot)
    feed(w, snaps)
    h = snaps[-1].diagnostics.hidden
    np.testing.assert_array_equal(w.image.image, h.T)  # x = step t, y = unit
    assert w.levels() == (-1.0, 1.0)
    relu = snaps[-1].config.replace(model__activation="relu")
    w.update(dataclasses.replace(with_diag(snaps[-1], hidden=3.3 * np.abs(h) / np.abs(h).max()), config=relu))
    assert w.levels() == (-5.0, 5.0)
    w.update(dataclasses.replace(with_diag(snaps[-1], hidden=0.1 * h), config=relu))  # the scale only grows in a run
    assert w.levels() == (-5.0, 5.0)
    sig = snaps[-1].config.replace(model__activation="sigmoid")
    w.update(dataclasses.replace(snaps[-1], config=sig))
    assert w.levels() == (0.0, 1.0)
    assert [nice_ceiling(v) for v in (0.05, 0.3, 1.0, 1.5, 7.0, 11.0)] == [0.1, 0.5, 1.0, 2.0, 10.0, 20.0]


def test_saturation_bars(qtbot, snapshots):
    snaps, _ = snapshots
    w = make(qtbot, SaturationPlot)
    feed(w, snaps)
    counts, edges = snaps[-1].diagnostics.saturation_counts, snaps[-1].diagnostics.saturation_edges
    np.testing.assert_array_equal(w.bars.opts["x0"], edges[:-1])
    np.testing.assert_array_equal(w.bars.opts["x1"], edges[1:])
    np.testing.assert_allclose(w.bars.opts["height"], 100 * counts / counts.sum())
    assert w.plot.getAxis("bottom").labelText == "<i>f</i>′(<i>a</i>)"  # set as a formula
    header, data = w.data_table()
    np.testing.assert_array_equal(data[:, 2], counts)


@pytest.mark.parametrize("cls", TIME_SERIES, ids=lambda c: c.__name__)
def test_time_series_views_mark_events(qtbot, snapshots, cls):
    snaps, _ = snapshots
    w = make(qtbot, cls)
    feed(w, snaps)
    w.update(cheap(snaps[-1], history=rows([31], loss=1.0, grad_norm=1.0),
                   events=(Event(31, "remedies.l2: 0 → 0.01"),)))
    assert (31, "remedies.l2: 0 → 0.01") in w.events.texts()
