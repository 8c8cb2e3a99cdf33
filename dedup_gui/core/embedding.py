"""CNN embeddings with onnxruntime: an accelerated execution provider when one is present, else the CPU.

The model (``resources/efficientnet_lite0.onnx``, see ``resources/MODEL.md``) takes uint8 RGB 224x224
images and returns 1280-d pooled features; they are L2-normalised here so a dot product is the cosine.
onnxruntime is imported when an embedder is made, never at module import, so hash-only use stays light.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from dedup_gui.core import paths

MODEL_FILE = "efficientnet_lite0.onnx"
EMBEDDING_DIM = 1280
BATCH_SIZE = 16

ACCELERATED_PROVIDERS = (
    "CUDAExecutionProvider",
    "ROCMExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
)
"""Tried in this order before the CPU. TensorRT is left out: building its engines takes minutes."""


def model_path() -> Path:
    return paths.resources_dir() / MODEL_FILE


@lru_cache(maxsize=4)
def model_id(path: Path | None = None) -> str:
    """Short content hash of the model file: cached embeddings are keyed to the exact model."""
    digest = hashlib.sha256((path or model_path()).read_bytes()).hexdigest()
    return digest[:16]


def choose_providers(available: list[str]) -> list[str]:
    """The accelerated providers present, in preference order, then the CPU as the fallback."""
    chosen = [name for name in ACCELERATED_PROVIDERS if name in available]
    return [*chosen, "CPUExecutionProvider"]


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class Embedder:
    """One onnxruntime session; ``provider`` names the execution provider that actually runs it."""

    def __init__(self, path: Path | None = None, threads: int | None = None) -> None:
        import onnxruntime as ort

        available = ort.get_available_providers()
        if "CUDAExecutionProvider" in available and hasattr(ort, "preload_dlls"):
            with contextlib.suppress(Exception):  # CUDA/cuDNN from pip-installed nvidia packages, if any
                ort.preload_dlls()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or max(1, os.cpu_count() or 1)
        options.log_severity_level = 3
        # Idle inference threads must sleep, not spin: the decoding workers need those cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.path = path or model_path()
        self.session = ort.InferenceSession(str(self.path), options, providers=choose_providers(available))
        self.provider: str = self.session.get_providers()[0]
        self._input = self.session.get_inputs()[0].name

    def embed(self, images: np.ndarray) -> np.ndarray:
        """(B, 224, 224, 3) uint8 RGB -> (B, 1280) float32, unit length."""
        (features,) = self.session.run(None, {self._input: np.ascontiguousarray(images, dtype=np.uint8)})
        return l2_normalise(features.astype(np.float32))
