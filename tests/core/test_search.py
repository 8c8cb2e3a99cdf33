"""Carrying a graph over: a rescan after changes searches only new contents and groups like a fresh scan."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core import knn, search
from dedup_gui.core.graph import Thresholds, explain
from dedup_gui.core.model import Method
from dedup_gui.core.pipeline import ScanOptions, ScanResult, scan
from tests.imagegen import mirrored, photo_like, reencode_jpeg, resized, text_screenshot


def _names(result: ScanResult) -> list[list[str]]:
    return sorted(sorted(result.files[m].ref.path.name for m in g.members) for g in result.groups)


PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "moon", "clock", "page", "text", "cell")


def _write_photos(folder: Path) -> None:
    """Real photos (scikit-image's), so the CNN tier sees images that really differ."""
    data = pytest.importorskip("skimage.data")
    for index, name in enumerate(PHOTOS):
        photo = Image.fromarray(getattr(data, name)()).convert("RGB")
        photo.save(folder / f"p{index}.jpg", quality=90)
        photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / f"p{index}_mirror.jpg", quality=90)


@pytest.mark.parametrize("method", [Method.HASH, Method.AUTO])
def test_rescan_after_changes_carries_edges_over(
    method: Method, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_photos(tmp_path)
    cache = tmp_path.parent / f"{tmp_path.name}-cache.sqlite3"
    scan(ScanOptions(roots=(tmp_path,), cache_path=cache, workers=0, method=method))

    (tmp_path / "p3_mirror.jpg").unlink()  # a copy trashed
    shutil.copy(tmp_path / "p5.jpg", tmp_path / "p5 (1).jpg")  # a byte copy: known content
    Image.open(tmp_path / "p7.jpg").resize((200, 150)).save(tmp_path / "p7_small.jpg")  # new content

    searched: list[np.ndarray | None] = []
    real = search.find_pairs

    def recording(stored: np.ndarray, queries: np.ndarray, radius: int, rows: np.ndarray | None = None) -> object:
        searched.append(rows)
        return real(stored, queries, radius, rows)

    monkeypatch.setattr(search, "find_pairs", recording)
    carried = scan(ScanOptions(roots=(tmp_path,), cache_path=cache, workers=0, method=method))
    assert len(searched) == 1 and searched[0] is not None and len(searched[0]) == 1  # only p7_small is new

    fresh = scan(ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / "fresh.sqlite3", workers=0, method=method))
    assert _names(carried) == _names(fresh)
    assert ["p5 (1).jpg", "p5.jpg", "p5_mirror.jpg"] in _names(carried)
    assert ["p7.jpg", "p7_mirror.jpg", "p7_small.jpg"] in _names(carried)
    assert not any("p3.jpg" in group for group in _names(carried))


