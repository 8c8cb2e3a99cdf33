"""A folder of hostile and odd files: the scan finishes, and every file is either used or reported with a reason."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core import pipeline
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, scan
from dedup_gui.core.workers import INLINE_BELOW
from tests.conftest import smooth_image


def _bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A valid PNG signature and header that promise a vast image, and almost no data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _broken_exif_jpeg() -> bytes:
    jpeg = _bytes(smooth_image(11), "JPEG")
    segment = b"Exif\x00\x00II*\x00\x08\x00\x00\x00" + b"\xff" * 40
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment + jpeg[2:]


def _animated_gif() -> bytes:
    frames = [smooth_image(seed, (96, 72)).convert("P") for seed in (12, 13)]
    return _bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)


# name -> (content, expected outcome: "used" or a phrase of the skip reason)
def _corpus() -> dict[str, tuple[bytes, str]]:
    photo = smooth_image(1)
    jpeg, png = _bytes(photo, "JPEG"), _bytes(photo, "PNG")
    sixteen = Image.fromarray(np.asarray(photo.convert("L"), dtype=np.uint16) * 257)
    palette = photo.convert("P")
    return {
        "good.jpg": (jpeg, "used"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "corrupt or truncated JPEG"),
        "corrupt.jpg": (jpeg[:400] + b"\x00" * 200, "corrupt or truncated JPEG"),
        "truncated.png": (png[: len(png) // 3], "corrupt or truncated PNG"),
        "corrupt.webp": (_bytes(photo, "WEBP")[:60], "WEBP"),
        "truncated.tif": (_bytes(photo, "TIFF")[:500], "TIFF"),
        "empty.jpg": (b"", "empty file"),
        "text.png": (b"hello, I am a text file\n", "not an image: the content is text"),
        "png-named.jpg": (png, "used"),
        "bomb.png": (_bytes(Image.new("1", (30000, 30000)), "PNG"), "decompression bomb"),
        "huge-header.png": (_png_claiming(200_000, 200_000), "decompression bomb"),
        "cmyk.jpg": (_bytes(photo.convert("CMYK"), "JPEG"), "used"),
        "sixteen.png": (_bytes(sixteen, "PNG"), "used"),
        "palette-transparent.png": (_bytes(palette, "PNG", transparency=0), "used"),
        "animated.gif": (_animated_gif(), "used"),
        "broken-exif.jpg": (_broken_exif_jpeg(), "used"),
        os.fsdecode(b"caf\xe9-latin1.jpg"): (_bytes(smooth_image(2), "JPEG"), "used"),
        "long-" + "x" * 240 + ".jpg": (_bytes(smooth_image(3), "JPEG"), "used"),
        "no-permission.jpg": (_bytes(smooth_image(4), "JPEG"), "used or permission"),
        "vanishing.jpg": (_bytes(smooth_image(5), "JPEG"), "vanished"),
        "notes.jpg": (b"shopping list: eggs, milk\n", "not an image: the content is text"),
        "binary.gif": (bytes(range(255, -1, -1)) * 4, "not an image: the content is unknown binary data"),
        "header-only.png": (png[:33], "PNG file that the image library cannot identify"),
        "truncated.gif": (_animated_gif()[:300], "GIF"),
        "portable.ppm": (_bytes(smooth_image(6), "PPM"), "used"),
        "icon.ico": (_bytes(smooth_image(7, (64, 64)), "ICO"), "used"),
        "targa.tga": (_bytes(smooth_image(8), "TGA"), "used"),
        "upright.tif": (_bytes(smooth_image(9), "TIFF", tiffinfo={0x0112: 6}), "used"),
        "grey.png": (_bytes(photo.convert("L"), "PNG"), "used"),
        "rgba.png": (_bytes(photo.convert("RGBA"), "PNG"), "used"),
        "animated.webp": (_bytes(photo, "WEBP", save_all=True, append_images=[smooth_image(10)]), "used"),
        "UPPER.JPEG": (_bytes(smooth_image(14), "JPEG"), "used"),
        "no-extension": (_bytes(smooth_image(15), "PNG"), "used"),
    }


def _write(folder: Path) -> dict[str, str]:
    folder.mkdir()
    expected = {}
    for name, (content, outcome) in _corpus().items():
        (folder / name).write_bytes(content)
        expected[name] = outcome
    (folder / "no-permission.jpg").chmod(0)
    (folder / "broken-link.jpg").symlink_to(folder / "missing.jpg")
    expected["broken-link.jpg"] = "broken symbolic link"
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    expected["loop.jpg"] = "symbolic link loop"
    return expected


def _check(expected: dict[str, str], used: set[str], skipped: dict[str, str]) -> None:
    assert used.isdisjoint(skipped)
    assert used | set(skipped) == set(expected), "every file is either used or reported"
    for name, outcome in expected.items():
        if outcome == "used":
            assert name in used, f"{name} was skipped: {skipped.get(name)}"
        elif outcome == "used or permission":
            assert name in used or "permission denied" in skipped[name]
        else:
            assert outcome in skipped.get(name, ""), f"{name}: {skipped.get(name, 'used')!r}"


def test_every_bad_file_is_reported_and_the_scan_finishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _write(tmp_path / "corpus")
    real = pipeline.analyse_all

    def delete_one_first(requests, *args):  # type: ignore[no-untyped-def]
        (tmp_path / "corpus" / "vanishing.jpg").unlink()  # deleted between discovery and reading
        return real(requests, *args)

    monkeypatch.setattr(pipeline, "analyse_all", delete_one_first)
    result = scan(ScanOptions(roots=(tmp_path / "corpus",), cache_path=tmp_path / "c.sqlite3", workers=0))
    used = {f.ref.path.name for f in result.files}
    _check(expected, used, {s.path.name: s.reason for s in result.skipped})


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_cli_on_the_corpus_in_worker_processes_with_bounded_memory(tmp_path: Path) -> None:
    expected = _write(tmp_path / "corpus")
    (tmp_path / "corpus" / "vanishing.jpg").unlink()
    expected.pop("vanishing.jpg")
    # The scan reports its own peak (VmHWM: ru_maxrss would include the forking test process's pages) and
    # its decoding workers' peak on the last line of stderr.
    code = (
        "import re, resource, sys; from dedup_gui.__main__ import main; status = main(sys.argv[1:]);"
        "own = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1);"
        "print(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(status)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "scan", str(tmp_path / "corpus"), "--cache", str(tmp_path / "c.sqlite3")]
        + ["--workers", "2", "--method", Method.AUTO.value, "-q"],
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    report = json.loads(done.stdout)
    used = {Path(m["path"]).name for g in report["groups"] for m in g["members"]}
    skipped = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert report["summary"]["files"] + report["summary"]["skipped"] == len(expected)
    refused = set() if os.access(tmp_path / "corpus" / "no-permission.jpg", os.R_OK) else {"no-permission.jpg"}
    assert (
        set(skipped)
        == {name for name, outcome in expected.items() if outcome not in ("used", "used or permission")} | refused
    )
    assert not used & set(skipped)
    scan_kb, workers_kb = (int(x) for x in done.stderr.decode().strip().splitlines()[-1].split())
    print(f"peak RSS: scan process {scan_kb // 1024} MB, decoding workers {workers_kb // 1024} MB")
    assert scan_kb < 1024 * 1024 and workers_kb < 1024 * 1024


def _outcome(result: pipeline.ScanResult) -> tuple[set[str], dict[str, str]]:
    """Names used and names skipped (with reasons), checking that no name is listed twice."""
    used = [f.ref.path.name for f in result.files]
    skipped = [s.path.name for s in result.skipped]
    assert len(used) == len(set(used)) and len(skipped) == len(set(skipped)), "a file is listed twice"
    return set(used), {s.path.name: s.reason for s in result.skipped}


def _stable_corpus(folder: Path) -> dict[str, str]:
    """The corpus without the file that vanishes mid-scan, and with the unreadable file's outcome pinned."""
    expected = _write(folder)
    (folder / "vanishing.jpg").unlink()
    del expected["vanishing.jpg"]
    if os.access(folder / "no-permission.jpg", os.R_OK):  # root reads it anyway
        expected["no-permission.jpg"] = "used"
    else:
        expected["no-permission.jpg"] = "permission denied"
    return expected


