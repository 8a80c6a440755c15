"""``rnnlab bench``: speed figures as one JSON object (``--gui`` adds the app's; Qt only then;
``--compare-torch`` PyTorch's, when it is installed)."""

from __future__ import annotations

import argparse
import sys

from ._common import MAX_STEPS, CLIError, check_at_least, offscreen_qt

__all__ = ["add_parser"]


def _cmd_bench(args: argparse.Namespace) -> int:
    from ..studies.bench import print_bench, run_bench

    if args.soak is not None:
        check_at_least("--soak", args.soak, 1, MAX_STEPS)
        offscreen_qt()
        from ..gui.bench import soak_gui

        def report(s: dict) -> None:
            print(f"step {s['step']}: window {s['window_mb']:.1f} MB, training process {s['engine_mb']:.1f} MB",
                  file=sys.stderr, flush=True)

        print_bench(soak_gui(args.soak, report=report))
        return 0

    extra = []
    if args.gui:
        offscreen_qt()  # (no display needed: the window is measured offscreen)
        from ..gui.bench import bench_gui, bench_record

        extra += [bench_gui, bench_record]
    if args.compare_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise CLIError("--compare-torch needs PyTorch, which is not installed in this Python (it is a "
                           "development tool, not a dependency of rnnlab); run the bench without it, or with a "
                           "Python that has torch") from None
    print_bench(run_bench(args.dtype, quick=args.quick, extra=extra, compare_torch=args.compare_torch,
                          frozen=args.frozen, cells=not args.core_only, record_threads=not args.no_record))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="print speed figures as JSON")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke test)")
    p.add_argument("--gui", action="store_true", help="also measure the desktop app (UI latency, redraws)")
    p.add_argument("--soak", type=int, metavar="N",
                   help="instead: train N steps in the window (offscreen, training process, diagnostics on) and "
                        "report the memory growth of both processes")
    p.add_argument("--compare-torch", action="store_true",
                   help="add PyTorch eager's figures beside every cell's (needs torch installed; not a dependency)")
    p.add_argument("--frozen", metavar="EXE", help="also time a frozen bundle's executable to its drawn window")
    p.add_argument("--no-record", action="store_true",
                   help="do not record the faster headless thread count (by default a full run records it in "
                        "rnnlab's threads.json, which run, inspect and compare then use)")
    p.add_argument("--core-only", action="store_true",
                   help="only the vanilla network's and the trainer's figures (skip cells, threads, start-up)")
    p.set_defaults(func=_cmd_bench)
