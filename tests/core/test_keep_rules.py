"""Keep rules: the first rule that tells the files apart decides, later ones break ties, reasons say why, and
a group always keeps a file (every file in a reference folder, too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup_gui.core import keep_rules
from dedup_gui.core.keep_rules import DEFAULT_RULES, Criterion, FileRecord, Rule, choose, decide
from dedup_gui.core.model import FileRef, ImageInfo, ScannedFile


def rec(
    path: str,
    size: int = 1000,
    width: int | None = 100,
    height: int | None = 100,
    date: str | None = None,
    modified_s: float = 0,
) -> FileRecord:
    return FileRecord(Path(path), size, int(modified_s * 1e9), "d", width, height, date)


def test_highest_resolution_wins_with_a_reason() -> None:
    files = [rec("/p/small.jpg", size=9000, width=1024, height=768), rec("/p/big.jpg", width=4032, height=3024)]
    choice = choose(files)
    assert choice.index == 1 and choice.reason == "largest resolution 4032x3024"
    verdicts = decide(files)
    assert [v.keep for v in verdicts] == [False, True]
    assert verdicts[0].reason == "lower resolution 1024x768; keeping big.jpg"


def test_a_reference_folder_comes_first_by_default_and_its_files_are_all_kept() -> None:
    files = [rec("/p/big.jpg", width=4000, height=3000), rec("/ref/a.jpg"), rec("/ref/b.jpg")]
    verdicts = decide(files, DEFAULT_RULES, [Path("/ref")])
    assert [v.keep for v in verdicts] == [False, True, True]
    assert verdicts[1].reason == "in a reference folder" and verdicts[2].reason == "in a reference folder"
    assert "not in a reference folder" in verdicts[0].reason


def test_ties_fall_through_to_the_next_rule() -> None:
    files = [rec("/p/a.jpg", size=10), rec("/p/b.jpg", size=30), rec("/p/c.jpg", size=20)]
    assert choose(files).file.path == Path("/p/b.jpg") and choose(files).reason == "largest file 30 B"


def test_a_camera_raw_file_is_kept_over_the_jpeg_written_beside_it() -> None:
    jpeg = rec("/p/DSC_0001.JPG", size=9_000_000, width=6000, height=4000, date="2024:05:01 10:00:00")
    raw = rec("/p/DSC_0001.NEF", size=25_000_000, width=6016, height=4016, date="2024:05:01 10:00:00")
    verdicts = decide([jpeg, raw])
    assert [v.keep for v in verdicts] == [False, True]
    assert verdicts[1].reason == "camera RAW file (NEF)"
    assert verdicts[0].reason == "not a camera RAW file; keeping DSC_0001.NEF"


def test_a_copy_padded_with_bands_loses_to_its_picture_despite_more_pixels() -> None:
    original = rec("/p/b/photo.jpg", size=90_000, width=600, height=400)
    padded = FileRecord(Path("/p/a/photo_square.jpg"), 95_000, 0, "d", 600, 600, None, border=0.333)
    verdicts = decide([padded, original])
    assert [v.keep for v in verdicts] == [False, True]
    assert verdicts[0].reason == "33% of it is added border; keeping photo.jpg"
    upscaled = FileRecord(Path("/p/a/photo_big.jpg"), 95_000, 0, "d", 1200, 1200, None, border=0.333)
    assert decide([upscaled, original])[1].reason.startswith("lower resolution 600x400;")
    assert choose([upscaled, original]).reason == "largest resolution 1200x1200 (0.96 MP inside added bands)"
    smaller = rec("/p/a/photo_small.jpg", size=99_000, width=600, height=380)  # 5 % fewer pixels: still lower
    assert choose([smaller, original]).file.path == original.path


def test_files_of_one_pixel_size_have_one_resolution_whatever_their_bands() -> None:
    """A product shot on white has "bands" all round; a watermark printed on the white narrows them, and must not
    make the watermarked copy the one with more picture."""
    clean = FileRecord(Path("/p/shop/mug.jpg"), 80_000, 1 * 10**18, "a", 1200, 1200, None, border=0.52)
    marked = FileRecord(Path("/p/shop/mug_wm.jpg"), 90_000, 2 * 10**18, "b", 1200, 1200, None, border=0.35)
    choice = choose([marked, clean])
    assert choice.file.path == clean.path and choice.reason.startswith("modified earliest")
    thumbnail = FileRecord(Path("/p/shop/mug_400.jpg"), 20_000, 0, "c", 400, 400, None, border=0.35)
    assert choose([thumbnail, marked, clean]).file.path == clean.path  # the thumbnail loses on resolution


def test_file_size_compares_files_of_one_format_only() -> None:
    jpeg = rec("/p/item.jpg", size=40_000)
    png = rec("/p/item resaved.png", size=400_000)  # a lossless re-save weighs more and shows no more
    assert choose([png, jpeg]).reason == "shortest path"
    bigger = rec("/p/item q95.JPEG", size=90_000)  # .JPEG and .jpg are one format: size decides
    assert choose([jpeg, bigger]).file.path == bigger.path
    web = rec("/p/a.jpg", size=3_000)  # beside a PNG, a small JPEG still loses to the larger JPEG
    assert choose([web, png, bigger]).file.path == bigger.path


def test_oldest_date_taken_and_unknown_dates_rank_last() -> None:
    files = [
        rec("/p/a.jpg", date=None),
        rec("/p/b.jpg", date="2021:07:04 12:00:00"),
        rec("/p/c.jpg", date="2019:01:02 08:00:00"),
        rec("/p/d.jpg", date="0000:00:00 00:00:00"),
    ]
    choice = choose(files)
    assert choice.file.path == Path("/p/c.jpg") and choice.reason == "oldest date taken 2019:01:02 08:00:00"


def test_an_edit_saved_later_loses_to_its_original_even_when_it_weighs_more() -> None:
    original = rec("/p/rocket.jpg", size=45_000, date="2020:05:01 09:00:00", modified_s=1_600_000_000)
    mirrored = rec("/p/rocket_mirrored.jpg", size=49_000, date="2020:05:01 09:00:00", modified_s=1_700_000_000)
    verdicts = decide([mirrored, original])
    assert [v.keep for v in verdicts] == [False, True]
    assert verdicts[0].reason.startswith("modified later, 2023-11-")
    assert choose([mirrored, original]).reason.startswith("modified earliest, 2020-09-")


def test_modification_times_within_two_seconds_tie_and_size_decides() -> None:
    files = [rec("/p/a.jpg", size=10, modified_s=100.0), rec("/p/b.jpg", size=30, modified_s=101.5)]
    assert choose(files).file.path == Path("/p/b.jpg") and choose(files).reason == "largest file 30 B"


def test_shortest_path_then_name_order_make_the_choice_deterministic() -> None:
    files = [rec("/p/deep/er/a.jpg"), rec("/p/b.jpg"), rec("/p/a.jpg")]
    assert choose(files).file.path == Path("/p/a.jpg")  # /p/a.jpg and /p/b.jpg tie on length: name order
    assert choose(list(reversed(files))).file.path == Path("/p/a.jpg")
    assert choose([rec("/p/x.jpg")]).reason.startswith("first by name")


def test_preferred_folder_and_copy_markers_when_enabled() -> None:
    files = [rec("/p/a.jpg"), rec("/q/a (1).jpg")]
    rules = [Rule(Criterion.PREFERRED_FOLDER, True, Path("/q")), Rule(Criterion.NO_COPY_MARKER)]
    assert choose(files, rules).file.path == Path("/q/a (1).jpg")
    assert choose(files, rules).reason == "in the preferred folder /q"
    assert choose(files, [Rule(Criterion.NO_COPY_MARKER)]).file.path == Path("/p/a.jpg")
    disabled = [Rule(Criterion.PREFERRED_FOLDER, False, Path("/q")), Rule(Criterion.SHORTEST_PATH)]
    assert choose(files, disabled).file.path == Path("/p/a.jpg")
    assert choose(files, [Rule(Criterion.PREFERRED_FOLDER)]).reason.startswith("first by name")  # no folder: inert


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("IMG_1234.jpg", None),
        ("a copy.jpg", "copy"),
        ("a - Copy.jpg", "Copy"),
        ("a - Copy (2).jpg", "Copy"),
        ("Copy of a.jpg", "Copy"),
        ("a_copy.jpg", "copy"),
        ("a (1).jpg", "(1)"),
        ("a-edited.jpg", "edited"),
        ("copyright.jpg", None),
        ("photocopy.jpg", None),
    ],
)
def test_copy_markers(name: str, marker: str | None) -> None:
    assert keep_rules.copy_marker(Path(name)) == marker


def test_at_least_one_file_is_always_kept() -> None:
    same = [rec("/p/a.jpg"), rec("/p/b.jpg")]
    for rules in ([], [Rule(c, False) for c in Criterion], DEFAULT_RULES):
        verdicts = decide(same, rules)
        assert sum(v.keep for v in verdicts) == 1
    assert decide([]) == []
    with pytest.raises(ValueError):
        choose([])


def test_works_on_scanned_files_as_the_window_has_them() -> None:
    def scanned(path: str, width: int) -> ScannedFile:
        return ScannedFile(
            FileRef(Path(path), 10, 5, 1, 2), "dd", ImageInfo(width, width, "JPEG", "2020:01:01 00:00:00")
        )

    verdicts = decide([scanned("/p/a.jpg", 100), scanned("/p/b.jpg", 200)], DEFAULT_RULES, ())
    assert [v.keep for v in verdicts] == [False, True]
    record = keep_rules.as_record(scanned("/p/a.jpg", 100))
    assert (record.size, record.mtime_ns, record.dev, record.ino, record.digest) == (10, 5, 1, 2, "dd")


def test_records_from_the_result_file() -> None:
    member = {"path": "/p/a.jpg", "size": 3, "mtime_ns": 7, "digest": "ab", "width": 4, "height": 5, "date_taken": None}
    assert FileRecord.from_json(member) == FileRecord(Path("/p/a.jpg"), 3, 7, "ab", 4, 5, None)
    assert FileRecord.from_json({"path": "/p/b.jpg", "size": 3, "mtime_ns": 7, "digest": None}).width is None
    padded = {"path": "/p/c.jpg", "size": 3, "mtime_ns": 7, "digest": "cd", "border": 0.25}
    assert FileRecord.from_json(padded).border == 0.25  # apply weighs added bands as the window does


def test_the_defaults_hold_every_criterion_once_and_describe_reads_well() -> None:
    assert sorted(r.criterion.value for r in DEFAULT_RULES) == sorted(c.value for c in Criterion)
    assert [r.criterion for r in DEFAULT_RULES if r.enabled] == [
        Criterion.REFERENCE_FOLDER,
        Criterion.CAMERA_RAW,
        Criterion.HIGHEST_RESOLUTION,
        Criterion.OLDEST_DATE,
        Criterion.EARLIEST_MODIFIED,
        Criterion.NO_ADDED_BORDER,
        Criterion.LARGEST_FILE,
        Criterion.SHORTEST_PATH,
    ]
    assert (
        keep_rules.describe(Rule(Criterion.PREFERRED_FOLDER, True, Path("/q")))
        == "Keep files in the preferred folder: /q"
    )
    assert "choose a folder" in keep_rules.describe(Rule(Criterion.PREFERRED_FOLDER))
