"""Script PyInstaller freezes: the installed ``dedup-gui`` command's ``main``, run as the program itself.

A separate file rather than ``dedup_gui/__main__.py`` so the bundle's ``dedup_gui`` package is the ordinary
package, imported the same way as in a wheel install. ``main`` calls ``multiprocessing.freeze_support()``
before anything else, which is where the frozen app's decoding workers start.
"""

import sys

from dedup_gui.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
