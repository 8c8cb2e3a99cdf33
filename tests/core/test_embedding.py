"""The CNN embedder: provider choice, unit vectors, and edited copies closer than unrelated photos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance

from dedup_gui.core.embedding import Embedder, choose_providers, model_path
from tests.imagegen import photo_like

needs_model = pytest.mark.skipif(not model_path().exists(), reason="model file not built")


def test_prefers_accelerated_providers_and_keeps_the_cpu_fallback() -> None:
    assert choose_providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    available = ["AzureExecutionProvider", "CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider"]
    assert choose_providers(available) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(["CoreMLExecutionProvider", "CPUExecutionProvider"])[0] == "CoreMLExecutionProvider"


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB").resize((224, 224), Image.Resampling.BILINEAR))


@needs_model
def test_edited_copy_scores_higher_than_unrelated_photos() -> None:
    embedder = Embedder(threads=2)
    assert embedder.provider == "CPUExecutionProvider"
    photo = photo_like(7, (800, 600))
    edited = ImageEnhance.Brightness(photo.crop((40, 30, 780, 580))).enhance(1.2)
    ImageDraw.Draw(edited).text((20, 20), "SAMPLE", fill=(255, 255, 255))
    others = [photo_like(seed, (800, 600)) for seed in (8, 9, 10)]
    vectors = embedder.embed(np.stack([_pixels(im) for im in [photo, edited, *others]]))
    assert vectors.shape == (5, 1280) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.85
    assert similarity[0, 1] > similarity[0, 2:].max() + 0.1


@needs_model
def test_onnxruntime_writes_no_telemetry_files(tmp_path: Path) -> None:
    """onnxruntime 1.29+ keeps usage events and a device id in the user's cache folder unless opted out."""
    code = (
        "import numpy as np; from dedup_gui.core.embedding import Embedder;"
        " Embedder().embed(np.zeros((1, 224, 224, 3), np.uint8))"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "ORT_DISABLE_TELEMETRY": "0"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=Path(__file__).parents[2])
    assert list(tmp_path.rglob("*")) == []
