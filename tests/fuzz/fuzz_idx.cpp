// idx files, raw and gzip'd (data/idx.h): the input is the file. An accepted file must describe
// exactly its data and survive a write and read back unchanged (gzip'd, so both paths run).
#include <cstdint>
#include <string>

#include "core/error.h"
#include "data/idx.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gf::fuzz::ScratchFile in(".idx"), out(".out.idx.gz");
  gf::fuzz::write_scratch(in.path, data, size);
  gf::IdxArray a;
  try {
    a = gf::read_idx(in.path);
  } catch (const gf::Error& e) {
    gf::fuzz::refused(e);
    return 0;
  }
  FUZZ_CHECK(!a.dims.empty() && a.dims.size() <= 4, "idx: 1 to 4 dimensions");
  uint64_t total = 1;
  for (int64_t d : a.dims) {
    FUZZ_CHECK(d > 0, "idx: positive dimensions");
    total *= static_cast<uint64_t>(d);
  }
  FUZZ_CHECK(total == a.data.size(), "idx: the dimensions describe the data");
  gf::write_idx(out.path, a);
  const gf::IdxArray back = gf::read_idx(out.path);
  FUZZ_CHECK(back.dims == a.dims && back.data == a.data, "idx: write then read gives it back");
  return 0;
}
