"""Generate the PWA icons in pwa/icons/ (a calm shield badge on deep blue).

Run: .venv/bin/python scripts/make_icons.py
Outputs are deterministic, so re-running produces identical files.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "pwa" / "icons"

BLUE = (11, 61, 128, 255)  # #0b3d80, the app's theme colour
BLUE_DARK = (7, 42, 92, 255)
WHITE = (255, 255, 255, 255)
GOLD = (230, 184, 76, 255)
SUPERSAMPLE = 4


def shield_points(
    cx: float, top: float, width: float, height: float, steps: int = 48
) -> list[tuple[float, float]]:
    """Outline of a heraldic shield: flat top with a shallow notch, straight shoulders, curved point."""
    half = width / 2
    shoulder = top + height * 0.42
    bottom = top + height
    notch = height * 0.05
    pts: list[tuple[float, float]] = [
        (cx - half, top + notch),
        (cx - half * 0.5, top + notch * 0.4),
        (cx, top),
        (cx + half * 0.5, top + notch * 0.4),
        (cx + half, top + notch),
        (cx + half, shoulder),
    ]
    # right side curves down to the point, then mirror back up the left
    right: list[tuple[float, float]] = []
    for i in range(1, steps + 1):
        t = i / steps
        angle = t * math.pi / 2
        x = cx + half * math.cos(angle)
        y = shoulder + (bottom - shoulder) * math.sin(angle)
        right.append((x, y))
    pts.extend(right)
    pts.extend((2 * cx - x, y) for x, y in reversed(right[:-1]))
    pts.append((cx - half, shoulder))
    return pts


def draw_icon(size: int, *, maskable: bool) -> Image.Image:
    s = size * SUPERSAMPLE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        # full-bleed background; the artwork stays inside the 80 % safe circle
        d.rectangle((0, 0, s, s), fill=BLUE)
        scale = 0.52
    else:
        d.rounded_rectangle((0, 0, s - 1, s - 1), radius=int(s * 0.2), fill=BLUE)
        scale = 0.66
    h = s * scale
    w = h * 0.82
    cx = s / 2
    top = (s - h) / 2
    d.polygon(shield_points(cx, top, w, h), fill=WHITE)
    inset = h * 0.075
    d.polygon(shield_points(cx, top + inset, w - 2 * inset * 0.95, h - 2.1 * inset), fill=BLUE_DARK)
    # a check mark: "verified, lawful"
    lw = max(1, int(h * 0.085))
    check = [
        (cx - w * 0.22, top + h * 0.47),
        (cx - w * 0.05, top + h * 0.63),
        (cx + w * 0.25, top + h * 0.32),
    ]
    d.line(check, fill=GOLD, width=lw, joint="curve")
    r = lw / 2
    for x, y in (check[0], check[-1]):
        d.ellipse((x - r, y - r, x + r, y + r), fill=GOLD)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    targets = {
        "icon-192.png": (192, False),
        "icon-512.png": (512, False),
        "maskable-192.png": (192, True),
        "maskable-512.png": (512, True),
        "apple-touch-icon.png": (180, True),
        "favicon-32.png": (32, False),
    }
    for name, (size, maskable) in targets.items():
        path = OUT / name
        draw_icon(size, maskable=maskable).save(path, format="PNG", optimize=True)
        print(f"wrote {path.relative_to(OUT.parent.parent)} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
