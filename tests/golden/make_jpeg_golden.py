#!/usr/bin/python3
"""JPEG files as real encoders write them, and what PIL (libjpeg) decodes from them.

ganforge checks a JPEG's structure before stb_image decodes it (src/data/jpeg_check.cpp): every
table a scan uses must be defined, the file must end properly. These files are what that check
must accept: baseline with 4:2:0 and 4:4:4 sampling, progressive, optimised Huffman tables,
restart intervals, greyscale, EXIF in APP1, and a trailer after the end marker. jpeg.json holds
PIL's pixels, to which stb_image's must come close (the two decoders' IDCTs and chroma upsampling
differ by a few levels, not more).
Run with Debian's python3-pil: /usr/bin/python3 tests/golden/make_jpeg_golden.py
"""
import io
import json
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "jpeg")
rng = np.random.default_rng(5)


def smooth(w, h):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255.0 / (w - 1), y * 255.0 / (h - 1), (x + y) * 127.0 / (w + h - 2)], 2)
    return np.clip(np.rint(base + rng.normal(0, 8, size=base.shape)), 0, 255).astype(np.uint8)


def exif_bytes():
    e = Image.Exif()
    e[0x010F] = "ganforge test camera"  # Make
    e[0x0131] = "make_jpeg_golden.py"   # Software
    return e.tobytes()


CASES = [
    # name, mode, save options
    ("baseline_420", "RGB", dict(quality=90, subsampling=2)),
    ("baseline_444", "RGB", dict(quality=95, subsampling=0)),
    ("progressive", "RGB", dict(quality=90, progressive=True)),
    ("optimized", "RGB", dict(quality=85, optimize=True)),
    ("restarts", "RGB", dict(quality=90, restart_marker_blocks=1)),
    ("grey", "L", dict(quality=90)),
    ("grey_progressive", "L", dict(quality=90, progressive=True)),
    ("exif", "RGB", dict(quality=90, exif=exif_bytes())),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    golden = {}
    for name, mode, opts in CASES:
        px = smooth(24, 24)
        img = Image.fromarray(px if mode == "RGB" else px[:, :, 0], mode)
        buf = io.BytesIO()
        img.save(buf, "JPEG", **opts)
        data = buf.getvalue()
        if name == "exif":
            data += b"camera trailer after the end marker"
        with open(os.path.join(OUT, name + ".jpg"), "wb") as f:
            f.write(data)
        dec = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        golden[name] = {"file": name + ".jpg", "shape": list(dec.shape),
                        "pixels": dec.flatten().tolist()}
    with open(os.path.join(HERE, "jpeg.json"), "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    main()