def _copies(count: int, dim: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unrelated unit vectors, every fourth a near-copy (cosine about 0.9) of the one before; random hashes."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, dim)).astype(np.float32)
    vectors[1::4] = vectors[0::4][: len(vectors[1::4])] + 0.5 * rng.normal(size=(len(vectors[1::4]), dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    hashes = np.frombuffer(rng.bytes(count * 16 * 8), dtype=np.uint64).reshape(count, 2, 8)
    return vectors.astype(np.float16), hashes


def _input(vectors: np.ndarray, hashes: np.ndarray, index_file: Path | None) -> search.SearchInput:
    digests: list[str | None] = [f"{i:040x}" for i in range(len(vectors))]
    return search.SearchInput(digests, list(hashes), vectors, index_file, "model-a")


def _edges(graph: search.PairGraph) -> set[tuple[int, int]]:
    strong = graph.cosine >= 0.8
    return set(zip(graph.a[strong].tolist(), graph.b[strong].tolist(), strict=True))


def test_large_collection_rescan_adds_and_queries_only_new_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the exact-search limit (lowered here) the index is saved; a rescan with new contents adds and
    queries only those, and finds the same near-copies as a fresh search."""
    monkeypatch.setattr(search, "EXACT_LIMIT", 50)
    vectors, hashes = _copies(600)
    index_file = tmp_path / "cache.knn"
    first = search.build_graph(_input(vectors[:560], hashes[:560], index_file), Method.AUTO, Thresholds())
    assert (tmp_path / "cache.knn.hnsw").exists()

    added: list[int] = []
    queried: list[int] = []
    real_add, real_query = search.VectorIndex.add, search.VectorIndex.query

    def add(index: search.VectorIndex, vectors: object, rows: np.ndarray, digests: np.ndarray) -> None:
        added.append(len(rows))
        real_add(index, vectors, rows, digests)

    def query(index: search.VectorIndex, vectors: object, rows: np.ndarray, labels: np.ndarray, k: int) -> object:
        queried.append(len(rows))
        return real_query(index, vectors, rows, labels, k)

    monkeypatch.setattr(search.VectorIndex, "add", add)
    monkeypatch.setattr(search.VectorIndex, "query", query)
    carried = search.build_graph(_input(vectors, hashes, index_file), Method.AUTO, Thresholds(), previous=first)
    assert added == [40] and queried == [40]

    fresh = search.build_graph(_input(vectors, hashes, None), Method.AUTO, Thresholds())
    assert _edges(carried) == _edges(fresh)
    assert {(i, i + 1) for i in range(0, 600, 4)} <= _edges(fresh)


def test_damaged_index_file_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "EXACT_LIMIT", 50)
    vectors, hashes = _copies(300)
    index_file = tmp_path / "cache.knn"
    search.build_graph(_input(vectors, hashes, index_file), Method.CNN, Thresholds())
    (tmp_path / "cache.knn.hnsw").write_bytes(b"\0" * 100)
    graph = search.build_graph(_input(vectors, hashes, index_file), Method.CNN, Thresholds())
    assert {(i, i + 1) for i in range(0, 300, 4)} <= _edges(graph)
    assert search.VectorIndex.load(index_file, "model-a", search.params_for(300), 300) is not None  # saved anew


def test_int8_embedding_store_groups_like_float16(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A collection past ``QUANTISE_ABOVE`` searches int8 codes: same groups, cosines within a thousandth."""
    _write_photos(tmp_path)
    options = ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / "c.sqlite3", workers=0)
    exact = scan(options)
    monkeypatch.setattr(knn, "QUANTISE_ABOVE", 0)
    coded = scan(ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / "c2.sqlite3", workers=0))
    assert _names(coded) == _names(exact) and len(_names(exact)) == len(PHOTOS)
    pairs = {(a, b): c for a, b, c in zip(exact.graph.a, exact.graph.b, exact.graph.cosine, strict=True)}
    coded_pairs = {(a, b): c for a, b, c in zip(coded.graph.a, coded.graph.b, coded.graph.cosine, strict=True)}
    shared = pairs.keys() & coded_pairs.keys()
    assert len(shared) >= len(PHOTOS)
    assert max(abs(pairs[p] - coded_pairs[p]) for p in shared) < 1e-3


def test_text_screenshots_are_not_grouped_by_the_cnn_alone(tmp_path: Path) -> None:
    """Different text pages score cosine 0.94-0.99 and some pHash 4-8, so neither the CNN nor a loose hash
    may group them; a resized copy of one page is still found, by both its hashes."""
    for seed in range(18):
        text_screenshot(seed).save(tmp_path / f"page{seed:02d}.png")
    resized(text_screenshot(3), 0.5).save(tmp_path / "page03_small.jpg", quality=85)

    result = scan(ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / f"{tmp_path.name}.sqlite3", workers=0))

    assert _names(result) == [["page03.png", "page03_small.jpg"]]
    (pair,) = result.graph.pairs_within(result.groups[0], result.options.thresholds)
    assert pair.lookalike and pair.cosine is not None and pair.cosine >= result.options.thresholds.cosine
    reason = explain(pair)
    assert reason.startswith("hash distance ") and reason.endswith(f"dHash {pair.dhash_distance} (look-alikes)")
    loose = Thresholds(hash_distance=8, cosine=0.6)
    assert not any(len(g.members) > 2 for g in result.regroup(loose))
    others = ~np.isin(result.graph.a, result.groups[0].members)
    assert result.graph.lookalike.all() and np.nanmax(result.graph.cosine[others]) > 0.9  # they do look alike


