"""Minimal grey PNG writing and idx reading for the experiment scripts (no numpy or PIL needed)."""
import gzip
import struct
import zlib


def read_idx(path):
    """(dims, bytes) of an idx ubyte file, gzip'd or raw."""
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    dims = struct.unpack(">" + "I" * raw[3], raw[4:4 + 4 * raw[3]])
    return dims, raw[4 + 4 * raw[3]:]


def write_grey_png(path, width, height, pixels):
    """pixels: bytes, row-major, one byte per pixel."""
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(png)


def tile(images, width, height, columns, scale=3, pad=2, background=128):
    """Grey images (bytes each) in a grid, each pixel scale x scale; returns (w, h, bytes)."""
    rows = (len(images) + columns - 1) // columns
    cw, ch = width * scale + pad, height * scale + pad
    out = bytearray([background]) * ((columns * cw + pad) * (rows * ch + pad))
    stride = columns * cw + pad
    for i, im in enumerate(images):
        ox, oy = pad + (i % columns) * cw, pad + (i // columns) * ch
        for y in range(height * scale):
            src = im[(y // scale) * width:(y // scale + 1) * width]
            line = bytes(b for b in src for _ in range(scale))
            start = (oy + y) * stride + ox
            out[start:start + width * scale] = line
    return stride, rows * ch + pad, bytes(out)
