// Shared by the libFuzzer targets (docs/reliability.md, "Fuzzing"). A harness feeds one input to
// a parser and catches the errors the parser documents (gf::Error, serve::ApiError): they are
// the right answer to bad input. Anything else is a finding that libFuzzer records: a crash or
// sanitizer report, an exception of any other type (uncaught, so std::terminate aborts), or a
// broken invariant of an accepted input (FUZZ_CHECK).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "models/spec.h"

#define FUZZ_CHECK(cond, what)                                               \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "FUZZ INVARIANT BROKEN: %s (%s)\n", what, #cond); \
      std::abort();                                                          \
    }                                                                        \
  } while (0)

namespace gf::fuzz {

// A scratch file for parsers that take a path: one per process and suffix (libFuzzer's -jobs
// workers are processes), in /dev/shm when there is one, so no input touches a disk.
inline std::string scratch_path(const std::string& suffix) {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/ganforge_fuzz_" + std::to_string(getpid()) + suffix;
}

inline void write_scratch(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(f != nullptr, "cannot create the scratch file");
  FUZZ_CHECK(size == 0 || std::fwrite(data, 1, size, f) == size, "cannot write the scratch file");
  std::fclose(f);
}

// Removes the scratch files when the process exits normally (-runs, -max_total_time).
struct ScratchFile {
  std::string path;
  explicit ScratchFile(const std::string& suffix) : path(scratch_path(suffix)) {}
  ~ScratchFile() { std::remove(path.c_str()); }
};

// GF_FUZZ_VERBOSE=1 prints why each input was refused: to check that seeds are accepted and reach
// the deeper stages (`GF_FUZZ_VERBOSE=1 fuzz_config -runs=0 corpus/config`).
inline void refused(const std::exception& e) {
  static const bool verbose = std::getenv("GF_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
}

// Whether a validated model spec is small enough to build on every input: files that pass the
// parsers go on to load_generator (as `sample` and `serve` load them) only then, so that the
// fuzzer spends its time on the file formats, not on allocating large models.
inline bool small_model(const ModelSpec& s) {
  auto small = [](const std::vector<int64_t>& v, int64_t cap) {
    for (int64_t x : v) {
      if (x > cap) return false;
    }
    return true;
  };
  return s.z_dim <= 64 && small(s.g_hidden, 64) && small(s.d_hidden, 64) && s.g_channels <= 16 &&
         s.d_channels <= 16 && s.embed_dim <= 16 && s.out_numel() <= 3 * 32 * 32 &&
         s.num_classes <= 16;
}

}  // namespace gf::fuzz
