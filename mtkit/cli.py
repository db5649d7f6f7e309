"""The ``mtkit`` command: a thin layer over the Python API.

Each subcommand parses its arguments, builds settings (defaults come from the API's class constants) and calls
one public function. Errors are caught once, in :func:`main`, and exit non-zero with the message.
Sections below are one per stage, in the order data flows.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable

from . import __version__
from .errors import MtkitError

_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def command(add_parser: Callable[[argparse._SubParsersAction], None]):
    """Register a function that adds one subcommand (its parser and ``func`` default)."""
    _COMMANDS.append(add_parser)
    return add_parser


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


# ============================================================== ingest / segment
# (section owned by the ingest and segment work)


# ============================================================== align
# (section owned by the alignment work)


# ============================================================== corpus build / publish
# (section owned by the corpus work)


# ============================================================== translate
# (section owned by the translation work)


# ============================================================== evaluate / card
# (section owned by the evaluation work)


# ============================================================== finetune
# (section owned by the fine-tuning work)


# ============================================================== main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mtkit",
        description="Clean, segment and align multilingual news; build, publish, translate, evaluate, fine-tune.",
    )
    parser.add_argument("--version", action="version", version=f"mtkit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only, no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.quiet else (logging.INFO, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args.progress = not args.quiet and sys.stderr.isatty()
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MtkitError as exc:
        sys.stderr.write(f"mtkit {args.command}: error: {exc}\n")
        return 2
    except BrokenPipeError:
        # `mtkit segment x | head` closes stdout early; that is not an error.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write(f"mtkit {args.command}: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
