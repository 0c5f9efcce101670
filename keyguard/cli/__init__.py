"""The `keyguard` command: `keyguard [--database-url URL] COMMAND ...`.

`main` returns the exit status (the console script and `python -m keyguard` pass it to
`sys.exit`), so tests can call it in-process: 0 success, 1 an error reported in one line on
stderr, 2 a usage error.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from keyguard.core import KeyguardError

from ._app import App, CliError, execute, settings_from_args
from ._output import Output
from ._parser import build_parser, normalize_argv

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(normalize_argv(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # usage errors (2), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    _configure_logging(args.verbose)
    out = Output(sys.stdout, sys.stderr)
    app = App(settings_from_args(args, os.environ), out)
    try:
        asyncio.run(execute(app, args.handler, args))
    except (KeyguardError, CliError) as exc:
        # One line, whatever the message holds: scripts read stderr line by line.
        out.note(f"keyguard: error: {' '.join(str(exc).split())}")
        return 1
    except KeyboardInterrupt:  # Ctrl-C, after the command (the demo server) shut down cleanly
        return 130
    return 0


def _configure_logging(verbose: bool) -> None:
    # With no handler, Python prints warnings (each connection retry) to stderr by itself; the
    # CLI reports the final failure in one line, so the log shows only when asked for. When a
    # host (pytest, an app calling main) configured logging already, this changes nothing.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="keyguard: %(levelname)s: %(name)s: %(message)s",
    )
