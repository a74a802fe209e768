#include "serve/generate.h"

#include <torch/utils.h>

#include <algorithm>
#include <chrono>

#include "io/image.h"
#include "models/sampler.h"
#include "serve/base64.h"

namespace gf::serve {

using nlohmann::json;

GenerationInputs generation_inputs(const GenerateRequest& req, const ModelSpec& spec) {
  GenerationInputs in;
  torch::Tensor given;
  if (!req.latents.empty()) {
    given = torch::empty({static_cast<int64_t>(req.latents.size()), spec.z_dim}, torch::kFloat32);
    for (size_t i = 0; i < req.latents.size(); ++i) {
      given[static_cast<int64_t>(i)].copy_(torch::tensor(req.latents[i], torch::kFloat32));
    }
  }
  if (req.walk()) {
    const auto from = given.defined() ? given[0] : seeded_latents(spec, req.seed, 0, 1)[0];
    const auto to = req.walk_to ? seeded_latents(spec, *req.walk_to, 0, 1)[0]
                    : !req.walk_to_latent.empty()
                        ? torch::tensor(req.walk_to_latent, torch::kFloat32)
                        : from;
    in.z = walk_between(spec, from, to, req.n);
  } else {
    in.z = given.defined() ? given : seeded_latents(spec, req.seed, 0, req.n);
  }
  truncate_latents(in.z, req.truncation);
  if (spec.is_conditional()) {
    if (req.walk()) {
      // A walk keeps its first label's class (default 0), or blends it into walk_to.label's.
      const int64_t from = req.labels.empty() ? 0 : req.labels[0];
      in.labels = req.walk_to_label ? class_blend(spec, from, *req.walk_to_label, req.n)
                                    : torch::full({req.n}, from, torch::kInt64);
    } else if (req.labels.empty()) {
      in.labels = default_labels(spec, 0, req.n);  // cycles through the classes, as `sample`
    } else {
      in.labels = torch::tensor(req.labels, torch::kInt64).expand({req.n}).contiguous();
    }
  }
  return in;
}

Rendered render_response(const GenerateRequest& req, const LoadedGenerator& model,
                         const GenerationInputs& in, const torch::Tensor& images) {
  Rendered out;
  const int64_t step = model.meta.value("step", int64_t{0});
  out.headers["X-Seed"] = std::to_string(req.seed);
  out.headers["X-Model-Step"] = std::to_string(step);
  if (req.format == Format::kPng) {
    if (in.labels.defined() && !in.labels.is_floating_point())
      out.headers["X-Label"] = std::to_string(in.labels[0].item<int64_t>());
    out.body = encode_png(make_grid(images, 1, 0));
    out.content_type = "image/png";
  } else if (req.format == Format::kGrid) {
    out.body = encode_png(make_grid(images));
    out.content_type = "image/png";
  } else {
    json list = json::array();
    for (int64_t i = 0; i < req.n; ++i) {
      json item = {{"index", i},
                   {"seed", req.seed},
                   {"png", base64_encode(encode_png(make_grid(images.narrow(0, i, 1), 1, 0)))}};
      if (in.labels.defined() && in.labels.is_floating_point()) {
        item["class_weights"] = std::vector<float>(
            in.labels[i].data_ptr<float>(), in.labels[i].data_ptr<float>() + in.labels.size(1));
      } else if (in.labels.defined()) {
        item["label"] = in.labels[i].item<int64_t>();
      }
      if (req.walk()) item["t"] = static_cast<double>(i) / static_cast<double>(req.n - 1);
      list.push_back(std::move(item));
    }
    json body = {{"model", req.model},
                 {"seed", req.seed},
                 {"truncation", req.truncation},
                 {"step", step},
                 {"images", std::move(list)}};
    if (req.walk_to) body["walk_to"] = *req.walk_to;
    out.body = body.dump();
    out.content_type = "application/json";
  }
  return out;
}

json time_requests_in_process(const GenerateRequest& req, const LoadedGenerator& model,
                              int64_t requests) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> ms;
  size_t bytes = 0;
  for (int64_t i = -3; i < requests; ++i) {  // 3 untimed warm-up runs
    const auto t0 = Clock::now();
    torch::NoGradGuard no_grad;
    GenerationInputs in = generation_inputs(req, model.spec);
    auto y = in.labels.defined() ? in.labels : torch::Tensor();
    auto images = model.g->forward(in.z, y).to(torch::kCPU, torch::kFloat32);
    bytes += render_response(req, model, in, images).body.size();
    if (i >= 0) ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
  };
  double sum = 0;
  for (double v : ms) sum += v;
  return {{"requests", requests},
          {"rps", 1000.0 * static_cast<double>(ms.size()) / sum},
          {"p50_ms", pct(0.50)},
          {"p99_ms", pct(0.99)},
          {"mean_ms", sum / static_cast<double>(ms.size())},
          {"bytes", bytes}};
}

}  // namespace gf::serve
