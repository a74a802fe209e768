// Strict JSON configuration: a user document is merged onto the defaults, and every key must
// already exist there with a compatible type, so a typo is an error that names the valid keys.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gf {

// Runs `read`, which converts JSON values of a file to C++ types. A value of the wrong type or a
// missing key (nlohmann's type_error, out_of_range) becomes a gf::Error naming `what` (the file),
// not an "internal error": a damaged or hand-edited file is bad input like any other.
template <typename Read>
auto read_json_values(const std::string& what, Read&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const nlohmann::json::exception& e) {
    throw Error(concat(what, ": a value has the wrong type or is missing (", e.what(), ")"));
  }
}

// Whether `s` is valid UTF-8, as JSON text must be (nlohmann's dump() throws on anything else).
bool is_utf8(const std::string& s);

// Returns defaults with `user` merged in (objects recursively, everything else replaced).
nlohmann::json merge_strict(const nlohmann::json& defaults, const nlohmann::json& user);

// Applies one "a.b.c=value" override. The value is parsed as JSON when it parses (numbers,
// booleans, arrays, quoted strings) and taken as a plain string otherwise.
void apply_override(nlohmann::json& config, const std::string& assignment);

// Parses a JSON file; gf::Error with the file name and position on failure.
nlohmann::json read_json_file(const std::string& path);

// The JSON-object lines of a JSON Lines file (e.g. metrics.jsonl); other lines are skipped and a
// missing file reads as empty.
std::vector<nlohmann::json> read_jsonl(const std::string& path);

}  // namespace gf
