"""Qt-free engine of dedup_gui: discovery, decoding, features, cache, search, grouping and the CLI.

Nothing in this package may import Qt; the GUI in ``dedup_gui.ui`` is a thin layer over it.
"""
