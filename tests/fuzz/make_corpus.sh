#!/usr/bin/env bash
# Regenerates the seed corpora under tests/fuzz/corpus/<target>/ (small valid inputs, each a few
# hundred bytes to a few KB): checkpoints and safetensors from a tiny ganforge run (MLP widths 4
# on the 2-D ring), images written by stb_image_write and Python, the rest by hand.
#   bash tests/fuzz/make_corpus.sh [path/to/ganforge]     (default build/ganforge)
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=$(realpath "${1:-build/ganforge}")
C=tests/fuzz/corpus
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for t in idx image checkpoint archive safetensors config generate repair latents; do
  rm -rf "${C:?}/$t"
  mkdir -p "$C/$t"
done

# --- checkpoint, safetensors, latents: tiny runs of ganforge itself ---------------------------
tiny=(--set model.z_dim=2 --set 'model.g_hidden=[4]' --set 'model.d_hidden=[4]'
      --set data.synthetic_n=64 --set train.batch=16 --set log.every=1 --set log.sample_every=100
      --set log.checkpoint_every=100 --set eval.every=0)
"$GF" train --config configs/gaussian_ring.json "${tiny[@]}" --steps 2 --out "$TMP/ring" \
  --threads 1 > /dev/null
"$GF" train --config configs/gaussian_ring.json "${tiny[@]}" --set model.conditional=cgan \
  --set model.embed_dim=2 --set train.ema_kimg=1 --steps 2 --out "$TMP/cring" --threads 1 \
  > /dev/null
cp "$TMP/ring/checkpoints/step_000002.ckpt" "$C/checkpoint/mlp_ring.ckpt"
"$GF" export "$TMP/ring" --format safetensors -o "$C/safetensors/mlp_ring.safetensors" > /dev/null
"$GF" export "$TMP/cring" --format safetensors -o "$C/safetensors/cgan_ring.safetensors" \
  > /dev/null
# The member form of fuzz_checkpoint.cpp ("@@ name\n<bytes>" per zip member).
/usr/bin/python3 - "$TMP/ring/checkpoints/step_000002.ckpt" "$C/checkpoint/mlp_ring.members" \
  "$TMP/cring/checkpoints/step_000002.ckpt" "$C/checkpoint/cgan_ring_ema.members" <<'EOF'
import sys, zipfile
args = sys.argv[1:]
for src, dst in zip(args[::2], args[1::2]):
    with zipfile.ZipFile(src) as z, open(dst, "wb") as out:
        for i, info in enumerate(z.infolist()):
            out.write((b"\n" if i else b"") + b"@@ " + info.filename.encode() + b"\n")
            out.write(z.read(info))
