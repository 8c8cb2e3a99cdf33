"""The one place that composes the stages: files -> features (cached) -> search -> graph -> groups."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from dedup_gui.core import paths
from dedup_gui.core.analysis import DECODE_VERSION, Analysis, AnalysisRequest
from dedup_gui.core.cache import CachedFile, FeatureCache
from dedup_gui.core.decoding import DEFAULT_MAX_MEGAPIXELS
from dedup_gui.core.discovery import DiscoveryOptions, check_roots, discover
from dedup_gui.core.graph import MAX_HASH_DISTANCE, PairGraph, Thresholds
from dedup_gui.core.grouping import GroupPolicy
from dedup_gui.core.hamming_index import find_pairs
from dedup_gui.core.hashes import HASH_VERSION, hamming
from dedup_gui.core.model import FileRef, Group, ImageInfo, Method, ScannedFile, Skipped
from dedup_gui.core.progress import CancelToken, ProgressCallback, Stage, StageMeter
from dedup_gui.core.workers import analyse_all

_VERSIONS = {"info": DECODE_VERSION, "error": DECODE_VERSION, "hash": HASH_VERSION}


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


@dataclass
class ScanStats:
    """Counts that tell where the time went."""

    discovered: int = 0
    analysed: int = 0
    from_cache: int = 0
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
    with FeatureCache(options.cache_path or paths.default_cache_path()) as cache:
        cached = cache.lookup(refs, _VERSIONS)
        hashes: dict[Path, np.ndarray] = {}
        files, requests = _plan(options, refs, cached, skipped, hashes)
        stats.from_cache = len(files)
        meter = StageMeter(progress, Stage.ANALYSE, len(requests))
        for analysis in analyse_all(requests, options.workers, cancel):
            _store(cache, analysis)
            if analysis.error is not None:
                skipped.append(Skipped(analysis.ref.path, analysis.error))
            else:
                files.append(ScannedFile(analysis.ref, analysis.digest, analysis.info))
                if analysis.hashes is not None:
                    hashes[analysis.ref.path] = analysis.hashes
            meter.advance(current=str(analysis.ref.path))
        meter.finish()
        stats.analysed = meter.done
        notices = cache.notices
    if options.method is Method.EXACT:
        files.extend(ScannedFile(ref, None, None) for ref in _unique_sizes(refs))
    files.sort(key=lambda f: str(f.ref.path))
    skipped.sort(key=lambda s: str(s.path))
    graph = _build_graph(files, hashes, options, progress)
    groups = graph.groups_at(options.thresholds, options.policy)
    stats.elapsed_s = time.monotonic() - started
    return ScanResult(options, files, skipped, graph, groups, cancel.cancelled, stats, notices)


def _discover(
    options: ScanOptions, progress: ProgressCallback | None, cancel: CancelToken
) -> tuple[list[FileRef], list[Skipped]]:
    discovery = DiscoveryOptions(
        options.roots, options.exclude, options.include_hidden, options.follow_symlinks, options.min_size
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
    hashes: dict[Path, np.ndarray],
) -> tuple[list[ScannedFile], list[AnalysisRequest]]:
    """Split files into those the cache answers (their hashes go to ``hashes``) and the work still to do."""
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
    for ref in refs:
        entry = cached.get(ref.path)
        features = entry.features if entry is not None else {}
        if "error" in features:
            skipped.append(Skipped(ref.path, features["error"].decode()))
        elif entry is not None and entry.digest and "info" in features and "hash" in features:
            files.append(ScannedFile(ref, entry.digest, ImageInfo(**json.loads(features["info"]))))
            hashes[ref.path] = np.frombuffer(features["hash"], dtype="<u8").reshape(2, -1).astype(np.uint64)
        else:
            requests.append(AnalysisRequest(ref, max_megapixels=options.max_megapixels))
    return files, requests


def _unique_sizes(refs: list[FileRef]) -> list[FileRef]:
    """Files whose size no other file has: they cannot have an identical copy."""
    counts = Counter(ref.size for ref in refs)
    return [ref for ref in refs if counts[ref.size] == 1]


def _store(cache: FeatureCache, analysis: Analysis) -> None:
    if analysis.error is not None:
        if analysis.lasting:
            cache.store(analysis.ref, analysis.digest, {"error": (DECODE_VERSION, analysis.error.encode())})
        return
    features: dict[str, tuple[int, bytes]] = {}
    if analysis.info is not None:
        features["info"] = (DECODE_VERSION, json.dumps(asdict(analysis.info)).encode())
    if analysis.hashes is not None:
        features["hash"] = (HASH_VERSION, analysis.hashes.astype("<u8").tobytes())
    cache.store(analysis.ref, analysis.digest, features)


def _build_graph(
    files: list[ScannedFile],
    hashes: dict[Path, np.ndarray],
    options: ScanOptions,
    progress: ProgressCallback | None,
) -> PairGraph:
    """Collapse identical files onto one representative, then search near-duplicate pairs among those."""
    meter = StageMeter(progress, Stage.SEARCH, None)
    first_with_digest: dict[str, int] = {}
    representative = np.arange(len(files), dtype=np.int64)
    for index, file in enumerate(files):
        if file.digest is not None:
            representative[index] = first_with_digest.setdefault(file.digest, index)
    reps = np.array(
        [i for i, f in enumerate(files) if representative[i] == i and f.ref.path in hashes], dtype=np.int64
    )
    if options.method is Method.EXACT or len(reps) < 2:
        empty = np.empty(0, dtype=np.int64)
        small = empty.astype(np.int16)
        meter.finish()
        return PairGraph.build(representative, empty, empty, small, small, empty.astype(np.int8))
    table = np.stack([hashes[files[i].ref.path] for i in reps])  # (R, 2, 8): pHash and dHash per variant
    radius = max(MAX_HASH_DISTANCE, options.thresholds.hash_distance)
    found = find_pairs(table[:, 0, 0], table[:, 0, :], radius)
    dhash = np.minimum(
        hamming(table[found.a, 1, found.variant], table[found.b, 1, 0]),
        hamming(table[found.b, 1, found.variant], table[found.a, 1, 0]),
    )
    meter.finish()
    return PairGraph.build(representative, reps[found.a], reps[found.b], found.distance, dhash, found.variant)
