"""The window in bounded memory and time: its time series are bounded tables with extremes kept, and a long
sequence's pictures arrive averaged over blocks and are drawn over the full range of steps."""

from __future__ import annotations

import numpy as np

from rnnlab.config import Experiment
from rnnlab.gui.plots import VIEWS
from rnnlab.gui.plots.base import SeriesBuffer
from rnnlab.train.snapshot import for_display
from rnnlab.train.trainer import Trainer


def test_series_buffers_are_bounded_and_keep_spikes():
    buf = SeriesBuffer(["step", "loss"])
    for start in range(1, 200_001, 500):  # 200,000 steps arriving 500 at a time, as frames bring them
        steps = np.arange(start, start + 500, dtype=float)
        loss = np.ones(500)
        if start == 1001:
            loss[7] = 1e9
        buf.append({"step": steps, "loss": loss})
    assert buf.n <= 23_002
    assert buf.column("loss").max() == 1e9 and buf.column("step")[-1] == 200_000
    buf.append({"step": np.array([150_000.0]), "loss": np.array([2.0])})  # a rewind: the later rows go
    assert buf.column("step")[-1] == 150_000 and buf.column("loss")[-1] == 2.0


def test_averaged_pictures_are_drawn_over_every_step(qtbot):
    tr = Trainer(Experiment().replace(task__name="random", task__length=1500, model__hidden_size=4))
    snap = for_display(tr.snapshot(expensive=True), limit=500)
    assert snap.picture_scale == 3
    for vid in ("heatmap", "gradient_flow", "hidden_states"):
        w = VIEWS[vid]()
        qtbot.addWidget(w)
        w.update(snap)
        rect = w.image.mapRectToParent(w.image.boundingRect())
        assert abs(rect.width() - 1500) <= 3, (vid, rect)  # the steps 0 … 1499, not 500 pixels
        if vid != "hidden_states":
            d = snap.diagnostics.jacobian_log10 if vid == "heatmap" else snap.diagnostics.gradient_flow_log10
            assert w.value_at(1499, 1200) == d[1499 // 3, 1200 // 3] or np.isnan(d[499, 400])
            assert "mean over 3 × 3 steps" in w.readout_text(1400, 10)
            header, rows = w.data_table()
            assert rows[:, 0].max() == 1497 and set(np.unique(rows[:, 0] % 3)) == {0}
