"""A small image set of a different kind, assembled offline: letters rendered from the fonts
that Debian font packages install, 32×32 RGB, random colours, small rotations, scales and
offsets, written as a ``folder:`` tree (one sub-folder per class) with a fixed seed.

``scripts/make_glyphs.py`` (and ``ssvae evaluate`` when the tree is missing) call
:func:`make_glyphs`; the README it writes beside the tree lists every font file used, its
Debian package and the package's licence.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

from ssvae.errors import DataError

CLASSES = tuple("ABDEGHKMRS")  # ten capitals whose shapes differ
PER_CLASS = 200
SIZE = 32
SEED = 0
FONT_DIRS = ("truetype/dejavu", "truetype/liberation", "truetype/freefont", "truetype/crosextra",
             "truetype/roboto", "opentype/cantarell", "opentype/ebgaramond",
             "opentype/linux-libertine", "opentype/urw-base35", "truetype/noto")
# Latin text faces only: no symbol, dingbat or mathematical fonts, and of Noto only the
# plain Latin families (the others cover other scripts)
_EXCLUDE = re.compile(r"Math|Symbol|D050000L|Dingbat|Display", re.I)
_NOTO_LATIN = re.compile(r"^Noto(Sans|Serif|SansMono)-")
PACKAGES_HINT = ("fonts-dejavu-core fonts-liberation fonts-freefont-ttf fonts-crosextra-carlito "
                 "fonts-crosextra-caladea fonts-roboto-unhinted fonts-cantarell fonts-ebgaramond "
                 "fonts-linuxlibertine fonts-urw-base35 fonts-noto-core")


def font_files(root: Path = Path("/usr/share/fonts")) -> list[Path]:
    """The installed font files used, in a fixed (sorted) order."""
    out = []
    for d in FONT_DIRS:
        for p in sorted((root / d).rglob("*")):
            if p.suffix.lower() not in (".ttf", ".otf") or _EXCLUDE.search(p.name):
                continue
            if d == "truetype/noto" and not _NOTO_LATIN.match(p.name):
                continue
            out.append(p)
    return out


def _render(font_path: Path, char: str, rng: np.random.Generator, size: int = SIZE):
    from PIL import Image, ImageDraw, ImageFont

    big = size * 4  # draw large, then shrink: smooth edges
    scale = rng.uniform(0.55, 0.85)
    font = ImageFont.truetype(str(font_path), int(big * scale))
    bg = rng.integers(0, 256, 3)
    fg = rng.integers(0, 256, 3)
    while np.abs(fg.astype(int) - bg.astype(int)).sum() < 200:  # keep the letter visible
        fg = rng.integers(0, 256, 3)
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    left, top, right, bottom = draw.textbbox((0, 0), char, font=font)
    if right <= left or bottom <= top:
        return None
    dx, dy = rng.uniform(-0.08, 0.08, 2) * big
    draw.text(((big - (right - left)) / 2 - left + dx, (big - (bottom - top)) / 2 - top + dy),
              char, font=font, fill=255)
    mask = mask.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)
    m = np.asarray(mask.resize((size, size), Image.LANCZOS), dtype=np.float32)[..., None] / 255.0
    img = (1 - m) * bg + m * fg
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


# packages whose copyright file is not in the machine-readable format
_NOT_DEP5 = {"fonts-liberation": "GPL-2 with the Liberation font exception (Red Hat's text in "
                                 "/usr/share/doc/fonts-liberation/copyright)"}


def _package_licences(fonts: list[Path]) -> list[tuple[str, str, int]]:
    """(Debian package, licence names from its copyright file, number of font files)."""
    counts: dict[str, int] = {}
    for f in fonts:
        try:
            pkg = subprocess.run(["dpkg", "-S", str(f)], capture_output=True, text=True,
                                 check=True).stdout.split(":", 1)[0].strip()
        except (OSError, subprocess.CalledProcessError):
            pkg = "unknown"
        counts[pkg] = counts.get(pkg, 0) + 1
    rows = []
    for pkg, n in sorted(counts.items()):
        text = ""
        cp = Path("/usr/share/doc") / pkg / "copyright"
        if cp.is_file():
            text = cp.read_text(errors="replace")
        names = list(dict.fromkeys(m.strip() for m in re.findall(r"^License:[ \t]*(\S.{0,60})$",
                                                                   text, re.M)))
        names = names or [_NOT_DEP5.get(pkg, "")]
        rows.append((pkg, ", ".join(n for n in names if n) or f"see /usr/share/doc/{pkg}/copyright", n))
    return rows


def make_glyphs(out: Path, seed: int = SEED, per_class: int = PER_CLASS,
                classes: tuple[str, ...] = CLASSES) -> Path:
    """Write ``out/train/<letter>/<n>.png`` and ``out/README.md``; returns ``out/train``."""
    from PIL import Image

    fonts = font_files()
    if len(fonts) < 5:
        raise DataError(f"only {len(fonts)} usable fonts under /usr/share/fonts; install some "
                        f"with 'apt-get install {PACKAGES_HINT}'.")
    rng = np.random.default_rng(seed)
    train = Path(out) / "train"
    used: set[Path] = set()
    for c in classes:
        folder = train / c
        folder.mkdir(parents=True, exist_ok=True)
        i = 0
        while i < per_class:
            font = fonts[int(rng.integers(len(fonts)))]
            img = _render(font, c, rng)
            if img is None:
                continue
            Image.fromarray(img).save(folder / f"{i:04d}.png", optimize=True)
            used.add(font)
            i += 1
    used_list = sorted(used)
    lines = ["# Glyphs: letters rendered from Debian's fonts", "",
             f"Written by `python scripts/make_glyphs.py` (seed {seed}); `ssvae evaluate` builds it "
             "when it is missing. Use it as `--dataset folder:data/glyphs/train` with "
             "`data.image_size: [32, 32]` and `data.color: true`.", "",
             f"- {len(classes)} classes (the capitals {', '.join(classes)}), {per_class} images each, "
             f"{len(classes) * per_class} in all, {SIZE}×{SIZE} RGB PNG",
             "- each image: a font drawn at random from the list below, the letter at 55–85 % of "
             "the height, rotated by up to ±15°, shifted by up to ±8 % of the side, in a random "
             "colour on a random background colour (at least 200 apart in summed RGB), plus "
             "Gaussian noise (sd 6)",
             "- no test split of its own: the evaluation holds out 20 % of each class "
             "(`--test-fraction 0.2`, seed 0)", "",
             "The images are ours (generated); the glyph outlines come from these fonts, "
             "under their packages' licences (from /usr/share/doc/<package>/copyright):", "",
             "| Debian package | licence | font files used |", "|---|---|---|"]
    lines += [f"| {p} | {lic} | {n} |" for p, lic, n in _package_licences(used_list)]
    lines += ["", "Font files used:", ""] + [f"- `{f}`" for f in used_list]
    (Path(out) / "README.md").write_text("\n".join(lines) + "\n")
    return train