def test_every_file_written_is_used_or_reported_exactly_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "corpus"
    expected = _write(folder)
    if os.access(folder / "no-permission.jpg", os.R_OK):
        expected["no-permission.jpg"] = "used"
    else:
        expected["no-permission.jpg"] = "permission denied"
    written = {entry.name for entry in os.scandir(folder)}
    assert written == set(expected)  # the corpus check below covers everything in the folder
    real = pipeline.analyse_all
    seen: list[Path] = []

    def delete_one_first(requests, *args):  # type: ignore[no-untyped-def]
        seen.extend(r.ref.path for r in requests)
        (folder / "vanishing.jpg").unlink()  # deleted after discovery listed it, before it is read
        return real(requests, *args)

    monkeypatch.setattr(pipeline, "analyse_all", delete_one_first)
    result = scan(ScanOptions(roots=(folder,), cache_path=tmp_path / "c.sqlite3", workers=0))
    assert folder / "vanishing.jpg" in seen  # it really was handed to the analysis
    used, skipped = _outcome(result)
    assert len(result.files) + len(result.skipped) == len(written)
    _check(expected, used, skipped)
    assert skipped["vanishing.jpg"] == "file vanished during the scan"
    assert skipped["empty.jpg"] == "empty file (0 bytes)"
    assert "above the limit of 250 MP (decompression bomb protection" in skipped["bomb.png"]
    assert "above the limit of 250 MP" in skipped["huge-header.png"]
    for name in expected:
        if name in skipped:
            assert skipped[name].strip() and "Traceback" not in skipped[name] and "unexpected" not in skipped[name]
    info = {f.ref.path.name: f.info for f in result.files}
    assert info["upright.tif"] is not None and (info["upright.tif"].width, info["upright.tif"].height) == (480, 640)
    assert info["sixteen.png"] is not None and info["sixteen.png"].format == "PNG"
    assert info["portable.ppm"] is not None and info["portable.ppm"].format == "PPM"
    assert result.stats.discovered == len(written) - 3  # discovery itself reports the empty file and two links


