// The HTTP API's request and error types: parsing and validating a /v1/generate body against the
// server's limits and the chosen model, independent of the HTTP library. docs/http_api.md is the
// reference.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/spec.h"

namespace gf::serve {

// An error the API answers with: HTTP status, a stable machine-readable code, one sentence.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

// {"error": {"code": ..., "message": ...}}
std::string error_body(const std::string& code, const std::string& message);

// What one request may ask for; reported by GET /v1/models so clients can check up front.
struct Limits {
  int64_t max_n = 256;                // images per request (also the walk's steps)
  size_t max_body_bytes = 64 * 1024;  // request body
  int64_t max_seed = INT64_MAX;       // seeds are 0..max_seed
  double min_truncation = 0.05;       // truncation psi in [min_truncation, 1]
  nlohmann::json to_json() const;
};

enum class Format { kPng, kGrid, kJson };

struct GenerateRequest {
  std::string model;
  int64_t n = 1;
  uint64_t seed = 0;
  bool seed_given = false;      // when absent the server draws one and reports it
  std::vector<int64_t> labels;  // empty, one for all images, or one per image
  double truncation = 1.0;
  Format format = Format::kPng;
  // A walk of n frames from image 0 of `seed` (or the given latent) to image 0 of `walk_to`, to
  // `walk_to_latent`, and/or from the first label's class to `walk_to_label` (class embeddings
  // blended): a projected 3 that turns into an 8. JSON: "walk_to": SEED | {"seed" | "latent",
  // "label"}.
  std::optional<uint64_t> walk_to;
  std::vector<float> walk_to_latent;
  std::optional<int64_t> walk_to_label;
  // Given latents (a projection's, from `ganforge project` or /v1/repair) instead of seeded ones:
  // n images from n latents, or a walk's start.
  std::vector<std::vector<float>> latents;
  bool walk() const { return walk_to || !walk_to_latent.empty() || walk_to_label; }
};

// Parses a /v1/generate body. `models` are the names served (the only one is the default);
// throws ApiError(400) naming the offending field.
GenerateRequest parse_generate_request(const std::string& body,
                                       const std::vector<std::string>& models,
                                       const Limits& limits);

// Checks the request's labels against the model: only conditional models take labels, each in
// 0..num_classes-1. Throws ApiError(400).
void check_request_labels(const GenerateRequest& req, const ModelSpec& spec);
// Checks given latents and walk targets against the model: z_dim numbers each, a class walk only
// for conditional models. Throws ApiError(400).
void check_request_latents(const GenerateRequest& req, const ModelSpec& spec);

// A request body: a JSON object with only `keys`; ApiError(400) otherwise (invalid_json for
// what does not parse).
nlohmann::json parse_body(const std::string& body, const std::vector<std::string>& keys);
// The request's model: its "model" field, which must be served, or the only one served.
std::string model_field(const nlohmann::json& body, const std::vector<std::string>& models);

// A list of finite numbers (a latent) from a JSON field; ApiError(400) naming `what` otherwise.
std::vector<float> latent_field(const nlohmann::json& v, const std::string& what);
// An integer field within [lo, hi]; JSON floats, strings and booleans are refused, not coerced.
int64_t integer_field(const nlohmann::json& body, const char* key, int64_t lo, int64_t hi);

}  // namespace gf::serve
