"""Emit Qt signals from Python without wearing out ``True``.

PySide6 6.12.0's ``SignalInstance.emit`` returns ``True`` without taking a new reference to it, so every
Python-side emit lowers ``True``'s reference count by one. On Python 3.11, where ``True`` is not yet immortal,
a session that loads a few thousand thumbnails then aborts with "Fatal Python error: bool_dealloc". Every
emit in the window goes through ``emit``, which gives the reference back when this PySide6 takes it; the
check runs once at import, so a fixed PySide6 (or Python 3.12+, where the count does not matter) costs
nothing.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 16


class _Probe(QObject):
    signal = Signal()


def _emit_drops_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.signal.emit()
    return before - sys.getrefcount(True) >= _PROBES


_LEAKS = _emit_drops_a_reference()
if _LEAKS:
    for _ in range(_PROBES):  # give back what the check itself took
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))


def emit(signal: SignalInstance, *args: Any) -> None:
    result = signal.emit(*args)  # type: ignore[func-returns-value]  # returns True at run time
    if _LEAKS:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
