#include "data/idx.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/file.h"

namespace gf {
namespace {

constexpr uint8_t kTypeUbyte = 0x08;
constexpr int kMaxDims = 4;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly n bytes; returns how many were read before the end (or throws on corrupt data).
size_t read_some(gzFile f, uint8_t* dst, size_t n, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    const int got = gzread(f, dst + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      throw Error(concat(path, ": corrupt gzip data (", msg ? msg : "unknown zlib error", ")"));
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// The expected total size of the decompressed content, from the file itself: the length of a
// raw file, or the gzip trailer's ISIZE (uncompressed length mod 2^32, RFC 1952).
struct ContentSize {
  bool gzip = false;
  uint64_t bytes = 0;
};

ContentSize content_size(const std::string& path) {
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(path, ec);
  GF_CHECK(!ec, path, ": cannot read (", ec.message(), ")");
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  GF_CHECK(f, path, ": cannot open");
  uint8_t magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, 2, f.get());
  ContentSize size;
  size.gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!size.gzip) {
    size.bytes = file_bytes;
    return size;
  }
  GF_CHECK(file_bytes >= 18, path, ": truncated gzip file (", file_bytes, " bytes)");
  uint8_t trailer[4];
  GF_CHECK(std::fseek(f.get(), -4, SEEK_END) == 0 && std::fread(trailer, 1, 4, f.get()) == 4, path,
           ": cannot read the gzip trailer");
  size.bytes = uint64_t(trailer[0]) | (uint64_t(trailer[1]) << 8) | (uint64_t(trailer[2]) << 16) |
               (uint64_t(trailer[3]) << 24);
  return size;
}

}  // namespace

IdxArray read_idx(const std::string& path, uint64_t max_bytes) {
  GF_CHECK(std::filesystem::is_regular_file(path), path, ": no such file");
  const ContentSize expected = content_size(path);
  GzFile f(gzopen(path.c_str(), "rb"));
  GF_CHECK(f, path, ": cannot open");

  uint8_t head[4];
  GF_CHECK(read_some(f.get(), head, 4, path) == 4, path, ": truncated (no idx header)");
  GF_CHECK(head[0] == 0 && head[1] == 0, path, ": not an idx file (bad magic number)");
  GF_CHECK(head[2] == kTypeUbyte, path, ": unsupported idx data type 0x", std::hex, int(head[2]),
           " (only unsigned byte, 0x08, is supported)");
  const int ndims = head[3];
  GF_CHECK(ndims >= 1 && ndims <= kMaxDims, path, ": ", ndims, " dimensions (1 to ", kMaxDims,
           " supported)");

  uint8_t dim_bytes[4 * kMaxDims];
  GF_CHECK(read_some(f.get(), dim_bytes, 4 * ndims, path) == size_t(4 * ndims), path,
           ": truncated header");
  IdxArray out;
  uint64_t total = 1;
  for (int i = 0; i < ndims; ++i) {
    const uint32_t d = be32(dim_bytes + 4 * i);
    GF_CHECK(d > 0, path, ": dimension ", i, " is zero");
    GF_CHECK(total <= max_bytes / d, path, ": sizes claim more than ", max_bytes,
             " bytes of data (limit); the header is corrupt or the file too large");
    total *= d;
    out.dims.push_back(d);
  }
  const uint64_t header_bytes = 4 + 4 * uint64_t(ndims);
  const uint64_t want = header_bytes + total;
  const uint64_t have = expected.gzip ? (want & 0xffffffffULL) : want;
  GF_CHECK(expected.bytes == have, path, ": the header describes ", total, " data bytes but the ",
           expected.gzip ? "gzip stream holds " : "file holds ",
           expected.bytes >= header_bytes ? expected.bytes - header_bytes : 0,
           expected.bytes < want ? " (truncated)" : " (trailing bytes)");

  out.data.resize(total);
  const size_t got = read_some(f.get(), out.data.data(), total, path);
  GF_CHECK(got == total, path, ": truncated: expected ", total, " data bytes, found ", got);
  uint8_t extra;
  GF_CHECK(read_some(f.get(), &extra, 1, path) == 0, path, ": trailing bytes after the data");
  return out;
}

void write_idx(const std::string& path, const IdxArray& array) {
  GF_CHECK(!array.dims.empty() && array.dims.size() <= size_t(kMaxDims), "write_idx ", path,
           ": 1 to ", kMaxDims, " dimensions required");
  uint64_t total = 1;
  std::string bytes = {0, 0, char(kTypeUbyte), char(array.dims.size())};
  for (int64_t d : array.dims) {
    GF_CHECK(d > 0 && d <= 0xffffffffLL, "write_idx ", path, ": bad dimension ", d);
    total *= uint64_t(d);
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(char((d >> shift) & 0xff));
  }
  GF_CHECK(total == array.data.size(), "write_idx ", path, ": dims describe ", total, " bytes but ",
           array.data.size(), " were given");
  bytes.append(reinterpret_cast<const char*>(array.data.data()), array.data.size());
  if (!ends_with(path, ".gz")) {
    write_file_atomic(path, bytes);
    return;
  }
  uLongf bound = compressBound(bytes.size()) + 32;
  std::string packed(bound, '\0');
  z_stream zs{};
  // windowBits 15 + 16 asks zlib for a gzip wrapper (header and CRC32/ISIZE trailer).
  GF_CHECK(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK, "write_idx ",
           path, ": zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(bytes.data());
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(packed.data());
  zs.avail_out = static_cast<uInt>(packed.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t n = zs.total_out;
  deflateEnd(&zs);
  GF_CHECK(rc == Z_STREAM_END, "write_idx ", path, ": gzip compression failed");
  packed.resize(n);
  write_file_atomic(path, packed);
}

}  // namespace gf
