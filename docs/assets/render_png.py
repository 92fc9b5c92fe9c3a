# /// script
# requires-python = ">=3.11"
# dependencies = ["pillow>=10"]
# ///
"""Render terminal output with ANSI colours (``atoll trace --color always``) to a PNG.

    python3 -m uv run --script docs/assets/render_png.py trace.ansi docs/assets/trace.png

Draws the text cell by cell in DejaVu Sans Mono (DejaVu Sans for glyphs the monospace face
lacks) on a dark terminal background, with the SGR colours ``atoll trace`` uses. No network
access at run time; the fonts are the system's (``fonts-dejavu-core`` on Debian).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
SIZE = 15
BACKGROUND = (30, 33, 40)
FOREGROUND = (215, 218, 224)
COLOURS = {
    "31": (240, 113, 120),  # red
    "32": (152, 195, 121),  # green
    "33": (229, 192, 123),  # yellow
    "36": (86, 182, 194),  # cyan
}
DIM = (120, 126, 138)
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def cells(line: str) -> list[tuple[str, tuple[int, int, int], bool]]:
    """Each character of ``line`` with its colour and weight."""
    out: list[tuple[str, tuple[int, int, int], bool]] = []
    colour, bold, dim = FOREGROUND, False, False
    position = 0
    for match in SGR.finditer(line + "\x1b[0m"):
        for char in line[position : match.start()]:
            out.append((char, DIM if dim and colour == FOREGROUND else colour, bold))
        position = match.end()
        for code in (match.group(1) or "0").split(";"):
            if code == "0":
                colour, bold, dim = FOREGROUND, False, False
            elif code == "1":
                bold = True
            elif code == "2":
                dim = True
            elif code in COLOURS:
                colour = COLOURS[code]
    return out


def main(source: str, target: str) -> None:
    """Render the ANSI text in ``source`` as a PNG at ``target``."""
    lines = Path(source).read_text(encoding="utf-8").rstrip("\n").split("\n")
    regular = ImageFont.truetype(str(FONTS / "DejaVuSansMono.ttf"), SIZE)
    heavy = ImageFont.truetype(str(FONTS / "DejaVuSansMono-Bold.ttf"), SIZE)
    fallback = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), SIZE - 1)
    width = int(regular.getlength("M"))
    height = SIZE + 6
    columns = max(len(cells(line)) for line in lines)
    pad = 18
    image = Image.new("RGB", (columns * width + 2 * pad, len(lines) * height + 2 * pad), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        y = pad + row * height
        for column, (char, colour, bold) in enumerate(cells(line)):
            x = pad + column * width
            if char == "█" or char == "▓":  # block glyphs fill the cell edge to edge
                shade = colour if char == "█" else tuple(int(c * 0.75) for c in colour)
                draw.rectangle([x, y + 2, x + width - 1, y + height - 3], fill=shade)
                continue
            font = heavy if bold else regular
            if font.getmask(char).getbbox() is None and not char.isspace():
                font = fallback  # the monospace face lacks it (⚙)
            draw.text((x, y), char, font=font, fill=colour)
    image.save(target, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
