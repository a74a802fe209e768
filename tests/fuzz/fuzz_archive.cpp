// The check in front of LibTorch's checkpoint loader (io/torch_archive.h): the zip's end record
// and central directory, every `code/*.py` member (stored or deflated, CRC-32 checked) and the
// line grammar of its class declarations. The checkpoint target reaches the same code but runs
// LibTorch's loader behind it at about 60 inputs a second; this one fuzzes ganforge's own zip and
// grammar code alone, thousands of times faster. Inputs are a file, or its members in the form
// of zip_members.h.
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/torch_archive.h"
#include "zip_members.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gf::fuzz::ScratchFile file(".ckpt");
  gf::fuzz::write_zip_input(file.path, data, size);
  try {
    gf::check_torch_archive(file.path);
  } catch (const gf::Error& e) {
    gf::fuzz::refused(e);
  }
  return 0;
}
