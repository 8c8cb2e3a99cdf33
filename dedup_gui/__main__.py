"""Entry point of ``dedup-gui`` and ``python -m dedup_gui``."""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # decoding workers inside a frozen app re-enter here
    from dedup_gui.core.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
