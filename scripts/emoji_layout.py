#!/usr/bin/env python3
"""Lays out the Google (Noto) 64x64 emoji PNGs of the npm package `emoji-datasource-google` as
an image folder dataset with one sub-folder per category, plus a fixed held-out test split:

    OUT_TRAIN/<category>/<image>.png     e.g. data/emoji/smileys-emotion/1f600.png
    OUT_TEST/<category>/<image>.png      e.g. data/emoji-test/...

Usage: emoji_layout.py PACKAGE_DIR OUT_TRAIN OUT_TEST

Every emoji of emoji.json with has_img_google, and every skin-tone variation with has_img_google,
is taken; the category "Component" (the five bare skin-tone swatches) is skipped. Category folder
names are lowercase with runs of non-alphanumerics collapsed to one hyphen ("Smileys & Emotion" ->
"smileys-emotion"). PNG bytes are copied unchanged (the PNGs are 64x64, 8-bit, mostly RGBA but a
few are grey+alpha or palette: loaders should convert to RGBA).

Test split: within a category, images are grouped so that an emoji and all its skin-tone
variations, and any byte-identical images (e.g. flags that share artwork), stay together; groups
are ordered by their smallest file name and every 10th group goes to the test split (about 10% of
each category). Deterministic, and no image (or identical copy) is in both splits.

Both folders are written next to their destination under a temporary name and renamed into place
only when complete, so an interrupted run never leaves a half-populated folder.
Only the Python standard library is used.
"""
import collections
import hashlib
import json
import os
import re
import shutil
import struct
import sys

SKIP_CATEGORIES = {"Component"}
TEST_EVERY = 10
SIDE = 64


def folder_name(category):
    return re.sub(r"[^a-z0-9]+", "-", category.lower()).strip("-")


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        sys.exit(f"emoji_layout: {path} is not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    if (width, height) != (SIDE, SIDE):
        sys.exit(f"emoji_layout: {path} is {width}x{height}, expected {SIDE}x{SIDE}")
    return data


def split(files, base_of, digest_of):
    """files: sorted names of one category -> (train, test) lists, grouped as described above."""
    parent = {f: f for f in files}

    def find(f):
        while parent[f] != f:
            parent[f] = parent[parent[f]]
            f = parent[f]
        return f

    linked = collections.defaultdict(list)
    for f in files:
        linked["base", base_of[f]].append(f)
        linked["sha256", digest_of[f]].append(f)
    for group in linked.values():
        for f in group[1:]:
            a, b = find(group[0]), find(f)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups = collections.defaultdict(list)
    for f in files:
        groups[find(f)].append(f)
    train, test = [], []
    for i, root in enumerate(sorted(groups)):  # each root is its group's smallest name
        (test if i % TEST_EVERY == TEST_EVERY - 1 else train).extend(groups[root])
    return sorted(train), sorted(test)


def write_tree(out, layout, content):
    """layout: {category folder: [file names]} -> out, replaced as a whole."""
    out = os.path.abspath(out)
    parent_dir, name = os.path.split(out)
    os.makedirs(parent_dir, exist_ok=True)
    tmp = os.path.join(parent_dir, f".{name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)  # left over from an interrupted run
    for folder, names in layout.items():
        os.makedirs(os.path.join(tmp, folder))
        for n in names:
            with open(os.path.join(tmp, folder, n), "wb") as f:
                f.write(content[n])
    return tmp


def swap_in(tmp, out):
    out = os.path.abspath(out)
    old = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.old")
    shutil.rmtree(old, ignore_errors=True)
    if os.path.lexists(out):
        os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: emoji_layout.py PACKAGE_DIR OUT_TRAIN OUT_TEST")
    pkg, out_train, out_test = sys.argv[1:]
    img_dir = os.path.join(pkg, "img", "google", "64")
    with open(os.path.join(pkg, "emoji.json"), encoding="utf-8") as f:
        emoji = json.load(f)

    category_of, base_of = {}, {}
    for e in emoji:
        if e["category"] in SKIP_CATEGORIES:
            continue
        names = [e["image"]] if e.get("has_img_google") else []
        names += [v["image"] for v in (e.get("skin_variations") or {}).values()
                  if v.get("has_img_google")]
        for n in names:
            if n in category_of:
                sys.exit(f"emoji_layout: {n} listed twice in emoji.json")
            category_of[n], base_of[n] = e["category"], e["image"]

    content = {n: read_png(os.path.join(img_dir, n)) for n in category_of}
    digest_of = {n: hashlib.sha256(b).hexdigest() for n, b in content.items()}

    train, test = {}, {}
    print(f"{'category':<18} {'train':>6} {'test':>5}")
    for category in sorted(set(category_of.values())):
        folder = folder_name(category)
        files = sorted(n for n, c in category_of.items() if c == category)
        train[folder], test[folder] = split(files, base_of, digest_of)
        print(f"{folder:<18} {len(train[folder]):>6} {len(test[folder]):>5}")
    n_train = sum(map(len, train.values()))
    n_test = sum(map(len, test.values()))
    print(f"{'total':<18} {n_train:>6} {n_test:>5}")

    tmp_train = write_tree(out_train, train, content)
    tmp_test = write_tree(out_test, test, content)
    swap_in(tmp_train, out_train)
    swap_in(tmp_test, out_test)


if __name__ == "__main__":
    main()
