#!/usr/bin/env python3
"""patch_checkpoint.py SRC DST OLD NEW [OLD NEW ...]

Copies a ganforge checkpoint with its metadata damaged: each byte string OLD inside the
archive's data.pkl (a stored zip member, where the metadata JSON lives) is replaced by NEW of the
same length, and the member's CRC-32 is fixed in its local header and the central directory, so
the zip is intact and only the JSON's values are wrong. Needs no torch."""
import struct
import sys
import zipfile
import zlib


def main():
    src, dst, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    if len(pairs) == 0 or len(pairs) % 2:
        sys.exit("usage: patch_checkpoint.py SRC DST OLD NEW [OLD NEW ...]")
    data = bytearray(open(src, "rb").read())
    member = next(i for i in zipfile.ZipFile(src).infolist() if i.filename.endswith("data.pkl"))
    if member.compress_type != zipfile.ZIP_STORED:
        sys.exit("data.pkl is compressed")
    local = member.header_offset
    name_len, extra_len = struct.unpack("<HH", data[local + 26:local + 30])
    start = local + 30 + name_len + extra_len
    pkl = bytes(data[start:start + member.file_size])
    for old, new in zip(pairs[0::2], pairs[1::2]):
        old, new = old.encode(), new.encode()
        if len(old) != len(new) or old not in pkl:
            sys.exit(f"{old!r} -> {new!r}: not found or not the same length")
        pkl = pkl.replace(old, new, 1)
    data[start:start + member.file_size] = pkl
    crc = zlib.crc32(pkl) & 0xFFFFFFFF
    struct.pack_into("<I", data, local + 14, crc)
    name = member.filename.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        n = struct.unpack("<H", data[at + 28:at + 30])[0]
        if data[at + 46:at + 46 + n] == name:
            struct.pack_into("<I", data, at + 16, crc)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    else:
        sys.exit("data.pkl is not in the central directory")
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main()
