"""``rnnlab bench``: speed figures as one JSON object (``--gui`` adds the app's; Qt only then)."""

from __future__ import annotations

import argparse

__all__ = ["add_parser"]


def _cmd_bench(args: argparse.Namespace) -> int:
    from ..studies.bench import print_bench, run_bench

    extra = []
    if args.gui:
        from ..gui.bench import bench_gui, bench_record

        extra += [bench_gui, bench_record]
    print_bench(run_bench(args.dtype, quick=args.quick, extra=extra))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="print speed figures as JSON")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke test)")
    p.add_argument("--gui", action="store_true", help="also measure the desktop app (UI latency, redraws)")
    p.set_defaults(func=_cmd_bench)
