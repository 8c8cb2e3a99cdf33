"""The one place that composes the stages: files -> features (cached) -> search -> graph -> groups."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from dedup_gui.core import paths
from dedup_gui.core.analysis import DECODE_VERSION, Analysis, AnalysisRequest
from dedup_gui.core.cache import CachedFile, FeatureCache
from dedup_gui.core.decoding import DEFAULT_MAX_MEGAPIXELS, size_refusal
from dedup_gui.core.discovery import DiscoveryOptions, check_roots, discover
from dedup_gui.core.embedding import BATCH_SIZE, EMBEDDING_DIM, Embedder, model_id
from dedup_gui.core.graph import MAX_HASH_DISTANCE, MIN_COSINE, PairGraph, Thresholds
from dedup_gui.core.grouping import GroupPolicy
from dedup_gui.core.hashes import HASH_VERSION
from dedup_gui.core.knn import Int8Vectors, vector_store
from dedup_gui.core.model import FileRef, Group, ImageInfo, Method, ScannedFile, Skipped
from dedup_gui.core.progress import CancelToken, ProgressCallback, Stage, StageMeter
from dedup_gui.core.search import SearchInput, build_graph
from dedup_gui.core.tone import TONE_VERSION
from dedup_gui.core.workers import analyse_all

GRAPH_VERSION = 6
"""Bump when candidate search, pair scoring or what a stored graph holds changes, so stored graphs are not reused."""

EMBEDDING_VERSION = 2
"""Bump when preprocessing for the CNN changes; the model itself is named by its hash in the kind."""

_FILL_CHUNK = 4096
"""Embeddings gathered into the search's store this many at a time."""


@dataclass(frozen=True)
class ScanOptions:
    """Everything a scan needs to know; the defaults are what a user gets without choosing."""

    roots: tuple[Path, ...]
    exclude: tuple[str, ...] = ()
    include_hidden: bool = False
    follow_symlinks: bool = False
    min_size: int = 0
    method: Method = Method.AUTO
    thresholds: Thresholds = Thresholds()
    policy: GroupPolicy = GroupPolicy.STAR
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    workers: int | None = None
    """Decoding processes; None means one per CPU, 0 decodes in the calling process."""
    cache_path: Path | None = None
    """None means the per-user cache file."""
    files: tuple[Path, ...] = ()
    """Single image files to take beside the roots' contents (the images ``find`` looks for)."""


@dataclass
class ScanStats:
    """Counts that tell where the work went."""

    discovered: int = 0
    analysed: int = 0
    from_cache: int = 0
    embedded: int = 0
    provider: str | None = None
    elapsed_s: float = 0.0


@dataclass
class ScanResult:
    """A finished (or cancelled) scan: the files used, the files skipped, the pair graph and the groups."""

    options: ScanOptions
    files: list[ScannedFile]
    skipped: list[Skipped]
    graph: PairGraph
    groups: list[Group]
    cancelled: bool = False
    stats: ScanStats = field(default_factory=ScanStats)
    notices: list[str] = field(default_factory=list)

    def regroup(self, thresholds: Thresholds, policy: GroupPolicy | None = None) -> list[Group]:
        """Groups at another threshold, from the stored graph: no file is read again."""
        return self.graph.groups_at(thresholds, policy or self.options.policy)


@dataclass
class _Features:
    """Per-path hashes gathered from the cache and from fresh analysis. Embeddings stay in the cache until
    the search reads them into one store (``_embedding_matrix``): a bytes object per file would double them."""

    hashes: dict[Path, np.ndarray] = field(default_factory=dict)
    tones: dict[Path, bytes] = field(default_factory=dict)
    """``tone.TONE_SIZE`` bytes per file (``tone.tone``): a bytes object weighs a third of a small array."""


def uses_cnn(method: Method) -> bool:
    return method in (Method.CNN, Method.AUTO)


