"""Analysers that misbehave on purpose, importable by spawned worker processes."""

from __future__ import annotations

import os
import time

from dedup_gui.core.analysis import Analysis, AnalysisRequest, analyse


def hang_on_bad(request: AnalysisRequest) -> Analysis:
    """Hangs forever on files named bad*, like a decoder stuck in a loop."""
    if request.ref.path.name.startswith("bad"):
        while True:
            time.sleep(1)
    return analyse(request)


def crash_on_bad(request: AnalysisRequest) -> Analysis:
    """Kills its own process on files named bad*, like a decoder that segfaults."""
    if request.ref.path.name.startswith("bad"):
        os._exit(139)
    return analyse(request)
