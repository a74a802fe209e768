// The run configuration (train/config.h, core/json_config.h) as `train --config FILE --set K=V`
// reads it (load_run_config): the file parsed, the JSON document merged strictly onto the defaults,
// each --set override applied, the result converted to option structs and validated. The input is
// the config file, with override lines anywhere in it: a line starting with "--set " is one
// override (the rest of the line), every other line belongs to the document. A config that
// validates must also come back unchanged from its resolved form (runs/<name>/config.json, which
// --resume reads).
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_util.h"
#include "train/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::string document;
  std::vector<std::string> overrides;
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, 6, "--set ") == 0) {
      overrides.push_back(line.substr(6));
    } else {
      document += line + "\n";
    }
  }
  static const gf::fuzz::ScratchFile file(".json");
  gf::fuzz::write_scratch(file.path, reinterpret_cast<const uint8_t*>(document.data()),
                          document.size());
  gf::RunConfig config;
  try {
    config = gf::load_run_config(file.path, overrides);
  } catch (const gf::Error& e) {
    gf::fuzz::refused(e);
    return 0;
  }
  const nlohmann::json resolved = config.to_json();
  const gf::RunConfig again =
      gf::config_from_json_strict(nlohmann::json::parse(resolved.dump()), {});
  FUZZ_CHECK(again.to_json() == resolved, "config: the resolved config reads back unchanged");
  return 0;
}
