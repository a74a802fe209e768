#include "serve/api.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/names.h"

namespace gf::serve {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& message) {
  throw ApiError(400, "invalid_request", message);
}

constexpr size_t kMaxLatentSize = 4096;

void parse_walk(const json& w, GenerateRequest& r, const Limits& limits) {
  if (!w.is_object()) {
    r.walk_to =
        static_cast<uint64_t>(integer_field(json{{"walk_to", w}}, "walk_to", 0, limits.max_seed));
    return;
  }
  for (const auto& item : w.items()) {
    if (item.key() != "seed" && item.key() != "latent" && item.key() != "label")
      bad(concat("unknown field 'walk_to.", item.key(), "'; valid: seed, latent, label"));
  }
  if (w.empty()) bad("'walk_to' needs a 'seed' or a 'latent', and/or a 'label'");
  if (w.contains("seed") && w.contains("latent")) bad("'walk_to' takes a 'seed' or a 'latent'");
  if (w.contains("seed"))
    r.walk_to = static_cast<uint64_t>(integer_field(w, "seed", 0, limits.max_seed));
  if (w.contains("latent")) r.walk_to_latent = latent_field(w["latent"], "walk_to.latent");
  if (w.contains("label")) r.walk_to_label = integer_field(w, "label", 0, INT64_MAX);
}

}  // namespace

std::vector<float> latent_field(const json& v, const std::string& what) {
  if (!v.is_array() || v.empty() || v.size() > kMaxLatentSize)
    bad(concat("'", what, "' must be a list of 1 to ", kMaxLatentSize, " numbers"));
  std::vector<float> z;
  z.reserve(v.size());
  for (const auto& x : v) {
    if (!x.is_number() || !(std::fabs(x.get<double>()) <= std::numeric_limits<float>::max()))
      bad(concat("'", what, "' must hold finite numbers only"));
    z.push_back(x.get<float>());
  }
  return z;
}

int64_t integer_field(const json& body, const char* key, int64_t lo, int64_t hi) {
  const json& v = body.at(key);
  if (v.is_number_unsigned()) {
    // nlohmann/json reads every non-negative integer as unsigned.
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi) || static_cast<int64_t>(u) < lo)
      bad(concat("'", key, "' must be in ", lo, "..", hi, ", got ", u));
    return static_cast<int64_t>(u);
  }
  if (!v.is_number_integer()) bad(concat("'", key, "' must be an integer"));
  const auto i = v.get<int64_t>();
  if (i < lo || i > hi) bad(concat("'", key, "' must be in ", lo, "..", hi, ", got ", i));
  return i;
}

std::string error_body(const std::string& code, const std::string& message) {
  // A message may quote the request (a path of raw bytes, "/%FF"): bytes that are not UTF-8 are
  // replaced (U+FFFD), where dump() would throw and the client would get no answer at all.
  return json{{"error", {{"code", code}, {"message", message}}}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

nlohmann::json Limits::to_json() const {
  return {{"max_n", max_n},
          {"max_labels", max_n},
          {"max_body_bytes", max_body_bytes},
          {"seed", {0, max_seed}},
          {"truncation", {min_truncation, 1.0}},
          {"formats", {"png", "grid", "json"}}};
}

json parse_body(const std::string& body, const std::vector<std::string>& keys) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999
    throw ApiError(400, "invalid_json", concat("the body is not valid JSON (", e.what(), ")"));
  }
  if (!j.is_object()) bad("the body must be a JSON object");
  for (const auto& item : j.items()) {
    if (std::find(keys.begin(), keys.end(), item.key()) == keys.end())
      bad(concat("unknown field '", item.key(), "'; valid: ", join_names(keys)));
  }
  return j;
}

std::string model_field(const json& body, const std::vector<std::string>& models) {
  if (!body.contains("model")) {
    if (models.size() == 1) return models[0];
    bad(concat("'model' is required when several are served: ", join_names(models)));
  }
  if (!body["model"].is_string()) bad("'model' must be a string");
  const auto model = body["model"].get<std::string>();
  if (std::find(models.begin(), models.end(), model) == models.end())
    throw ApiError(400, "unknown_model",
                   concat("unknown model '", model, "'; served: ", join_names(models)));
  return model;
}

