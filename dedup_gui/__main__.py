"""Entry point of ``dedup-gui`` and ``python -m dedup_gui``: a known subcommand runs the CLI, anything else
(nothing, folders, ``--demo``) opens the window. Qt is imported only for the window, so scripts and servers
using the CLI never load it."""

from __future__ import annotations

import multiprocessing
import sys

COMMANDS = frozenset({"scan", "find", "apply", "undo", "evaluate"})
CLI_FIRST_ARGUMENTS = COMMANDS | {"--version", "-h", "--help"}


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # decoding workers inside a frozen app re-enter here
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:  # answered without importing the engine: instant, even in the frozen app
        from dedup_gui import __version__

        print(f"dedup-gui {__version__}")
        return 0
    if args and args[0] in CLI_FIRST_ARGUMENTS:
        from dedup_gui.core.cli import main as cli_main

        return cli_main(args)
    from dedup_gui.ui.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
