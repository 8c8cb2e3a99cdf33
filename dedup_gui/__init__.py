"""dedup_gui: find exact and near-duplicate images and review them before anything is removed."""

import os

# onnxruntime 1.29+ records usage events and a device id under ~/.cache/Microsoft and uploads them; nothing of
# this app's may leave the machine, and the opt-out only counts when set before onnxruntime first loads.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

__version__ = "0.1.0"
