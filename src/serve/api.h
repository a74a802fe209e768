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
  std::optional<uint64_t> walk_to;  // latent walk from `seed` to this seed in n steps
};

// Parses a /v1/generate body. `models` are the names served (the only one is the default);
// throws ApiError(400) naming the offending field.
GenerateRequest parse_generate_request(const std::string& body,
                                       const std::vector<std::string>& models,
                                       const Limits& limits);

// Checks the request's labels against the model: only conditional models take labels, each in
// 0..num_classes-1. Throws ApiError(400).
void check_request_labels(const GenerateRequest& req, const ModelSpec& spec);

}  // namespace gf::serve
