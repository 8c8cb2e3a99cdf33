"""Build the one-folder app (dist/dedup-gui/) with PyInstaller and smoke-test the result headless.

    python3 packaging/build_app.py               # build venv if missing, build, smoke test, summary
    python3 packaging/build_app.py --skip-build  # smoke-test an existing dist/dedup-gui

The build runs in its own venv (``--venv``, made when missing) holding the app's dependencies, PyInstaller, and
nothing from the dev venv's extras, so the bundle cannot pick up test or benchmark packages. This script starts
in any Python 3.11+ and re-runs itself inside that venv, whose numpy and Pillow also make the test images.

The smoke test: ``--version``; a CLI scan of a generated folder (expected groups, the bundled model on
onnxruntime's CPU provider, decoding workers seen running inside the frozen app); the window started on Qt's
offscreen platform (and on xcb under Xvfb, on Wayland under a headless Weston, when installed), then stopped;
``ldd`` on every bundled library. It exits non-zero with the reason when a check fails, and prints the bundle
size and start-up times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "packaging" / "dedup_gui.spec"
PYINSTALLER = "pyinstaller>=6.10,<7"  # the spec relies on 6.x's TOC layout (SYMLINK entries in datas)
APP_NAME = "dedup-gui"
IN_VENV_FLAG = "--in-build-venv"
WORKER_MARK = b"--multiprocessing-fork"
SCAN_COSINE = 0.92
"""The smoke scan's CNN threshold. Distinct generated scenes (tests/imagegen.py) reach cosine 0.88 with each other
(0.75-0.88: the default 0.75 groups most of them, in the frozen and the installed app alike); the copies made
here score 0.95 or more."""
PHASH_LIBRARY = "pypocketfft"
"""Mapped into a process on its first pHash (imagehash imports scipy.fftpack inside ``phash``): a worker that has
it loaded has analysed at least one image."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=REPO / "build" / "freeze-venv", help="build venv, made if missing")
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="where dedup-gui/ is built (default: dist)")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "pyinstaller", help="PyInstaller's work folder")
    parser.add_argument("--skip-build", action="store_true", help="smoke-test the app already in --dist")
    parser.add_argument("--repeat", type=int, default=3, help="start-up timings taken this many times (default 3)")
    parser.add_argument(IN_VENV_FLAG, action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not args.in_build_venv:
        python = ensure_venv(args.venv.resolve(), install=not args.skip_build)
        command = [str(python), str(Path(__file__).resolve()), *argv, IN_VENV_FLAG]
        return subprocess.run(command).returncode
    app = args.dist.resolve() / APP_NAME
    warnings: list[str] = []
    if not args.skip_build:
        warnings = build(args.dist.resolve(), args.work.resolve())
    elif not executable(app).is_file():
        print(f"build_app: no app at {app}: build it first (without --skip-build)", file=sys.stderr)
        return 1
    report = smoke_test(app, max(1, args.repeat))
    report.print(warnings)
    return 0 if report.passed else 1


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(venv: Path, install: bool) -> Path:
    """The build venv's Python; the venv is made when missing, and the app (editable, so the bundle is built from
    this checkout) and PyInstaller are installed when it is new or a build is coming."""
    python = venv_python(venv)
    fresh = not python.exists()
    if fresh:
        print(f"build_app: making the build venv {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if fresh or install:
        print("build_app: installing dedup-gui (editable) and PyInstaller into the build venv", flush=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-e", str(REPO), PYINSTALLER], check=True)
    return python


def build(dist: Path, work: Path) -> list[str]:
    """Run PyInstaller on the spec; returns its warnings. The full log is kept in the work folder."""
    work.mkdir(parents=True, exist_ok=True)
    log = work / "pyinstaller.log"
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        str(SPEC),
    ]
    print(f"build_app: building {dist / APP_NAME} (log: {log})", flush=True)
    started = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    text = log.read_text(errors="replace")
    if result.returncode != 0:
        print(text[-4000:], file=sys.stderr)
        raise SystemExit(f"build_app: PyInstaller failed (exit {result.returncode}); log: {log}")
    print(f"build_app: built in {time.monotonic() - started:.0f} s", flush=True)
    return [line.split("WARNING: ", 1)[1] for line in text.splitlines() if "WARNING: " in line]


def executable(app: Path) -> Path:
    return app / (APP_NAME + ".exe" if os.name == "nt" else APP_NAME)


@dataclass
class Report:
    """Checks (name, "ok" / "FAIL" / "skip", detail) and measured figures (name, text)."""

    checks: list[tuple[str, str, str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(status != "FAIL" for _, status, _ in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append((name, "ok" if ok else "FAIL", detail))
        return ok

    def skip(self, name: str, reason: str) -> None:
        self.checks.append((name, "skip", reason))

    def print(self, warnings: list[str]) -> None:
        if warnings:
            print(f"\nPyInstaller warnings ({len(warnings)}):")
            for line in warnings:
                print(f"  {line}")
        width = max(len(name) for name, _ in [*self.figures, *((n, "") for n, _, _ in self.checks)])
        print("\nSmoke test")
        for name, status, detail in self.checks:
            print(f"  {name:<{width}}  {status:<4}  {detail}")
        print("\nFigures (wall-clock; noisy on a shared machine)")
        for name, text in self.figures:
            print(f"  {name:<{width}}  {text}")
        print("\nsmoke test passed" if self.passed else "\nsmoke test FAILED")


def smoke_test(app: Path, repeat: int) -> Report:
    report = Report()
    exe = executable(app)
    size, files = bundle_size(app)
    report.figures.append(("bundle size", f"{size / 2**20:.0f} MiB on disk, {files} files ({app})"))
    with tempfile.TemporaryDirectory(prefix="dedup-gui-smoke-") as temp:
        root = Path(temp)
        check_version(exe, root, repeat, report)
        check_scan(exe, root, report)
        check_window(exe, root, repeat, report)
        check_window_on_x11(exe, root, report)
        check_window_on_wayland(exe, root, report)
    check_libraries(app, report)
    return report


def bundle_size(app: Path) -> tuple[int, int]:
    """Disk use (as ``du`` counts it, apparent size where blocks are unknown) and number of files."""
    total = files = 0
    for folder, _, names in os.walk(app):
        for name in names:
            info = os.lstat(os.path.join(folder, name))
            total += getattr(info, "st_blocks", 0) * 512 or info.st_size
            files += 1
    return total, files


def isolated_env(root: Path, label: str) -> dict[str, str]:
    """The environment for one run: every folder the app writes to (log, cache, data, settings) under root."""
    base = root / label
    env = dict(os.environ)
    for variable, name in (
        ("DEDUP_GUI_LOG_DIR", "log"),
        ("DEDUP_GUI_CACHE_DIR", "cache"),
        ("DEDUP_GUI_DATA_DIR", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "share"),
        ("XDG_CACHE_HOME", "xdg-cache"),
    ):
        (base / name).mkdir(parents=True, exist_ok=True)
        env[variable] = str(base / name)
    return env


def check_version(exe: Path, root: Path, repeat: int, report: Report) -> None:
    expected = f"{APP_NAME} {app_version()}"
    times: list[float] = []
    for attempt in range(repeat):
        started = time.monotonic()
        result = subprocess.run(
            [exe, "--version"],
            capture_output=True,
            text=True,
            cwd=root,
            timeout=60,
            env=isolated_env(root, f"version-{attempt}"),
        )
        times.append(time.monotonic() - started)
        output = result.stdout.strip()
        if result.returncode != 0 or output != expected:
            report.check("--version", False, f"exit {result.returncode}, printed {output!r} {result.stderr[-500:]!r}")
            return
    report.check("--version", True, expected)
    report.figures.append(("start-up, --version", timing(times)))


def app_version() -> str:
    text = (REPO / "dedup_gui" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    assert match, "no __version__ in dedup_gui/__init__.py"
    return match.group(1)


def timing(times: list[float]) -> str:
    listed = ", ".join(f"{t:.2f}" for t in times)
    return f"median {statistics.median(times):.2f} s of {len(times)} ({listed} s)"


def check_scan(exe: Path, root: Path, report: Report) -> None:
    folder = root / "photos"
    expected = make_scan_folder(folder)
    count = sum(1 for _ in folder.rglob("*.jpg"))
    output = root / "scan.json"
    env = isolated_env(root, "scan")
    started = time.monotonic()
    with output.open("w") as stdout, (root / "scan.stderr").open("w") as stderr:
        command = [exe, "scan", str(folder), "--quiet", "--cosine", str(SCAN_COSINE)]
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=root, env=env)
        workers = watch_workers(process, timeout_s=300)
    elapsed = time.monotonic() - started
    errors = (root / "scan.stderr").read_text(errors="replace")[-1000:]
    ran = process.returncode == 0
    if not report.check("CLI scan runs", ran, f"exit {process.returncode}" + ("" if ran else f"; stderr: {errors}")):
        return
    result = json.loads(output.read_text())
    summary = result["summary"]
    found = {frozenset(Path(m["path"]).relative_to(folder).as_posix() for m in g["members"]) for g in result["groups"]}
    report.check(
        "scan: groups",
        found == expected,
        f"{len(found)} groups as expected"
        if found == expected
        else f"missing {sorted(map(sorted, expected - found))}, unexpected {sorted(map(sorted, found - expected))}",
    )
    counts_ok = summary["files"] == count and summary["embedded"] == count and summary["skipped"] == 0
    report.check(
        "scan: every file decoded and embedded",
        counts_ok,
        f"{count} JPEGs; files {summary['files']}, embedded {summary['embedded']}, skipped {summary['skipped']}",
    )
    report.check(
        "scan: model on onnxruntime", summary["provider"] == "CPUExecutionProvider", f"provider {summary['provider']!r}"
    )
    if workers is None:
        report.skip("scan: decoding workers", "no /proc on this platform")
    else:
        seen, analysed = workers
        report.check(
            "scan: decoding workers",
            analysed > 0,
            f"{seen} worker processes of the frozen app seen, {analysed} of them computed pHashes",
        )
    report.figures.append(
        (
            f"CLI scan, {count} JPEGs, cold cache",
            f"{elapsed:.2f} s wall, {summary.get('elapsed_s', '?')} s by the app's own count",
        )
    )


def make_scan_folder(folder: Path) -> set[frozenset[str]]:
    """Generated photos, the bundled sample photos, and copies of a few of each (byte copy, resized, re-encoded);
    returns the groups a scan must find, as sets of paths relative to folder."""
    sys.path.insert(0, str(REPO))
    from PIL import Image

    from tests.imagegen import photo_like, reencode_jpeg, resized

    photos, samples, copies = folder / "generated", folder / "samples", folder / "copies"
    for path in (photos, samples, copies):
        path.mkdir(parents=True)
    for seed in range(36):
        photo_like(seed, (960, 720)).save(photos / f"photo_{seed:02d}.jpg", quality=90)
    for sample in sorted((REPO / "resources" / "samples").glob("*.jpg")):
        shutil.copyfile(sample, samples / sample.name)
    shutil.copyfile(photos / "photo_00.jpg", copies / "photo_00 copy.jpg")
    edits: list[tuple[Path, str, Callable[[Image.Image], Image.Image], int]] = [
        (photos / "photo_01.jpg", "photo_01_small.jpg", lambda img: resized(img, 0.5), 80),
        (photos / "photo_02.jpg", "photo_02_q50.jpg", lambda img: reencode_jpeg(img, 50), 90),
        (photos / "photo_02.jpg", "photo_02_thumb.jpg", lambda img: resized(img, 0.35), 85),
        (samples / "astronaut.jpg", "astronaut_half.jpg", lambda img: resized(img, 0.5), 80),
        (samples / "coffee.jpg", "coffee_q40.jpg", lambda img: img, 40),
    ]
    for source, name, edit, quality in edits:
        with Image.open(source) as img:
            edit(img.convert("RGB")).save(copies / name, quality=quality)
    return {
        frozenset({"generated/photo_00.jpg", "copies/photo_00 copy.jpg"}),
        frozenset({"generated/photo_01.jpg", "copies/photo_01_small.jpg"}),
        frozenset({"generated/photo_02.jpg", "copies/photo_02_q50.jpg", "copies/photo_02_thumb.jpg"}),
        frozenset({"samples/astronaut.jpg", "copies/astronaut_half.jpg"}),
        frozenset({"samples/coffee.jpg", "copies/coffee_q40.jpg"}),
    }


def watch_workers(process: subprocess.Popen, timeout_s: float) -> tuple[int, int] | None:
    """Wait for process; meanwhile note its worker processes (the frozen executable started with
    ``--multiprocessing-fork``) and which of them loaded the pHash library. None where there is no /proc.

    A scan gives the same result when its worker pool cannot start (it falls back to decoding in-process), so
    the result alone does not show that multiprocessing works in the frozen app; a worker that computed a
    pHash does.
    """
    proc = Path("/proc")
    if not (proc / "self" / "maps").exists():
        process.wait(timeout=timeout_s)
        return None
    workers: set[int] = set()
    analysed: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            break
        for pid in child_pids(process.pid):
            try:
                if WORKER_MARK not in (proc / str(pid) / "cmdline").read_bytes():
                    continue
                workers.add(pid)
                if pid not in analysed and PHASH_LIBRARY in (proc / str(pid) / "maps").read_text():
                    analysed.add(pid)
            except OSError:
                continue  # it ended between the listing and the read
        time.sleep(0.05)
    return len(workers), len(analysed)


def child_pids(parent: int) -> list[int]:
    children = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:  # field 4, after the parenthesised command name
            children.append(int(entry.name))
    return children


def check_window(
    exe: Path,
    root: Path,
    repeat: int,
    report: Report,
    platform: str = "offscreen",
    server: dict[str, str] | None = None,
) -> None:
    """Start the window on a Qt platform (``server``: the variables that name its display server), wait for the
    log line that says it is shown, then stop it."""
    line = f"window open on the {platform} platform"
    times: list[float] = []
    for attempt in range(repeat):
        env = isolated_env(root, f"window-{platform}-{attempt}")
        env["QT_QPA_PLATFORM"] = platform
        env.update(server or {})
        log = Path(env["DEDUP_GUI_LOG_DIR"]) / "dedup-gui.log"
        stderr_path = root / f"window-{platform}-{attempt}.stderr"
        with stderr_path.open("w") as stderr:
            started = time.monotonic()
            process = subprocess.Popen([exe], stdout=stderr, stderr=stderr, cwd=root, env=env)
            shown = wait_for_line(log, line, process, timeout_s=120)
            if shown:
                times.append(time.monotonic() - started)
            stopped = stop(process)
        text = log.read_text(errors="replace") if log.exists() else ""
        errors = stderr_path.read_text(errors="replace")
        problems = [word for word in ("unexpected error", "CRITICAL", "Traceback") if word in text + errors]
        if not shown:
            report.check(
                f"window opens ({platform})",
                False,
                f"no {line!r} in {log} (exit {process.returncode}); stderr: {errors[-1000:]!r}",
            )
            return
        if not stopped or problems:
            report.check(
                f"window stops ({platform})",
                False,
                f"still running after SIGTERM: {not stopped}; in log/stderr: {problems}",
            )
            return
    report.check(f"window opens ({platform})", True, f"{line!r} logged, {repeat} start(s)")
    report.check(f"window stops ({platform})", True, "ended on SIGTERM, no error in log or stderr")
    report.figures.append((f"start-up, window shown ({platform})", timing(times)))


def check_window_on_x11(exe: Path, root: Path, report: Report) -> None:
    """The window on the xcb plugin (what X11 and XWayland desktops load), on a private Xvfb server when there
    is one; the offscreen check alone would not notice a missing xcb library."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None or not sys.platform.startswith("linux"):
        report.skip("window opens (xcb)", "no Xvfb")
        return
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as numbers:
            number = numbers.readline().strip()  # Xvfb writes its display number once it accepts clients
        if not number:
            report.check("window opens (xcb)", False, f"Xvfb did not start (exit {server.poll()})")
            return
        check_window(exe, root, 1, report, platform="xcb", server={"DISPLAY": f":{number}"})
    finally:
        server.terminate()
        server.wait(timeout=10)


def check_window_on_wayland(exe: Path, root: Path, report: Report) -> None:
    """The window on the native Wayland plugin, on a private headless Weston compositor when there is one."""
    weston = shutil.which("weston")
    if weston is None or not sys.platform.startswith("linux"):
        report.skip("window opens (wayland)", "no weston")
        return
    runtime = root / "wayland-runtime"
    runtime.mkdir(mode=0o700)
    socket = "dedup-gui-smoke"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
    with (root / "weston.log").open("w") as log:
        compositor = subprocess.Popen(
            [weston, "--backend=headless-backend.so", f"--socket={socket}", "--idle-time=0"],
            stdout=log,
            stderr=log,
            env=env,
        )
    try:
        deadline = time.monotonic() + 30
        while not (runtime / socket).exists() and compositor.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if not (runtime / socket).exists():
            report.check("window opens (wayland)", False, f"weston did not start (exit {compositor.poll()})")
            return
        server = {"WAYLAND_DISPLAY": socket, "XDG_RUNTIME_DIR": str(runtime)}
        check_window(exe, root, 1, report, platform="wayland", server=server)
    finally:
        compositor.terminate()
        compositor.wait(timeout=10)


def check_libraries(app: Path, report: Report) -> None:
    """Every bundled shared library finds the libraries it links, in the bundle or the system, as it will at run
    time (the bootloader puts the bundle folder on LD_LIBRARY_PATH). The spec drops libraries that only unused
    Qt plugins needed; this shows it dropped no more, including for plugins the smoke test does not load."""
    ldd = shutil.which("ldd")
    if ldd is None or not sys.platform.startswith("linux"):
        report.skip("bundled libraries resolve", "no ldd")
        return
    internal = app / "_internal"
    env = dict(os.environ, LD_LIBRARY_PATH=str(internal))
    libraries = [p for p in internal.rglob("*.so*") if p.is_file() and not p.is_symlink()]
    missing = []
    for library in libraries:
        result = subprocess.run([ldd, str(library)], capture_output=True, text=True, env=env)
        missing += [
            f"{library.relative_to(internal)}: {line.strip()}"
            for line in result.stdout.splitlines()
            if "not found" in line
        ]
    report.check(
        "bundled libraries resolve",
        not missing,
        f"{len(libraries)} libraries checked with ldd" if not missing else "; ".join(missing[:10]),
    )


def wait_for_line(log: Path, line: str, process: subprocess.Popen, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and line in log.read_text(errors="replace"):
            return True
        time.sleep(0.01)
    return log.exists() and line in log.read_text(errors="replace")


def stop(process: subprocess.Popen) -> bool:
    """SIGTERM (TerminateProcess on Windows), then wait; True if it ended within 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