def scan(
    options: ScanOptions, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> ScanResult:
    """Run the whole pipeline. Raises ``NotADirectoryError``/``PermissionError`` for an unusable root.

    A cancelled scan returns what it has: groups among the files finished so far, with all of their
    features committed to the cache.
    """
    started = time.monotonic()
    cancel = cancel or CancelToken()
    check_roots(options.roots)
    refs, skipped = _discover(options, progress, cancel)
    stats = ScanStats(discovered=len(refs))
    features = _Features()
    versions = _versions(options.method)
    with FeatureCache(options.cache_path or paths.default_cache_path()) as cache:
        cnn_kind = _cnn_kind(versions)
        cached = cache.lookup(refs, versions, deferred=[cnn_kind] if cnn_kind else [])
        files, requests = _plan(options, refs, cached, skipped, features, versions)
        del cached  # the image facts and hashes it held now live in ``files`` and ``features``
        stats.from_cache = len(files)
        embedder = Embedder() if uses_cnn(options.method) and requests else None
        stats.provider = embedder.provider if embedder else None
        sink = _ResultSink(cache, features, embedder, versions)
        meter = StageMeter(progress, Stage.ANALYSE, len(requests))
        for analysis in analyse_all(requests, options.workers, cancel):
            if analysis.error is not None:
                skipped.append(Skipped(analysis.ref.path, analysis.error))
            else:
                files.append(ScannedFile(analysis.ref, analysis.digest, analysis.info))
            sink.add(analysis)
            meter.advance(current=str(analysis.ref.path))
        sink.flush()
        meter.finish()
        stats.analysed, stats.embedded = meter.done, sink.embedded
        if options.method is Method.EXACT:
            files.extend(ScannedFile(ref, None, None) for ref in _unique_sizes(refs))
        files.sort(key=lambda f: str(f.ref.path))
        skipped.sort(key=lambda s: str(s.path))
        graph = _graph(cache, files, features, options, versions, progress, cancel)
        notices = cache.notices
    groups = graph.groups_at(options.thresholds, options.policy)
    stats.elapsed_s = time.monotonic() - started
    return ScanResult(options, files, skipped, graph, groups, cancel.cancelled, stats, notices)


def _graph(
    cache: FeatureCache,
    files: list[ScannedFile],
    features: _Features,
    options: ScanOptions,
    versions: dict[str, int],
    progress: ProgressCallback | None,
    cancel: CancelToken,
) -> PairGraph:
    """The stored graph for exactly these files, else one built now (carrying over the last graph of the
    same settings) and stored."""
    scope = graph_scope(options, versions)
    key = graph_key(files, scope)
    stored = cache.load_graph(key)
    if stored is not None:
        return PairGraph.from_bytes(stored)
    meter = StageMeter(progress, Stage.SEARCH, None)
    previous = cache.latest_graph(scope)
    data = SearchInput(
        [f.digest for f in files],
        [features.hashes.get(f.ref.path) for f in files],
        _embedding_matrix(files, cache, versions) if uses_cnn(options.method) else None,
        cache.path.with_name(f"{cache.path.name}.knn"),
        _cnn_kind(versions) or "",
        [features.tones.get(f.ref.path) for f in files],
    )
    graph = build_graph(data, options.method, options.thresholds, PairGraph.from_bytes(previous) if previous else None)
    meter.finish()
    if not cancel.cancelled:
        cache.store_graph(key, scope, graph.to_bytes())
    return graph


def _embedding_matrix(
    files: list[ScannedFile], cache: FeatureCache, versions: dict[str, int]
) -> np.ndarray | Int8Vectors:
    """One row per file, read from the cache a chunk at a time (zeros where there is none): float16, or int8
    codes for a large collection."""
    kind = _cnn_kind(versions)
    store = vector_store(len(files), EMBEDDING_DIM)
    for lo in range(0, len(files), _FILL_CHUNK):
        chunk = [file.ref.path for file in files[lo : lo + _FILL_CHUNK]]
        found = cache.read(chunk, kind, versions[kind]) if kind else {}
        block = np.zeros((len(chunk), EMBEDDING_DIM), dtype=np.float32)
        for row, path in enumerate(chunk):
            if path in found:
                block[row] = np.frombuffer(found[path], dtype="<f2")
        store[lo : lo + len(block)] = block
    return store


def graph_scope(options: ScanOptions, versions: dict[str, int]) -> str:
    """Fingerprint of the settings a graph depends on; graphs of one scope can carry edges over."""
    settings = [options.method.value, max(MAX_HASH_DISTANCE, options.thresholds.hash_distance)]
    settings += [min(MIN_COSINE, options.thresholds.cosine), sorted(versions.items()), GRAPH_VERSION]
    return hashlib.sha256(json.dumps(settings).encode()).hexdigest()


def graph_key(files: list[ScannedFile], scope: str) -> str:
    """Fingerprint of everything the pair graph depends on: the settings and the files' identities.
    Equal keys mean an equal graph, so it can be reused instead of searched again."""
    digest = hashlib.sha256(scope.encode())
    for file in files:
        ref = file.ref
        digest.update(os.fsencode(ref.path) + b"\0" + f"{ref.size},{ref.mtime_ns},{ref.ino}\n".encode())
    return digest.hexdigest()


def _versions(method: Method) -> dict[str, int]:
    versions = {"info": DECODE_VERSION, "error": DECODE_VERSION, "hash": HASH_VERSION, "tone": TONE_VERSION}
    if uses_cnn(method):
        versions[f"cnn-{model_id()}"] = EMBEDDING_VERSION
    return versions


def _cnn_kind(versions: dict[str, int]) -> str | None:
    return next((kind for kind in versions if kind.startswith("cnn-")), None)


class _ResultSink:
    """Stores each analysis in the cache. Images for the CNN are batched, and a batch is embedded on a
    separate thread while this one keeps collecting decoded files, so decoding and inference overlap."""

    def __init__(
        self, cache: FeatureCache, features: _Features, embedder: Embedder | None, versions: dict[str, int]
    ) -> None:
        self._cache = cache
        self._features = features
        self._embedder = embedder
        self._cnn_kind = _cnn_kind(versions)
        self._batch: list[Analysis] = []
        self._running: tuple[list[Analysis], Future[np.ndarray]] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") if embedder else None
        self.embedded = 0

    def add(self, analysis: Analysis) -> None:
        if analysis.hashes is not None:
            self._features.hashes[analysis.ref.path] = analysis.hashes
        if analysis.tone is not None:
            self._features.tones[analysis.ref.path] = analysis.tone.tobytes()
        if self._embedder is not None and analysis.pixels is not None:
            self._batch.append(analysis)
            if len(self._batch) >= BATCH_SIZE:
                self._launch()
        else:
            self._store(analysis, {})

    def flush(self) -> None:
        """Embed what is left and store everything; call once, at the end."""
        self._launch()
        self._collect()
        if self._thread is not None:
            self._thread.shutdown()

    def _launch(self) -> None:
        """Start embedding the current batch; waits first for the previous one, so one batch is in flight."""
        self._collect()
        if not self._batch or self._thread is None or self._embedder is None:
            return
        images = np.stack([a.pixels for a in self._batch])
        self._running = (self._batch, self._thread.submit(self._embedder.embed, images))
        self._batch = []

    def _collect(self) -> None:
        if self._running is None or self._cnn_kind is None:
            return
        batch, future = self._running
        self._running = None
        for analysis, vector in zip(batch, future.result(), strict=True):
            packed = vector.astype("<f2").tobytes()  # float16 is ample for cosine similarity
            self._store(analysis, {self._cnn_kind: (EMBEDDING_VERSION, packed)})
        self.embedded += len(batch)

    def _store(self, analysis: Analysis, extra: dict[str, tuple[int, bytes]]) -> None:
        if analysis.error is not None:
            if analysis.lasting:
                error = {"error": (DECODE_VERSION, analysis.error.encode())}
                self._cache.store(analysis.ref, analysis.digest, error)
            return
        stored: dict[str, tuple[int, bytes]] = dict(extra)
        if analysis.info is not None:
            stored["info"] = (DECODE_VERSION, json.dumps(asdict(analysis.info)).encode())
        if analysis.hashes is not None:
            stored["hash"] = (HASH_VERSION, analysis.hashes.astype("<u8").tobytes())
        if analysis.tone is not None:
            stored["tone"] = (TONE_VERSION, analysis.tone.tobytes())
        self._cache.store(analysis.ref, analysis.digest, stored)


def _discover(
    options: ScanOptions, progress: ProgressCallback | None, cancel: CancelToken
) -> tuple[list[FileRef], list[Skipped]]:
    discovery = DiscoveryOptions(
        options.roots,
        options.exclude,
        options.include_hidden,
        options.follow_symlinks,
        options.min_size,
        tuple(path.absolute() for path in options.files),
    )
    meter = StageMeter(progress, Stage.DISCOVER, None)
    refs: list[FileRef] = []
    skipped: list[Skipped] = []
    for item in discover(discovery):
        if cancel.cancelled:
            break
        if isinstance(item, Skipped):
            skipped.append(item)
        else:
            refs.append(item)
            meter.advance(current=str(item.path))
    meter.finish()
    return refs, skipped


def _plan(
    options: ScanOptions,
    refs: list[FileRef],
    cached: dict[Path, CachedFile],
    skipped: list[Skipped],
    features: _Features,
    versions: dict[str, int],
) -> tuple[list[ScannedFile], list[AnalysisRequest]]:
    """Split files into those the cache answers (their features go to ``features``) and the work to do."""
    files: list[ScannedFile] = []
    requests: list[AnalysisRequest] = []
    if options.method is Method.EXACT:
        unique = set(_unique_sizes(refs))
        for ref in refs:
            if ref in unique:
                continue
            entry = cached.get(ref.path)
            if entry is not None and entry.digest is not None:
                files.append(ScannedFile(ref, entry.digest, None))
            else:
                requests.append(AnalysisRequest(ref, decode=False))
        return files, requests
    cnn_kind = _cnn_kind(versions)
    needed = {"info", "hash", "tone"} | ({cnn_kind} if cnn_kind else set())
    for ref in refs:
        entry = cached.get(ref.path)
        found = entry.features if entry is not None else {}
        if "error" in found:
            skipped.append(Skipped(ref.path, found["error"].decode()))
        elif entry is not None and entry.digest and needed <= found.keys():
            info = ImageInfo(**json.loads(found["info"]))
            refusal = size_refusal(info.width, info.height, options.max_megapixels)
            if refusal:  # decoded under a higher limit than this scan's
                skipped.append(Skipped(ref.path, refusal))
                continue
            files.append(ScannedFile(ref, entry.digest, info))
            features.hashes[ref.path] = np.frombuffer(found["hash"], dtype="<u8").reshape(2, -1).astype(np.uint64)
            features.tones[ref.path] = found["tone"]
        else:
            # an embedding is made again unless only the tone is missing (the working image is unchanged then)
            embed = cnn_kind is not None and needed - found.keys() != {"tone"}
            requests.append(AnalysisRequest(ref, max_megapixels=options.max_megapixels, pixels=embed))
    return files, requests


def _unique_sizes(refs: list[FileRef]) -> list[FileRef]:
    """Files whose size no other file has: they cannot have an identical copy."""
    counts = Counter(ref.size for ref in refs)
    return [ref for ref in refs if counts[ref.size] == 1]
