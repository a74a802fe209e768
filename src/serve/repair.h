// POST /v1/repair apart from HTTP: parsing and validating the body, and the repair itself (latent
// projection on the model's worker, apply/repair.h), rendered as a PNG or JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "apply/repair.h"
#include "models/generator_file.h"
#include "serve/api.h"
#include "serve/generate.h"

namespace gf::serve {

// What one repair may ask for (GET /v1/models reports them under limits.repair).
struct RepairLimits {
  int64_t max_steps = 1000;
  int64_t max_restarts = 8;
  nlohmann::json to_json() const;
};

struct RepairRequest {
  std::string model;
  std::string image;         // encoded picture (PNG, JPEG, ...), decoded from base64
  std::string mask;          // encoded mask picture (white: missing), or empty with a box
  std::vector<int64_t> box;  // x, y, w, h
  std::optional<int64_t> label;
  int64_t steps = 200;
  int64_t restarts = 2;
  uint64_t seed = 0;
  bool json = false;  // format json (image, latent, label, loss) instead of png
};

// {"model"?, "image": base64, "mask": base64 | "box": [x, y, w, h], "label"?, "steps"?,
// "restarts"?, "seed"?, "format"?: "png" | "json"}; ApiError(400) naming the field.
RepairRequest parse_repair_request(const std::string& body, const std::vector<std::string>& models,
                                   const RepairLimits& limits);

// The decoded image [1, C, H, W] and known mask [1, 1, H, W], checked against the model (sizes,
// label range); ApiError(400) otherwise.
struct RepairInputs {
  torch::Tensor image, known, labels;
};
RepairInputs repair_inputs(const RepairRequest& req, const ModelSpec& spec);

// Runs on the model's worker: the repaired image and G's whole image for the latent found, as
// [2, C, H, W], and `projection` filled in.
torch::Tensor run_repair(Generator& g, const ModelSpec& spec, const RepairRequest& req,
                         const RepairInputs& in, Projection& projection);

// `images`: run_repair's result.
Rendered render_repair(const RepairRequest& req, const LoadedGenerator& model,
                       const torch::Tensor& images, const Projection& projection);

}  // namespace gf::serve