EOF
# The archive target (the check in front of LibTorch) takes the same seeds, and one with its code
# members deflated, which LibTorch reads too.
cp "$C"/checkpoint/* "$C/archive/"
/usr/bin/python3 - "$TMP/cring/checkpoints/step_000002.ckpt" "$C/archive/cgan_ring_deflated.ckpt" \
  <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], "w") as dst:
    for info in src.infolist():
        code = "/code/" in info.filename and info.filename.endswith(".py")
        dst.writestr(info.filename, src.read(info),
                     zipfile.ZIP_DEFLATED if code else zipfile.ZIP_STORED)
EOF

# The config dictionary (libFuzzer -dict): every key, dotted --set path and string value of a
# resolved config.
/usr/bin/python3 - "$TMP/ring/config.json" tests/fuzz/dicts/config.dict <<'EOF'
import json, sys
words = {"--set ", "=", ".", "true", "false", "null", "[]", "{}", "1e-4", "-1", "1e999"}
def walk(j, prefix=""):
    if isinstance(j, dict):
        for k, v in j.items():
            words.update({k, prefix + k})
            walk(v, prefix + k + ".")
    elif isinstance(j, list):
        for v in j:
            walk(v, prefix)
    elif isinstance(j, str) and j:
        words.add(j)
walk(json.load(open(sys.argv[1])))
with open(sys.argv[2], "w") as f:
    f.write("# Keys, --set paths and values of a resolved config (tests/fuzz/make_corpus.sh)\n")
    for w in sorted(words):
        f.write(json.dumps(w) + "\n")
EOF

# --- latents --------------------------------------------------------------------------------
cat > "$C/latents/list.json" <<'EOF'
[0.5, -1.25, 3e-8]
EOF
cat > "$C/latents/rows.json" <<'EOF'
[[0.5, -1.25, 0.0], [1, 2, 3]]
EOF
cat > "$C/latents/labelled.json" <<'EOF'
{"format": "ganforge-latents", "version": 1, "z_dim": 3, "latent": "normal",
 "z": [[0.1, 0.2, 0.3], [-0.1, -0.2, -0.3]], "labels": ["dog", 2], "losses": [0.01, 0.02]}
EOF

# --- config: the presets, with --set lines ---------------------------------------------------
cp configs/gaussian_ring.json "$C/config/gaussian_ring.json"
cp configs/dcgan_mnist.json "$C/config/dcgan_mnist.json"
{ cat configs/cgan_mnist.json
  echo '--set train.lr_g=1e-4'
  echo '--set model.g_hidden=[64,32]'
  echo '--set name=2024'
  echo '--set data.dataset=fashion-mnist'; } > "$C/config/cgan_mnist_set.json"
{ echo '{}'; echo '--set train.steps=5'; echo '--set eval.metrics=["fid","kid"]'; } \
  > "$C/config/empty_set.json"

# --- generate ---------------------------------------------------------------------------------
g=$C/generate
echo '{}' > "$g/empty.json"
echo '{"model": "mnist", "n": 1, "seed": 42, "format": "png"}' > "$g/png.json"
echo '{"n": 16, "seed": 7, "labels": [3], "truncation": 0.7, "format": "grid"}' > "$g/grid.json"
echo '{"n": 4, "labels": [0, 1, 2, 9], "format": "json"}' > "$g/json.json"
echo '{"n": 8, "seed": 1, "walk_to": {"seed": 2, "label": 8}, "labels": [3], "format": "grid"}' \
  > "$g/walk.json"
echo '{"latent": [[0.5, -1, 0, 2], [1, 1, 1, 1]], "format": "json", "labels": [1, 2]}' \
  > "$g/latents.json"
echo '{"latent": [0.5, -1, 0, 2], "walk_to": {"latent": [1, 1, 1, 1]}, "n": 5, "format": "grid"}' \
  > "$g/walk_latent.json"

# --- images: stb_image_write (PNG, JPEG, BMP, TGA) and Python (GIF, palette and 16-bit PNG) ---
cat > "$TMP/mkimg.c" <<'EOF'
#include <stdio.h>
#include <stb/stb_image_write.h>
int main(int argc, char** argv) {
  unsigned char px[12 * 10 * 4];
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 12; ++x)
      for (int c = 0; c < 4; ++c)
        px[(y * 12 + x) * 4 + c] = (unsigned char)(c == 3 ? 40 + 20 * x : 25 * y + 13 * x * c);
  const char* d = argv[1];
  char p[4096];
#define OUT(name) (snprintf(p, sizeof p, "%s/%s", d, name), p)
  stbi_write_png(OUT("rgba_12x10.png"), 12, 10, 4, px, 48);
  stbi_write_png(OUT("grey_12x10.png"), 12, 10, 1, px, 12);
  stbi_write_png(OUT("grey_alpha_6x5.png"), 6, 5, 2, px, 12);
  stbi_write_jpg(OUT("rgb_12x10.jpg"), 12, 10, 3, px, 80);
  stbi_write_jpg(OUT("grey_8x8.jpg"), 8, 8, 1, px, 50);
  stbi_write_bmp(OUT("rgb_12x10.bmp"), 12, 10, 3, px);
  stbi_write_tga(OUT("rgba_12x10.tga"), 12, 10, 4, px);
  stbi_write_tga_with_rle = 0;
  stbi_write_tga(OUT("rgb_6x5_raw.tga"), 6, 5, 3, px);
  return 0;
}
EOF
cc -O1 -o "$TMP/mkimg" "$TMP/mkimg.c" -lstb -lm
"$TMP/mkimg" "$C/image"
/usr/bin/python3 - "$C/image" <<'EOF'
import struct, sys, zlib
d = sys.argv[1]

def png(path, w, h, depth, ctype, rows, extra=b""):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    raw = b"".join(b"\0" + r for r in rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype,
                0, 0, 0)) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

# 16-bit RGB, and a 4-colour palette with transparency (tRNS).
png(f"{d}/rgb16_4x3.png", 4, 3, 16, 2,
    [b"".join(struct.pack(">HHH", 4000 * x, 9000 * y, 123) for x in range(4)) for y in range(3)])
plte = struct.pack(">I", 12) + b"PLTE" + bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])
plte += struct.pack(">I", zlib.crc32(plte[4:]) & 0xffffffff)
trns = struct.pack(">I", 2) + b"tRNS" + bytes([0, 128])
trns += struct.pack(">I", zlib.crc32(trns[4:]) & 0xffffffff)
png(f"{d}/palette_5x4.png", 5, 4, 8, 3, [bytes((x + y) % 4 for x in range(5)) for y in range(4)],
    plte + trns)

# GIF87a, 4 colours, 6x4, LZW codes of 3 bits with a clear code before each pixel (no dictionary
# growth), the usual way to write a valid GIF without an encoder.
w, h = 6, 4
pixels = [(x + 2 * y) % 4 for y in range(h) for x in range(w)]
codes = []
for p in pixels:
    codes += [4, p]  # clear, pixel
codes.append(5)  # end of information
bits, nbits, out = 0, 0, bytearray()
for c in codes:
    bits |= c << nbits
    nbits += 3
    while nbits >= 8:
        out.append(bits & 0xff)
        bits >>= 8
        nbits -= 8
if nbits:
    out.append(bits)
blocks = b"".join(bytes([len(out[i:i + 255])]) + bytes(out[i:i + 255])
                  for i in range(0, len(out), 255)) + b"\0"
with open(f"{d}/pal_6x4.gif", "wb") as f:
    f.write(b"GIF87a" + struct.pack("<HHBBB", w, h, 0x81, 0, 0) +
            bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]) + b"," +
            struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02" + blocks + b";")
EOF

# --- repair: bodies with base64 8x8 pictures (what the web page sends) -----------------------
cat > "$TMP/mkpng.c" <<'EOF'
#include <stb/stb_image_write.h>
int main(int argc, char** argv) {
  unsigned char img[64], mask[64];
  for (int i = 0; i < 64; ++i) {
    img[i] = (unsigned char)(i * 4);
    mask[i] = (i % 8 >= 2 && i % 8 < 5 && i / 8 >= 3 && i / 8 < 6) ? 255 : 0;
  }
  stbi_write_png(argv[1], 8, 8, 1, img, 8);
  stbi_write_png(argv[2], 8, 8, 1, mask, 8);
  return 0;
}
EOF
cc -O1 -o "$TMP/mkpng" "$TMP/mkpng.c" -lstb -lm
"$TMP/mkpng" "$TMP/img.png" "$TMP/mask.png"
img=$(base64 -w0 "$TMP/img.png")
mask=$(base64 -w0 "$TMP/mask.png")
r=$C/repair
echo "{\"image\": \"$img\", \"box\": [2, 3, 3, 3]}" > "$r/box.json"
echo "{\"image\": \"data:image/png;base64,$img\", \"mask\": \"$mask\", \"label\": 3, \"steps\": 5," \
  "\"restarts\": 1, \"seed\": 9, \"format\": \"json\"}" > "$r/mask.json"
echo "{\"model\": \"digits\", \"image\": \"$img\", \"box\": [0, 0, 8, 1], \"format\": \"png\"}" \
  > "$r/model_box.json"

# --- idx: raw and gzip'd, 1 to 4 dimensions --------------------------------------------------
/usr/bin/python3 - "$C/idx" <<'EOF'
import gzip, struct, sys
d = sys.argv[1]
def idx(dims):
    n = 1
    for x in dims:
        n *= x
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", x) for x in dims) + \
        bytes((7 * i) % 256 for i in range(n))
files = {"labels_10.idx": idx([10]), "images_2x3x3.idx": idx([2, 3, 3]),
         "images_1x2x2x3.idx": idx([1, 2, 2, 3])}
for name, data in files.items():
    open(f"{d}/{name}", "wb").write(data)
    open(f"{d}/{name}.gz", "wb").write(gzip.compress(data, mtime=0))
EOF

du -sh "$C"
for t in "$C"/*/; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds, $(du -sk "$t" | cut -f1) KB"; done