def test_in_a_crowd_of_look_alikes_only_copies_that_stand_out_are_grouped(tmp_path: Path) -> None:
    """Generated abstract pictures score cosine 0.75-0.88 against each other, above the default threshold; their
    copies score 0.95 and more. Only the copies stand out from each picture's 16th neighbour by the margin."""
    for seed in range(30):
        photo_like(seed, (480, 360)).save(tmp_path / f"img{seed:02d}.jpg", quality=90)
    resized(photo_like(3, (480, 360)), 0.5).save(tmp_path / "img03_half.jpg", quality=85)
    reencode_jpeg(photo_like(11, (480, 360)), 30).save(tmp_path / "img11_q30.jpg", quality=85)
    mirrored(photo_like(20, (480, 360))).save(tmp_path / "img20_mirror.jpg", quality=85)

    result = scan(ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / f"{tmp_path.name}.sqlite3", workers=0))

    assert _names(result) == [
        ["img03.jpg", "img03_half.jpg"],
        ["img11.jpg", "img11_q30.jpg"],
        ["img20.jpg", "img20_mirror.jpg"],
    ]
    graph = result.graph
    assert (graph.crowding > 0).sum() >= 20 and not graph.lookalike.any()
    crowded = graph.crowded & (graph.cosine >= result.options.thresholds.cosine)
    assert crowded.sum() >= 20  # pairs the threshold alone would have grouped
    pair = next(p for p in graph.pairs_within(result.groups[0], result.options.thresholds))
    assert explain(pair).endswith(f"(look-alikes around {pair.crowding:.2f})")


@pytest.mark.parametrize("change", ["grow", "shrink"])
def test_a_crowd_that_changes_is_measured_like_a_fresh_scan(change: str, tmp_path: Path) -> None:
    """Crowding below the look-alike level is kept up to date too: as pictures come and go, each picture's 16th
    neighbour moves, and the rescan measures again those it may have moved for."""
    before, after = (range(20), range(32)) if change == "grow" else (range(32), range(20))
    for seed in before:
        photo_like(seed, (320, 240)).save(tmp_path / f"img{seed:02d}.jpg", quality=90)
    options = ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / f"{tmp_path.name}.sqlite3", workers=0)
    first = scan(options)
    for seed in set(after) - set(before):
        photo_like(seed, (320, 240)).save(tmp_path / f"img{seed:02d}.jpg", quality=90)
    for seed in set(before) - set(after):
        (tmp_path / f"img{seed:02d}.jpg").unlink()

    rescan = scan(options)
    fresh = scan(
        ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / f"{tmp_path.name}-fresh.sqlite3", workers=0)
    )

    assert rescan.stats.analysed == len(set(after) - set(before))
    assert (fresh.graph.crowding > 0).sum() >= 10 and not fresh.graph.lookalike.any()
    assert not np.array_equal(np.sort(first.graph.crowding), np.sort(fresh.graph.crowding))
    np.testing.assert_allclose(rescan.graph.crowding, fresh.graph.crowding, atol=1e-5)
    assert _names(rescan) == _names(fresh)


