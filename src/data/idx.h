// The idx file format of MNIST (LeCun et al.): a 4-byte magic (0, 0, type, ndims), ndims
// big-endian uint32 sizes, then the data. ganforge reads and writes unsigned-byte idx files,
// gzip'd or raw, and validates every field against the file before allocating.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gf {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;

  int64_t count() const { return dims.empty() ? 0 : dims[0]; }
};

// Largest payload read_idx accepts unless told otherwise (70,000 28x28 images are 55 MB).
constexpr uint64_t kIdxMaxBytes = 1ULL << 30;

// Reads an idx ubyte file, gzip'd or raw (detected from its first bytes, not its name). Every
// problem (missing, truncated, trailing bytes, wrong magic, unsupported type, absurd sizes) is a
// gf::Error naming the file.
IdxArray read_idx(const std::string& path, uint64_t max_bytes = kIdxMaxBytes);

// Writes atomically; gzip'd when the path ends in ".gz".
void write_idx(const std::string& path, const IdxArray& array);

}  // namespace gf
