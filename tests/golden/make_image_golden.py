#!/usr/bin/python3
"""Golden values for ganforge's image preprocessing (src/data/image_file.cpp), made with PIL.

Writes small source images to tests/golden/images/ and, in images.json, what PIL makes of them:
center crop / pad (ImageOps.pad) / stretch, resized with Image.BICUBIC (antialiased Catmull-Rom),
transparency composited onto a background, and convert("L") for one channel.
Run with Debian's python3-pil: /usr/bin/python3 tests/golden/make_image_golden.py
"""
import json
import os

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "images")
rng = np.random.default_rng(12)


def smooth_rgb(w, h, channels=3):
    """Gradients plus noise: enough structure that a wrong filter or offset shows."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255.0 / max(w - 1, 1), y * 255.0 / max(h - 1, 1),
                     (x + y) * 127.0 / max(w + h - 2, 1)], axis=2)
    base = base + rng.normal(0, 30, size=base.shape)
    if channels == 4:
        alpha = (np.sin(x / 3.0) * 0.5 + 0.5) * 255
        alpha[:, : w // 4] = 0
        alpha[:, -w // 4:] = 255
        base = np.concatenate([base, alpha[:, :, None]], axis=2)
    return np.clip(np.rint(base), 0, 255).astype(np.uint8)


def composite(img, bg):
    if img.mode in ("RGBA", "LA"):
        under = Image.new("RGBA", img.size, bg + (255,))
        return Image.alpha_composite(under, img.convert("RGBA")).convert("RGB")
    return img.convert("RGB")


def prepare(img, resolution, resize, channels, bg):
    img = composite(img, bg)
    if channels == 1:
        img = img.convert("L")
    w, h = img.size
    if resize == "center-crop":
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        img = img.crop((left, top, left + s, top + s))
    elif resize == "pad":
        fill = bg if channels == 3 else Image.new("RGB", (1, 1), bg).convert("L").getpixel((0, 0))
        img = ImageOps.pad(img, (resolution, resolution), method=Image.BICUBIC, color=fill)
    if img.size != (resolution, resolution):
        img = img.resize((resolution, resolution), Image.BICUBIC)
    a = np.asarray(img)
    return a if a.ndim == 3 else a[:, :, None]


CASES = [
    # name, source size, mode, resolution, resize, channels, background
    ("crop_down", (50, 37), "RGB", 16, "center-crop", 3, (255, 255, 255)),
    ("crop_down_odd", (45, 64), "RGB", 28, "center-crop", 3, (255, 255, 255)),
    ("up_bicubic", (12, 12), "RGB", 32, "center-crop", 3, (255, 255, 255)),
    ("rgba_white", (40, 40), "RGBA", 20, "center-crop", 3, (255, 255, 255)),
    ("rgba_colour_bg", (40, 40), "RGBA", 16, "center-crop", 3, (16, 128, 240)),
    ("grey", (30, 30), "L", 15, "center-crop", 1, (255, 255, 255)),
    ("rgb_to_luma", (36, 36), "RGB", 12, "center-crop", 1, (255, 255, 255)),
    ("pad", (40, 20), "RGB", 20, "pad", 3, (255, 255, 255)),
    ("pad_odd", (50, 21), "RGB", 16, "pad", 3, (0, 0, 0)),
    ("pad_tall_grey", (14, 33), "L", 12, "pad", 1, (255, 255, 255)),
    ("stretch", (40, 20), "RGB", 16, "stretch", 3, (255, 255, 255)),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    golden = {}
    for name, (w, h), mode, res, resize, channels, bg in CASES:
        if mode == "L":
            src = Image.fromarray(smooth_rgb(w, h)[:, :, 0], "L")
        elif mode == "RGBA":
            src = Image.fromarray(smooth_rgb(w, h, 4), "RGBA")
        else:
            src = Image.fromarray(smooth_rgb(w, h), "RGB")
        src.save(os.path.join(OUT, name + ".png"))
        out = prepare(src, res, resize, channels, bg)
        golden[name] = {"file": name + ".png", "resolution": res, "resize": resize,
                        "channels": channels, "background": "#%02x%02x%02x" % bg,
                        "shape": list(out.shape), "pixels": out.flatten().tolist()}
    # The other formats stb_image reads, as PIL writes them: BMP (RGB), TGA (RGBA), and a GIF
    # with two frames (palette, one transparent index), of which only the first counts.
    rgb = Image.fromarray(smooth_rgb(33, 27), "RGB")
    rgba = Image.fromarray(smooth_rgb(30, 30, 4), "RGBA")
    frame0 = Image.fromarray(smooth_rgb(24, 24), "RGB").quantize(colors=32, dither=Image.NONE)
    frame0.info["transparency"] = 0
    frame1 = Image.fromarray(255 - smooth_rgb(24, 24), "RGB").quantize(colors=32, dither=Image.NONE)
    rgb.save(os.path.join(OUT, "rgb.bmp"))
    rgba.save(os.path.join(OUT, "rgba.tga"))
    frame0.save(os.path.join(OUT, "two_frames.gif"), save_all=True, append_images=[frame1],
                transparency=0, duration=100)
    for name, res, bg in [("rgb.bmp", 16, (255, 255, 255)), ("rgba.tga", 15, (0, 0, 0)),
                          ("two_frames.gif", 12, (255, 255, 255))]:
        src = Image.open(os.path.join(OUT, name))
        src.seek(0)
        src = src.convert("RGBA") if name.endswith(".gif") else src
        out = prepare(src, res, "center-crop", 3, bg)
        golden[name] = {"file": name, "resolution": res, "resize": "center-crop",
                        "channels": 3, "background": "#%02x%02x%02x" % bg,
                        "shape": list(out.shape), "pixels": out.flatten().tolist()}
    with open(os.path.join(HERE, "images.json"), "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    main()
