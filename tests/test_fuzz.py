"""Fuzzing every file format rnnlab reads (hypothesis, fixed seed, ≥ 1,000 cases each, a time budget): every
case ends in a valid object or the project's own error, whose message is one line of at most 300 characters.
The window's side (the current experiment unchanged after every failure, no markup rendered) is
tests/gui/test_fuzz_window.py."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

from rnnlab.config import ConfigError, Experiment, dumps_toml, load_toml
from rnnlab.io import MESSAGE_LIMIT
from rnnlab.lessons import LessonError, load_lesson
from rnnlab.lessons.classroom import Classroom, load_classroom
from rnnlab.resources import resource_path
from rnnlab.studies.sweep import load_folder
from tests import fuzz_files

CASES = 1000
#: seconds each format may take for its cases (measured on the development machine: 10–40 s)
BUDGET_S = 300.0
SETTINGS = settings(max_examples=CASES, deadline=None, database=None, phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck))

EXPERIMENTS = [p.read_bytes() for p in sorted(resource_path("presets").glob("*.toml"))] + \
    [dumps_toml(Experiment()).encode()]
LESSONS = [p.read_bytes() for p in sorted(resource_path("lessons").glob("*.toml"))] + [
    b"title = 'T'\nsummary = 'S'\n[[step]]\ntitle = 'one'\ntext = '''$\\frac{a}{b}$'''\nwatch = 'heatmap'\n"
    b"set = { 'model.spectral_radius' = 1.5 }\n"]
CLASSROOMS = [b"[classroom]\npresentation = true\npreset = 'clipping'\nlock = ['seed']\n",
              b"[classroom]\nconfig = 'exp.toml'\nset = { 'task.length' = 30 }\nhide = ['model.dtype']\n",
              b"[classroom]\nlesson = 'main'\n"]
VIEWS = {"heatmap": "the heatmap", "loss": "the loss", "grad_norms": "the gradient norms"}


def check_error(exc: BaseException) -> None:
    msg = str(exc)
    assert len(msg) <= MESSAGE_LIMIT, (len(msg), msg)
    assert "\n" not in msg and "\r" not in msg, msg
    assert "Traceback" not in msg


class Run:
    """Counts the cases and the outcomes of one format."""

    def __init__(self):
        self.cases = self.valid = self.refused = 0
        self.folder = Path(tempfile.mkdtemp(prefix="rnnlab-fuzz-"))

    def close(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def _run(name: str, body) -> Run:
    run = Run()
    t0 = time.perf_counter()
    try:
        body(run)
    finally:
        run.close()
    elapsed = time.perf_counter() - t0
    print(f"{name}: {run.cases} cases in {elapsed:.1f} s: {run.valid} valid, {run.refused} refused")
    assert run.cases >= CASES, run.cases
    assert elapsed < BUDGET_S, elapsed
    assert run.refused > CASES // 10 and run.valid > 0  # the strategies reach both outcomes
    return run


def test_fuzz_experiment_files():
    def body(run: Run):
        path = run.folder / "exp.toml"

        @seed(20260511)
        @SETTINGS
        @given(data=fuzz_files.experiment_files(EXPERIMENTS))
        def case(data):
            run.cases += 1
            path.write_bytes(data)
            try:
                exp = load_toml(path)
            except ConfigError as exc:
                run.refused += 1
                check_error(exc)
            else:
                run.valid += 1
                assert isinstance(exp, Experiment)

        case()

    _run("experiment files", body)


def test_fuzz_lesson_files():
    def body(run: Run):
        path = run.folder / "lesson.toml"

        @seed(20260512)
        @SETTINGS
        @given(data=fuzz_files.lesson_files(LESSONS))
        def case(data):
            run.cases += 1
            path.write_bytes(data)
            try:
                lesson = load_lesson(path, views=VIEWS)
            except LessonError as exc:
                run.refused += 1
                check_error(exc)
            else:
                run.valid += 1
                assert lesson.steps and all(isinstance(s.experiment, Experiment) for s in lesson.steps)

        case()

    _run("lesson files", body)


def test_fuzz_classroom_files():
    def body(run: Run):
        (run.folder / "exp.toml").write_text(dumps_toml(Experiment().replace(task__length=15)))
        (run.folder / "bad.toml").write_text("[model]\nspectral_radius = 'x'\n")
        path = run.folder / "room.toml"

        @seed(20260513)
        @SETTINGS
        @given(data=fuzz_files.classroom_files(CLASSROOMS))
        def case(data):
            run.cases += 1
            path.write_bytes(data)
            try:
                room = load_classroom(path)
            except ConfigError as exc:
                run.refused += 1
                check_error(exc)
            else:
                run.valid += 1
                assert isinstance(room, Classroom)
                assert room.experiment is None or isinstance(room.experiment, Experiment)

        case()

    _run("classroom files", body)


def test_fuzz_sweep_folders():
    from hypothesis import strategies as st

    configs = st.one_of(st.just(dumps_toml(Experiment().replace(task__length=12)).encode()),
                        st.just(dumps_toml(Experiment().replace(task__name="random", task__length=12)).encode()),
                        fuzz_files.experiment_files(EXPERIMENTS))

    def body(run: Run):
        folder = run.folder / "sweep"

        @seed(20260514)
        @SETTINGS
        @given(table=fuzz_files.sweep_tables, config=configs, layout=st.sampled_from(["files", "files", "files",
                                                                                    "csv-folder", "no-config"]))
        def case(table, config, layout):
            run.cases += 1
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            if layout == "csv-folder":
                (folder / "sweep.csv").mkdir()
            else:
                (folder / "sweep.csv").write_bytes(table)
            if layout != "no-config":
                (folder / "config.toml").write_bytes(config)
            try:
                base, rows, grid = load_folder(folder)
            except ConfigError as exc:
                run.refused += 1
                check_error(exc)
            else:
                run.valid += 1
                assert isinstance(base, Experiment) and rows and grid
                for key, values in grid.items():  # every cell of the phase diagram opens
                    base.with_changes({key: values[0]})

        case()

    _run("sweep folders", body)


@pytest.mark.parametrize("path", ["a\x00b.toml", "/dev/zero", "/", "/proc/self/mem", "/dev/stdin"])
def test_paths_that_are_not_files(path):
    for load in (load_toml, load_classroom):
        with pytest.raises(ConfigError) as info:
            load(path)
        check_error(info.value)
    with pytest.raises(LessonError) as info:
        load_lesson(path if path.endswith(".toml") else path + "/x.toml")
    check_error(info.value)
