"""The `keyguard` command: `keyguard [--database-url URL] COMMAND ...`.

`main` returns the exit status (the console script and `python -m keyguard` pass it to
`sys.exit`), so tests can call it in-process: 0 success, 1 an error reported in one line on
stderr, 2 a usage error or a bad setting (one line too), 141 stdout closed early (`| head`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from keyguard.core import KeyguardError

from ._app import App, BadSettingError, CliError, execute, settings_from_args
from ._output import Output
from ._parser import build_parser, normalize_argv

__all__ = ["main"]

# What a shell reports for a command killed by SIGPIPE (128 + 13), as `ls | head -1` would.
CLOSED_PIPE_STATUS = 141


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(normalize_argv(sys.argv[1:] if argv is None else argv))
        usage_check = getattr(args, "usage_check", None)
        if usage_check is not None:  # a rule across options that argparse cannot state
            usage_check(args)
    except SystemExit as exc:  # usage errors (2), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    _configure_logging(args.verbose)
    out = Output(sys.stdout, sys.stderr)
    try:
        app = App(settings_from_args(args, os.environ), out)
        asyncio.run(execute(app, args.handler, args))
    except (KeyguardError, CliError) as exc:
        # One line, whatever the message holds: scripts read stderr line by line.
        out.note(f"keyguard: error: {' '.join(str(exc).split())}")
        return 2 if isinstance(exc, BadSettingError) else 1
    except KeyboardInterrupt:  # Ctrl-C, after the command (the demo server) shut down cleanly
        return 130
    except BrokenPipeError:  # the reader left (`keyguard keys list | head -1`): not an error
        return _stdout_closed()
    return 0


def _stdout_closed() -> int:
    # Python's advice (the signal module's "Note on SIGPIPE"): point stdout at devnull, or
    # the interpreter's last flush at exit fails again and prints "Exception ignored".
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout with no file behind it (a test's capture)
        pass
    return CLOSED_PIPE_STATUS


def _configure_logging(verbose: bool) -> None:
    # With no handler, Python prints warnings (each connection retry) to stderr by itself; the
    # CLI reports the final failure in one line, so the log shows only when asked for. When a
    # host (pytest, an app calling main) configured logging already, this changes nothing.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="keyguard: %(levelname)s: %(name)s: %(message)s",
    )
