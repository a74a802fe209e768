#include "core/json_config.h"

#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/file.h"

namespace gf {
namespace {

std::string type_name(const nlohmann::json& v) {
  if (v.is_number()) return "number";
  return v.type_name();
}

bool compatible(const nlohmann::json& def, const nlohmann::json& val) {
  if (def.is_number()) {
    // An integer setting must stay an integer ("steps": 1.5 is an error, "lr": 1 is fine).
    return val.is_number() && (def.is_number_float() || val.is_number_integer());
  }
  return def.type() == val.type();
}

std::string valid_keys(const nlohmann::json& obj) {
  std::string s;
  for (const auto& item : obj.items()) s += (s.empty() ? "" : ", ") + item.key();
  return s;
}

void merge_into(nlohmann::json& base, const nlohmann::json& user, const std::string& prefix) {
  GF_CHECK(user.is_object(), "config", prefix.empty() ? "" : " key '" + prefix + "'",
           " must be a JSON object");
  for (const auto& item : user.items()) {
    const std::string key = prefix.empty() ? item.key() : prefix + "." + item.key();
    GF_CHECK(base.contains(item.key()), "unknown config key '", key, "'; valid keys",
             prefix.empty() ? "" : " in '" + prefix + "'", ": ", valid_keys(base));
    auto& slot = base[item.key()];
    if (slot.is_object()) {
      merge_into(slot, item.value(), key);
      continue;
    }
    GF_CHECK(compatible(slot, item.value()), "config key '", key, "' must be a ",
             slot.is_number_integer() ? "integer" : type_name(slot), ", got ", item.value().dump());
    slot = item.value();
  }
}

}  // namespace

bool is_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

nlohmann::json merge_strict(const nlohmann::json& defaults, const nlohmann::json& user) {
  nlohmann::json out = defaults;
  merge_into(out, user, "");
  return out;
}

void apply_override(nlohmann::json& config, const std::string& assignment) {
  // JSON text is UTF-8: a value that is not would only fail later, when the config is written.
  GF_CHECK(is_utf8(assignment), "--set: the assignment is not valid UTF-8");
  const auto eq = assignment.find('=');
  GF_CHECK(eq != std::string::npos && eq > 0, "--set expects key=value, got '", assignment, "'");
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;
  std::vector<std::string> parts;
  std::string rest = key;
  for (size_t pos; (pos = rest.find('.')) != std::string::npos; rest = rest.substr(pos + 1)) {
    parts.push_back(rest.substr(0, pos));
  }
  parts.push_back(rest);
  std::string pointer;
  for (const auto& part : parts) {
    GF_CHECK(!part.empty(), "--set: bad key '", key, "'");
    std::string escaped;  // RFC 6901: '~' is "~0" and '/' is "~1" inside a pointer token
    for (char c : part) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    pointer += "/" + escaped;
  }
  // A string setting keeps the text even when it would parse as JSON (a run named "2024").
  const nlohmann::json::json_pointer ptr(pointer);
  if (config.contains(ptr) && config.at(ptr).is_string()) value = text;
  // Build {"a": {"b": value}} and merge it with the same checks as a config file.
  nlohmann::json patch = value;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) patch = nlohmann::json{{*it, patch}};
  config = merge_strict(config, patch);
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  if (!std::filesystem::exists(path)) return out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, out_of_range for 1e999
    throw Error(concat(path, ": invalid JSON (", e.what(), ")"));
  }
}

}  // namespace gf
