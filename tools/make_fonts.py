"""Make the fonts the portal's PDFs are set in (infra/web/portal/fonts/): DejaVu Sans and
DejaVu Sans Bold, cut down to the Latin alphabets and the punctuation the documents use.
Run once by hand when they should change, from the TrueType files of Debian's
fonts-dejavu-core package (or DejaVu's own release):

    python tools/make_fonts.py /usr/share/fonts/truetype/dejavu infra/web/portal/fonts

Why cut them down: a PDF embeds only the glyphs it uses either way, but fpdf2 reads the
whole font file each time it makes a document, and DejaVu's 6,000 glyphs took a quarter of
a second per font; the subset (every Latin letter with its accents: Spanish, Portuguese,
French, the Americas' place names) is read in a thirtieth of that and weighs a tenth.
DejaVu's licence (fonts/LICENSE.txt) allows modified copies under a name without
"Bitstream" or "Vera"; the fonts keep their own name, DejaVu Sans."""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset  # type: ignore[import-untyped]

FONTS = {"DejaVuSans.ttf": "DejaVuSans-Latin.ttf",
         "DejaVuSans-Bold.ttf": "DejaVuSans-Bold-Latin.ttf"}
# Basic Latin, Latin-1 Supplement, Latin Extended-A and -B, spacing modifiers and
# combining accents, Latin Extended Additional, general punctuation (dashes, quotes,
# bullet, ellipsis), currency and letterlike symbols, a few arrows and shapes, the minus
# sign and the replacement character.
UNICODES = ("U+0020-007E,U+00A0-024F,U+02B0-02FF,U+0300-036F,U+1E00-1EFF,U+2000-206F,"
            "U+20A0-20CF,U+2100-214F,U+2190-2199,U+2212,U+2215,U+25A0-25CF,U+FFFD")


def main(source: Path, target: Path) -> None:
    for name, made in FONTS.items():
        subset.main([str(source / name), f"--unicodes={UNICODES}", "--layout-features=*",
                     "--name-IDs=*", "--name-languages=*", "--notdef-outline",
                     "--glyph-names", f"--output-file={target / made}"])
        print(f"{target / made}: {(target / made).stat().st_size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
