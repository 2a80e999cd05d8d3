"""Thumbnail of a 12 MP phone photo: ``media_store.images.thumbnail`` against Pillow's baselines.

    .venv/bin/python benchmarks/media_thumbnail.py [--rounds 15] [--size 4000x3000] [--json out.json]

The photo is generated once (Pillow, Gaussian noise over a gradient so it compresses like a real one,
quality 92, EXIF orientation 6 as a phone writes for a portrait shot). Every variant turns the same
file into a 320 px JPEG (quality 80):

* ``images.thumbnail`` – open → draft("RGB", 320) → thumbnail → exif_transpose → JPEG;
* ``draft baseline``   – open → draft("RGB", 320) → thumbnail → JPEG (no orientation fix);
* ``naive``            – open → full decode → exif_transpose → thumbnail → JPEG.

The variants run in interleaved rounds (each once per round, after a warm-up); a time is the median
over rounds and a ratio the median of the per-round ratios. Target: ≤ 1.2× the draft baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import ExifTags, Image, ImageOps

from benchmarks.common import log, machine, table, write_json
from media_store import images

SIDE = 320
TARGET = 1.2


def make_photo(path: Path, width: int, height: int) -> None:
    noise = [Image.effect_noise((width, height), 40) for _ in range(3)]
    gradient = Image.linear_gradient("L").resize((width, height))
    channels = [Image.blend(n, gradient, 0.5) for n in noise]
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Benchmark"
    Image.merge("RGB", channels).save(path, "JPEG", quality=92, exif=exif)


def ours(path: Path) -> bytes:
    return images.thumbnail(path, SIDE)


def draft_baseline(path: Path) -> bytes:
    with Image.open(path) as img:
        img.draft("RGB", (SIDE, SIDE))
        img.thumbnail((SIDE, SIDE))
        out = BytesIO()
        img.save(out, "JPEG", quality=80)
        return out.getvalue()


def naive(path: Path) -> bytes:
    with Image.open(path) as img:
        img.load()
        upright = ImageOps.exif_transpose(img)
        upright.thumbnail((SIDE, SIDE))
        out = BytesIO()
        upright.save(out, "JPEG", quality=80)
        return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", default="4000x3000", help="WIDTHxHEIGHT of the generated photo")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))

    variants: dict[str, Callable[[Path], bytes]] = {
        "images.thumbnail": ours,
        "draft baseline": draft_baseline,
        "naive decode+resize": naive,
    }
    with tempfile.TemporaryDirectory(prefix="fieldwatch-bench-thumb-") as tmp:
        photo = Path(tmp) / "photo.jpg"
        log(f"generating a {width}x{height} JPEG")
        make_photo(photo, width, height)
        file_mb = photo.stat().st_size / 1e6
        sizes = {name: Image.open(BytesIO(fn(photo))).size for name, fn in variants.items()}
        log(f"{file_mb:.1f} MB; output sizes {sizes}")
        times: dict[str, list[float]] = {name: [] for name in variants}
        for fn in variants.values():  # warm-up
            fn(photo)
        for _ in range(args.rounds):
            for name, fn in variants.items():
                start = time.perf_counter()
                fn(photo)
                times[name].append((time.perf_counter() - start) * 1000)

    base = times["draft baseline"]
    rows = []
    results: dict[str, object] = {
        "photo": f"{width}x{height}",
        "file_mb": round(file_mb, 2),
        "rounds": args.rounds,
    }
    for name, series in times.items():
        ratio = statistics.median(a / b for a, b in zip(series, base, strict=True))
        rows.append(
            [
                name,
                f"{statistics.median(series):.1f}",
                f"{min(series):.1f}",
                f"{ratio:.2f}×",
                "x".join(map(str, sizes[name])),
            ]
        )
        results[name] = {
            "median_ms": statistics.median(series),
            "min_ms": min(series),
            "ratio_to_draft": ratio,
        }
    ours_ratio = results["images.thumbnail"]["ratio_to_draft"]  # type: ignore[index]
    print(
        f"Thumbnail ({SIDE} px JPEG) of a {width}x{height} JPEG ({file_mb:.1f} MB, EXIF orientation 6), "
        f"{args.rounds} interleaved rounds\n"
    )
    print(table(["variant", "median ms", "min ms", "vs draft baseline", "output"], rows))
    verdict = "meets" if ours_ratio <= TARGET else "misses"
    print(
        f"\nimages.thumbnail is {ours_ratio:.2f}× the draft-mode baseline ({verdict} the ≤ {TARGET}× target)."
    )
    results["machine"] = machine()
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
