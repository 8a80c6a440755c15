"""``rnnlab bench``: speed figures as one JSON object (``--gui`` adds the app's; Qt only then)."""

from __future__ import annotations

import argparse
import sys

from ._common import MAX_STEPS, check_at_least, offscreen_qt

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
        from ..gui.bench import bench_gui

        extra.append(bench_gui)
    print_bench(run_bench(args.dtype, quick=args.quick, extra=extra))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="print speed figures as JSON")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke test)")
    p.add_argument("--gui", action="store_true", help="also measure the desktop app (UI latency, redraws)")
    p.add_argument("--soak", type=int, metavar="N",
                   help="instead: train N steps in the window (offscreen, training process, diagnostics on) and "
                        "report the memory growth of both processes")
    p.set_defaults(func=_cmd_bench)