GenerateRequest parse_generate_request(const std::string& body,
                                       const std::vector<std::string>& models,
                                       const Limits& limits) {
  static const std::vector<std::string> kKeys = {"model",      "n",      "seed",    "labels",
                                                 "truncation", "format", "walk_to", "latent"};
  const json j = parse_body(body, kKeys);
  GenerateRequest r;
  r.model = model_field(j, models);
  if (j.contains("n")) r.n = integer_field(j, "n", 1, limits.max_n);
  if (j.contains("seed")) {
    r.seed = static_cast<uint64_t>(integer_field(j, "seed", 0, limits.max_seed));
    r.seed_given = true;
  }
  if (j.contains("walk_to")) parse_walk(j["walk_to"], r, limits);
  if (j.contains("latent")) {
    const json& l = j["latent"];
    if (l.is_array() && !l.empty() && l[0].is_array()) {
      if (static_cast<int64_t>(l.size()) > limits.max_n)
        bad(concat("at most ", limits.max_n, " latents per request"));
      for (const auto& row : l) r.latents.push_back(latent_field(row, "latent"));
    } else {
      r.latents.push_back(latent_field(l, "latent"));
    }
    const auto count = static_cast<int64_t>(r.latents.size());
    if (r.walk() && count != 1) bad("a walk starts from one latent");
    if (!r.walk()) {
      if (j.contains("n") && r.n != count)
        bad(concat("'n' (", r.n, ") must match the number of latents (", count, ")"));
      r.n = count;
    }
  }
  if (j.contains("truncation")) {
    const json& t = j["truncation"];
    if (!t.is_number()) bad("'truncation' must be a number");
    r.truncation = t.get<double>();
    if (!(r.truncation >= limits.min_truncation && r.truncation <= 1.0))
      bad(concat("'truncation' must be in [", limits.min_truncation, ", 1], got ", r.truncation));
  }
  std::string format = "png";
  if (j.contains("format")) {
    if (!j["format"].is_string()) bad("'format' must be a string");
    format = j["format"].get<std::string>();
  }
  if (format == "png") {
    r.format = Format::kPng;
  } else if (format == "grid") {
    r.format = Format::kGrid;
  } else if (format == "json") {
    r.format = Format::kJson;
  } else {
    bad(concat("unknown format '", format, "'; valid: png, grid, json"));
  }
  if (r.format == Format::kPng && r.n != 1)
    bad(concat("format 'png' returns one image; use 'grid' or 'json' for n = ", r.n));
  if (r.walk() && r.n < 2) bad("a latent walk ('walk_to') needs n >= 2 steps");
  if (j.contains("labels")) {
    const json& l = j["labels"];
    if (!l.is_array()) bad("'labels' must be an array of integers");
    if (l.size() != 1 && static_cast<int64_t>(l.size()) != r.n)
      bad(concat("'labels' needs one label for all images or one per image (", r.n, "), got ",
                 l.size()));
    r.labels.reserve(l.size());
    for (const auto& v : l) {
      if (!v.is_number_integer()) bad("'labels' must be an array of integers");
      r.labels.push_back(v.get<int64_t>());
    }
  }
  return r;
}

void check_request_labels(const GenerateRequest& req, const ModelSpec& spec) {
  if (req.labels.empty()) return;
  if (!spec.is_conditional())
    bad(concat("model '", req.model, "' is unconditional and takes no labels"));
  for (int64_t l : req.labels) {
    if (l < 0 || l >= spec.num_classes)
      bad(concat("label ", l, " is out of range: model '", req.model, "' has classes 0..",
                 spec.num_classes - 1));
  }
}

void check_request_latents(const GenerateRequest& req, const ModelSpec& spec) {
  auto check = [&](const std::vector<float>& z, const char* what) {
    if (static_cast<int64_t>(z.size()) != spec.z_dim)
      bad(concat("'", what, "' must hold ", spec.z_dim, " numbers for model '", req.model,
                 "', got ", z.size()));
  };
  for (const auto& z : req.latents) check(z, "latent");
  if (!req.walk_to_latent.empty()) check(req.walk_to_latent, "walk_to.latent");
  if (req.walk_to_label) {
    if (!spec.is_conditional())
      bad(concat("model '", req.model, "' is unconditional: a walk cannot change class"));
    if (*req.walk_to_label >= spec.num_classes)
      bad(concat("walk_to.label ", *req.walk_to_label, " is out of range: model '", req.model,
                 "' has classes 0..", spec.num_classes - 1));
  }
}

}  // namespace gf::serve
