"""The training process supervised both ways: a killed training process is reported within a second and Restart
goes on from the last checkpoint; a killed window takes its training process (and the multiprocessing resource
tracker) with it within seconds; a window that does not read does not make the training process grow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from rnnlab.gui.main_window import MainWindow
from tests.gui.windows import small

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kills processes by pid (Linux CI)")


def _step(ctrl) -> int:
    return ctrl.last_snapshot.step if ctrl.last_snapshot is not None else -1


def test_a_killed_training_process_is_reported_within_a_second_and_restart_goes_on(qtbot, monkeypatch):
    from rnnlab.train import process_session as session_module

    monkeypatch.setattr(session_module, "CHECKPOINT_SECONDS", 0.2)  # a checkpoint soon (default: every 5 s)
    win = MainWindow(small(), mode="process", remember=False)
    qtbot.addWidget(win)
    ctrl = win.controller
    qtbot.waitUntil(lambda: ctrl.last_snapshot is not None, timeout=60000)
    ctrl.play()
    folder = ctrl.session.folder
    qtbot.waitUntil(lambda: _step(ctrl) >= 60 and os.path.exists(os.path.join(folder, "checkpoint.npz")),
                    timeout=60000)
    died = []
    ctrl.engineDied.connect(lambda text: died.append((time.perf_counter(), text)))
    pid = ctrl.session.pid
    t_kill = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(died), timeout=5000)
    latency = died[0][0] - t_kill
    assert latency < 1.0, latency
    text = died[0][1]
    assert "killed (SIGKILL)" in text and "at step" in text
    assert not ctrl.playing and "Play" in win.play_action.text()
    assert not win.banner.isHidden() and not win.banner.restart_button.isHidden()
    assert "The training engine has stopped" in win.banner.plain_text()
    # Step, Play and Reset do not silently do nothing: they point at Restart
    died.clear()
    ctrl.step(1)
    assert died and "press Restart" in died[0][1]
    # Restart: a new process from the experiment and the last checkpoint
    before, frames = _step(ctrl), ctrl.frames
    seen = []  # every frame's events (a frame carries only the events since the one before it: two frames can
    ctrl.frame.connect(lambda snap: seen.extend(e.text for e in snap.events))  # arrive between two checks)
    win.banner.restart_button.click()
    assert not ctrl.dead and ctrl.session.pid != pid and win.banner.isHidden()
    qtbot.waitUntil(lambda: ctrl.frames > frames, timeout=60000)
    assert any("restarted from the checkpoint" in t for t in seen)
    resumed = _step(ctrl)
    # the last finite checkpoint the process wrote (every 25 steps; it may be a little past the last frame the
    # window had drawn), not step 0
    assert resumed >= 25 and resumed % 25 == 0 and resumed <= before + 200, (resumed, before)
    ctrl.step(3)
    qtbot.waitUntil(lambda: _step(ctrl) == resumed + 3, timeout=30000)
    win.close()
    assert not ctrl.session.is_alive()
    assert not os.path.exists(folder)  # the private checkpoint folder goes with the window


def test_a_training_thread_that_dies_is_reported_and_restarts(qtbot, monkeypatch):
    from rnnlab.train.trainer import Trainer

    win = MainWindow(small(), mode="thread", remember=False)
    qtbot.addWidget(win)
    ctrl = win.controller
    qtbot.waitUntil(lambda: ctrl.last_snapshot is not None, timeout=60000)
    ctrl.step(30)
    qtbot.waitUntil(lambda: _step(ctrl) == 30, timeout=30000)
    real = Trainer.step

    def broken(self):
        raise RuntimeError("a bug in the training code")

    monkeypatch.setattr(Trainer, "step", broken)
    died = []
    ctrl.engineDied.connect(died.append)
    ctrl.step(1)
    qtbot.waitUntil(lambda: bool(died), timeout=5000)
    assert "internal error" in died[0] and "a bug in the training code" in died[0]
    monkeypatch.setattr(Trainer, "step", real)
    assert ctrl.restart()
    ctrl.step(2)
    qtbot.waitUntil(lambda: _step(ctrl) == 32, timeout=30000)  # from the newest checkpoint: step 30
    win.close()


_PARENT = textwrap.dedent("""
    import multiprocessing.resource_tracker as rt, os, sys, time
    from rnnlab.config import Experiment
    from rnnlab.train.process_session import ProcessSession
    from rnnlab.train.session import Play
    exp = Experiment().replace(task__length=12, model__hidden_size=8)
    s = ProcessSession(exp, use_pdeathsig={pdeathsig})
    while not s.take() and s.is_alive():
        time.sleep(0.02)
    s.send(Play())
    print(s.pid, rt._resource_tracker._pid, s.folder, flush=True)
    time.sleep(600)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead (its parent, init, will reap it)
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("pdeathsig", [True, False], ids=["parent-death-signal", "watchdog-only"])
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_the_training_process_ends_when_the_window_process_is_killed(tmp_path, pdeathsig, how):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    parent = subprocess.Popen([sys.executable, "-c", _PARENT.format(pdeathsig=pdeathsig)], stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        line = parent.stdout.readline().split()
        assert len(line) == 3, line
        child, tracker, folder = int(line[0]), int(line[1]), line[2]
        assert _alive(child) and _alive(tracker) and os.path.isdir(folder)
        t0 = time.perf_counter()
        parent.send_signal(how)
        parent.wait(10)
        while (_alive(child) or _alive(tracker)) and time.perf_counter() - t0 < 10:
            time.sleep(0.05)
        gone = time.perf_counter() - t0
        assert not _alive(child), "the training process outlived the window"
        assert not _alive(tracker), "the resource tracker outlived the window"
        assert gone < 5.0, gone
        assert not os.path.exists(folder)  # its private checkpoint folder is removed too
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_window_that_does_not_read_does_not_make_the_training_process_grow():
    """Playing for a while with nobody reading: what waits is one merged snapshot (latest wins), not a queue."""
    import psutil

    from rnnlab.train.process_session import OUT_QUEUE_SIZE, ProcessSession
    from rnnlab.train.session import Play, Stop

    s = ProcessSession(small(), fps=200.0)
    try:
        while not s.take():
            time.sleep(0.02)
        s.send(Play())
        proc = psutil.Process(s.pid)
        time.sleep(2.0)
        rss0 = proc.memory_info().rss
        time.sleep(6.0)  # ~1,000 snapshots produced, none read
        growth = proc.memory_info().rss - rss0
        assert growth < 5e6, growth
        got = s.take()  # what was in flight when the queue filled up (a few snapshots; one more may slip in
        assert 1 <= len(got) <= OUT_QUEUE_SIZE + 2  # while they are read) ...
        while got[-1].step < 500:  # ... then the one pending snapshot that stands for all the others
            time.sleep(0.02)
            got += s.take()
        assert len(got) <= OUT_QUEUE_SIZE + 10  # (not one per step: ~1,000 were produced)
        steps = np.concatenate([g.history["step"] for g in got])
        assert steps[-1] > 500 and np.all(np.diff(steps) > 0)  # every row, in order, in the merged snapshots
    finally:
        s.send(Stop())
        assert s.stop(5000)


_KILLS = textwrap.dedent("""
    import os, signal, sys, time
    from rnnlab.gui.app import get_app
    app = get_app()
    from rnnlab.config import Experiment
    from rnnlab.gui.main_window import MainWindow

    def main():
        win = MainWindow(Experiment(), mode="process", remember=False)
        c = win.controller

        def wait(cond, t):
            end = time.perf_counter() + t
            while not cond():
                assert time.perf_counter() < end, "timed out"
                app.processEvents()
                time.sleep(0.001)

        for i in range(12):
            wait(lambda: c.last_snapshot is not None, 60)
            c.play()
            wait(lambda: c.session.playing, 30)
            time.sleep(0.2 + 0.1 * (i % 5))  # not reading: a large merged snapshot waits half-way in the pipe ...
            app.processEvents()  # ... and the window starts reading it: killed now, the rest never comes
            died = []
            c.engineDied.connect(lambda text: died.append(time.perf_counter()))
            t0 = time.perf_counter()
            os.kill(c.session.pid, signal.SIGKILL)
            wait(lambda: bool(died), 5)
            print(round((died[0] - t0) * 1e3), flush=True)
            c.engineDied.disconnect()
            c.restart()
            c.last_snapshot = None
        win.close()

    if __name__ == "__main__":
        main()
""")


def test_killing_the_training_process_while_it_streams_never_freezes_the_window(tmp_path):
    """Killed in the middle of sending a snapshot, the training process leaves half a message in the pipe: the
    window must not wait for the rest (it did, forever, before its copy of the pipe's write end was closed)."""
    script = tmp_path / "kills.py"
    script.write_text(_KILLS)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), QT_QPA_PLATFORM="offscreen")
    try:
        r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, env=env)
    except subprocess.TimeoutExpired as exc:  # (without the fix: frozen within 2 to 10 kills, 3 runs of 3)
        raise AssertionError(f"the window froze; reports so far: {exc.stdout}") from None
    assert r.returncode == 0, r.stderr[-2000:]
    latencies = [int(x) for x in r.stdout.split()]
    assert len(latencies) == 12 and max(latencies) < 1000, latencies
