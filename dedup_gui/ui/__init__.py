"""The PySide6 review window: a thin layer over ``dedup_gui.core``, which never imports it."""
