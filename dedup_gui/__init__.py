"""dedup_gui: find exact and near-duplicate images and review them before anything is removed."""

__version__ = "0.1.0"