def test_a_family_of_look_alikes_that_grows_is_judged_like_a_fresh_scan(tmp_path: Path) -> None:
    """Ten pages are too few to be told apart from a group of copies (the CNN groups them); with eight more a
    fresh scan calls all of them look-alikes, and so must the rescan that searches only the eight new ones."""
    for seed in range(10):
        text_screenshot(seed).save(tmp_path / f"page{seed:02d}.png")
    options = ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / f"{tmp_path.name}.sqlite3", workers=0)
    assert len(scan(options).groups) == 1
    for seed in range(10, 18):
        text_screenshot(seed).save(tmp_path / f"page{seed:02d}.png")

    rescan = scan(options)
    fresh = scan(
        ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / f"{tmp_path.name}-fresh.sqlite3", workers=0)
    )

    assert rescan.stats.analysed == 8
    assert _names(rescan) == _names(fresh) == []
    assert rescan.graph.lookalike.all() and fresh.graph.lookalike.all()
    np.testing.assert_allclose(rescan.graph.crowding, fresh.graph.crowding, atol=1e-5)


def test_a_family_of_look_alikes_that_shrinks_is_judged_like_a_fresh_scan(tmp_path: Path) -> None:
    """Eighteen pages are look-alikes; after eight are removed, the ten left are counted again."""
    for seed in range(18):
        text_screenshot(seed).save(tmp_path / f"page{seed:02d}.png")
    options = ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / f"{tmp_path.name}.sqlite3", workers=0)
    assert scan(options).groups == []
    for seed in range(10, 18):
        (tmp_path / f"page{seed:02d}.png").unlink()

    rescan = scan(options)
    fresh = scan(
        ScanOptions(roots=(tmp_path,), cache_path=tmp_path.parent / f"{tmp_path.name}-fresh.sqlite3", workers=0)
    )

    assert len(fresh.groups) == 1 and _names(rescan) == _names(fresh)
    np.testing.assert_allclose(rescan.graph.crowding, fresh.graph.crowding, atol=1e-5)


def _by_content(vectors: np.ndarray, keep: np.ndarray, seed: int = 0) -> search.SearchInput:
    """The rows ``keep`` of a collection whose contents are named by their row, with random hashes."""
    rng = np.random.default_rng(seed)
    hashes = np.frombuffer(rng.bytes(len(vectors) * 16 * 8), dtype=np.uint64).reshape(len(vectors), 2, 8)
    digests: list[str | None] = [f"{i:040x}" for i in np.flatnonzero(keep)]
    return search.SearchInput(digests, list(hashes[keep]), vectors[keep].astype(np.float32))


def _towards(base: np.ndarray, other: np.ndarray, cosine: float) -> np.ndarray:
    """A unit vector at ``cosine`` to the unit vector ``base``, turned towards the orthogonal unit ``other``."""
    return cosine * base + np.sqrt(1 - cosine**2) * other


def test_a_cnn_rescan_where_only_a_copy_went_away() -> None:
    vectors, _ = _copies(32)
    everyone = np.ones(32, dtype=bool)
    first = search.build_graph(_by_content(vectors, everyone), Method.CNN, Thresholds())
    assert (0, 1) in _edges(first)
    without_copy = everyone.copy()
    without_copy[1] = False

    again = search.build_graph(_by_content(vectors, without_copy), Method.CNN, Thresholds(), previous=first)

    fresh = search.build_graph(_by_content(vectors, without_copy), Method.CNN, Thresholds())
    assert again.groups_at(Thresholds()) == fresh.groups_at(Thresholds())