@pytest.mark.slow
def test_worker_processes_give_the_same_result_as_inline(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    expected = _stable_corpus(folder)
    inline = scan(ScanOptions(roots=(folder,), cache_path=tmp_path / "inline.sqlite3", workers=0))
    pooled = scan(ScanOptions(roots=(folder,), cache_path=tmp_path / "pooled.sqlite3", workers=2))
    # Both decoded every file, and enough of them that the pool is really used.
    assert pooled.stats.analysed == inline.stats.analysed >= INLINE_BELOW and pooled.stats.from_cache == 0
    for result in (inline, pooled):
        used, skipped = _outcome(result)
        _check(expected, used, skipped)
    assert _outcome(pooled) == _outcome(inline)
    assert [(f.ref, f.digest, f.info) for f in pooled.files] == [(f.ref, f.digest, f.info) for f in inline.files]
    assert [sorted(pooled.files[m].ref.path.name for m in g.members) for g in pooled.groups] == [
        sorted(inline.files[m].ref.path.name for m in g.members) for g in inline.groups
    ]
    again = scan(ScanOptions(roots=(folder,), cache_path=tmp_path / "inline.sqlite3", workers=0))
    assert _outcome(again) == _outcome(inline)  # reasons read back from the cache are the same


@pytest.mark.slow
def test_cli_json_lists_every_skip_with_its_reason(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    expected = _stable_corpus(folder)
    done = subprocess.run(
        [sys.executable, "-m", "dedup_gui", "scan", str(folder), "--cache", str(tmp_path / "c.sqlite3")]
        + ["--format", "json", "-q"],
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    report = json.loads(done.stdout)
    skipped = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert len(skipped) == len(report["skipped"]) == report["summary"]["skipped"]
    reported = {name for name, outcome in expected.items() if outcome != "used"}
    assert set(skipped) == reported
    for name in reported:
        assert expected[name] in skipped[name], f"{name}: {skipped[name]!r}"
    assert report["summary"]["files"] + report["summary"]["skipped"] == len(expected)
    grouped = {Path(m["path"]).name for g in report["groups"] for m in g["members"]}
    assert {"good.jpg", "png-named.jpg", "cmyk.jpg"} <= grouped  # one photo saved three ways is one group
    assert not grouped & set(skipped)
