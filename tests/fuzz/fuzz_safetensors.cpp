// safetensors files (io/safetensors.h) and, when the model spec in their metadata is small, the
// generator load that `sample model.safetensors` does (models/generator_file.h). The input is the
// file. An accepted file's tensors must have the shapes and sizes its header gives them.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/safetensors.h"
#include "models/generator_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gf::fuzz::ScratchFile file(".safetensors");
  gf::fuzz::write_scratch(file.path, data, size);
  gf::SafeTensors st;
  try {
    st = gf::read_safetensors(file.path);
  } catch (const gf::Error& e) {
    gf::fuzz::refused(e);
    return 0;
  }
  uint64_t bytes = 0;
  for (const auto& [name, t] : st.tensors) {
    FUZZ_CHECK(t.defined() && t.is_contiguous(), "safetensors: tensors are defined, contiguous");
    bytes += static_cast<uint64_t>(t.numel()) * t.element_size();
  }
  FUZZ_CHECK(bytes <= size, "safetensors: no tensor holds more bytes than the file");

  const auto spec_text = st.metadata.find("model_spec");
  if (spec_text == st.metadata.end()) return 0;
  gf::ModelSpec spec;
  try {
    spec = gf::ModelSpec::from_json(nlohmann::json::parse(spec_text->second));
    spec.validate();
  } catch (const std::exception& e) {
    gf::fuzz::refused(e);
    return 0;  // load_generator turns these into gf::Error ("bad ganforge metadata")
  }
  if (!gf::fuzz::small_model(spec)) return 0;
  try {
    const gf::LoadedGenerator g = gf::load_generator(file.path);
    FUZZ_CHECK(g.g != nullptr, "safetensors: load_generator returns a generator");
  } catch (const gf::Error& e) {
    gf::fuzz::refused(e);
  }
  return 0;
}