def test_a_new_image_in_a_dense_crowd_still_moves_the_crowding_of_an_earlier_one() -> None:
    """X's 16th neighbour is far until Y arrives at cosine 0.80; Y's own 64 nearest are all in a tight crowd
    closer to it than X, so X is found only by asking Y for more neighbours."""
    axes = np.eye(64)
    x = axes[0]
    family = [_towards(x, axes[2 + j], 0.74 + 0.004 * j) for j in range(15)]
    centre = _towards(x, axes[1], 0.5)
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(100, 64)) * (np.arange(64) >= 17)
    crowd = centre + 0.12 * noise / np.linalg.norm(noise, axis=1, keepdims=True)
    y = _towards(x, axes[1], 0.80)
    vectors = np.vstack([x, family, crowd / np.linalg.norm(crowd, axis=1, keepdims=True), y])
    before = np.arange(len(vectors)) < len(vectors) - 1
    assert np.sort(vectors[:-1] @ y)[-64] > 0.9  # y's 64 nearest are all in the crowd

    first = search.build_graph(_by_content(vectors, before), Method.CNN, Thresholds())
    everyone = np.ones(len(vectors), dtype=bool)
    again = search.build_graph(_by_content(vectors, everyone), Method.CNN, Thresholds(), previous=first)

    fresh = search.build_graph(_by_content(vectors, everyone), Method.CNN, Thresholds())
    assert first.crowding[0] == 0 and fresh.crowding[0] > 0.7
    np.testing.assert_allclose(again.crowding, fresh.crowding, atol=1e-5)


def test_when_an_image_loses_its_nearest_the_next_becomes_an_edge() -> None:
    """X is not crowded; its nearest R goes, which brings Z (cosine 0.76) among its ten nearest, as in a fresh
    scan, though X is not among Z's ten nearest."""
    axes = np.eye(64)
    x = axes[0]
    nine = [_towards(x, axes[2 + j], c) for j, c in enumerate(np.linspace(0.80, 0.90, 9))]
    z = _towards(x, axes[20], 0.76)
    z_family = [0.8 * z + 0.6 * axes[30 + i] for i in range(10)]
    r = _towards(x, axes[1], 0.95)
    vectors = np.vstack([x, nine, z, z_family, r])
    everyone = np.ones(len(vectors), dtype=bool)
    first = search.build_graph(_by_content(vectors, everyone), Method.AUTO, Thresholds())
    assert not first.crowding.any()

    without_r = everyone.copy()
    without_r[-1] = False

    again = search.build_graph(_by_content(vectors, without_r), Method.AUTO, Thresholds(), previous=first)

    fresh = search.build_graph(_by_content(vectors, without_r), Method.AUTO, Thresholds())
    x_to_z = (0, 10)
    assert x_to_z not in zip(first.a.tolist(), first.b.tolist(), strict=True)
    assert x_to_z in zip(fresh.a.tolist(), fresh.b.tolist(), strict=True)
    assert x_to_z in zip(again.a.tolist(), again.b.tolist(), strict=True)
    assert again.groups_at(Thresholds()) == fresh.groups_at(Thresholds())


def test_a_crowded_image_that_loses_one_of_its_sixteen_nearest_is_measured_again() -> None:
    """X's 12th nearest goes: it is not one of X's ten nearest, nor X one of its (it has ten closer), yet X's
    crowding (its 16th nearest) moves to the 17th."""
    axes = np.eye(64)
    x = axes[0]
    around = np.array([_towards(x, axes[1 + j], c) for j, c in enumerate(np.linspace(0.95, 0.76, 20))])
    twelfth = around[11]
    its_own = [_towards(twelfth, axes[30 + i], 0.9) for i in range(10)]
    vectors = np.vstack([x, around, its_own])
    everyone = np.ones(len(vectors), dtype=bool)
    first = search.build_graph(_by_content(vectors, everyone), Method.CNN, Thresholds())
    assert first.crowding[0] > 0.7
    without_12th = everyone.copy()
    without_12th[12] = False

    again = search.build_graph(_by_content(vectors, without_12th), Method.CNN, Thresholds(), previous=first)

    fresh = search.build_graph(_by_content(vectors, without_12th), Method.CNN, Thresholds())
    assert fresh.crowding[0] < first.crowding[0] - 0.005
    np.testing.assert_allclose(again.crowding, fresh.crowding, atol=1e-5)
