// Checkpoint files (io/checkpoint.h) as `info`, `sample` and `serve` read them: CheckpointReader
// (the LibTorch archive, format tag, version, metadata), its sections, and, when the model spec
// in the metadata is small, load_generator (the spec validated, G built, its weights loaded).
//
// A checkpoint is a zip of stored members with CRC-32s, so most byte mutations of a whole file
// only test the CRC check. Two input forms therefore:
//   - a file as it is (anything that does not start with "@@ "), e.g. a real checkpoint;
//   - its members, "@@ <name>\n<bytes>" one after the other (tests/fuzz/make_corpus.sh unpacks
//     a real checkpoint so), which the harness packs into a zip with correct CRCs: mutations
//     then reach the pickled metadata, the TorchScript code and the tensor records.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/checkpoint.h"
#include "models/generator_file.h"
#include "zip_members.h"

namespace {

void read_checkpoint(const std::string& path) {
  gf::CheckpointReader r(path);
  FUZZ_CHECK(r.meta().is_object() && r.meta().contains("model") && r.meta().contains("step"),
             "checkpoint: an accepted file has its metadata");
  for (const char* name : {"G", "D", "G_ema", "opt_G", "opt_D", "rng"}) r.has(name);
  gf::ModelSpec spec;
  try {
    spec = gf::ModelSpec::from_json(r.meta().at("model"));
    spec.validate();
  } catch (const nlohmann::json::exception& e) {
    gf::fuzz::refused(e);
    return;  // load_generator turns these into gf::Error ("bad model spec in checkpoint")
  }
  if (!gf::fuzz::small_model(spec)) return;
  const gf::LoadedGenerator g = gf::load_generator(path);
  FUZZ_CHECK(g.g != nullptr, "checkpoint: load_generator returns a generator");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gf::fuzz::ScratchFile file(".ckpt");
  gf::fuzz::write_zip_input(file.path, data, size);
  try {
    read_checkpoint(file.path);
  } catch (const gf::Error& e) {
    gf::fuzz::refused(e);
  }
  return 0;
}
