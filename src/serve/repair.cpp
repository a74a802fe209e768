#include "serve/repair.h"

#include <algorithm>

#include "core/error.h"
#include "core/names.h"
#include "io/image.h"
#include "serve/base64.h"

namespace gf::serve {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& message) {
  throw ApiError(400, "invalid_request", message);
}

std::string base64_field(const json& j, const char* key) {
  if (!j[key].is_string()) bad(concat("'", key, "' must be a base64 string (a PNG)"));
  return base64_decode(j[key].get<std::string>(), key);
}

}  // namespace

json RepairLimits::to_json() const {
  return {{"max_steps", max_steps}, {"max_restarts", max_restarts}};
}

RepairRequest parse_repair_request(const std::string& body, const std::vector<std::string>& models,
                                   const RepairLimits& limits) {
  static const std::vector<std::string> kKeys = {"model", "image",    "mask", "box",   "label",
                                                 "steps", "restarts", "seed", "format"};
  const json j = parse_body(body, kKeys);
  RepairRequest r;
  r.model = model_field(j, models);
  if (!j.contains("image")) bad("'image' (a base64 PNG) is required");
  r.image = base64_field(j, "image");
  if (j.contains("mask") == j.contains("box")) bad("give the hole as 'mask' or as 'box'");
  if (j.contains("mask")) r.mask = base64_field(j, "mask");
  if (j.contains("box")) {
    const json& b = j["box"];
    if (!b.is_array() || b.size() != 4) bad("'box' must be [x, y, w, h]");
    for (const auto& v : b) {
      if (!v.is_number_integer()) bad("'box' must be [x, y, w, h] in whole pixels");
      r.box.push_back(v.get<int64_t>());
    }
  }
  if (j.contains("label")) r.label = integer_field(j, "label", 0, INT64_MAX);
  if (j.contains("steps")) r.steps = integer_field(j, "steps", 1, limits.max_steps);
  if (j.contains("restarts")) r.restarts = integer_field(j, "restarts", 1, limits.max_restarts);
  if (j.contains("seed")) r.seed = static_cast<uint64_t>(integer_field(j, "seed", 0, INT64_MAX));
  if (j.contains("format")) {
    if (!j["format"].is_string() ||
        (j["format"].get<std::string>() != "png" && j["format"].get<std::string>() != "json"))
      bad("'format' must be 'png' or 'json'");
    r.json = j["format"].get<std::string>() == "json";
  }
  return r;
}

RepairInputs repair_inputs(const RepairRequest& req, const ModelSpec& spec) {
  if (spec.out_shape.size() != 3) bad(concat("model '", req.model, "' does not make images"));
  RepairInputs in;
  const int64_t h = spec.out_shape[1], w = spec.out_shape[2];
  try {
    in.image = decode_image_for(req.image, "'image'", spec.out_shape).unsqueeze(0);
    in.known = req.mask.empty() ? box_mask(1, h, w, req.box)
                                : decode_mask(req.mask, "'mask'", h, w).unsqueeze(0);
  } catch (const Error& e) {
    bad(e.what());
  }
  if (req.label) {
    if (!spec.is_conditional())
      bad(concat("model '", req.model, "' is unconditional and takes no label"));
    if (*req.label >= spec.num_classes)
      bad(concat("label ", *req.label, " is out of range: model '", req.model, "' has classes 0..",
                 spec.num_classes - 1));
  }
  in.labels = torch::full({1}, req.label.value_or(-1), torch::kInt64);
  return in;
}

torch::Tensor run_repair(Generator& g, const ModelSpec& spec, const RepairRequest& req,
                         const RepairInputs& in, Projection& projection) {
  RepairOptions o;
  o.project.steps = req.steps;
  o.project.restarts = req.restarts;
  o.project.seed = req.seed;
  const RepairResult r = repair_images(g, spec, in.image, in.known, in.labels, {}, o);
  projection = r.projections.at(0);
  return torch::cat({r.images, r.generated});
}

Rendered render_repair(const RepairRequest& req, const LoadedGenerator& model,
                       const torch::Tensor& images, const Projection& projection) {
  Rendered out;
  const std::string png = encode_png(make_grid(images.narrow(0, 0, 1), 1, 0));
  out.headers["X-Model-Step"] = std::to_string(model.meta.value("step", int64_t{0}));
  out.headers["X-Loss"] = std::to_string(projection.loss);
  if (projection.label >= 0) out.headers["X-Label"] = std::to_string(projection.label);
  if (!req.json) {
    out.body = png;
    out.content_type = "image/png";
    return out;
  }
  const auto z = projection.z.contiguous();
  json body = {
      {"model", req.model},
      {"png", base64_encode(png)},
      {"generated_png", base64_encode(encode_png(make_grid(images.narrow(0, 1, 1), 1, 0)))},
      {"latent", std::vector<float>(z.data_ptr<float>(), z.data_ptr<float>() + z.numel())},
      {"loss", projection.loss},
      {"mse", projection.mse},
      {"restart", projection.restart},
      {"seed", req.seed},
      {"steps", req.steps}};
  if (projection.label >= 0) body["label"] = projection.label;
  out.body = body.dump();
  out.content_type = "application/json";
  return out;
}

}  // namespace gf::serve
