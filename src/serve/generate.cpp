#include "serve/generate.h"

#include <openssl/evp.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>

#include "io/image.h"
#include "models/sampler.h"

namespace gf::serve {
namespace {

using nlohmann::json;

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

GenerationInputs generation_inputs(const GenerateRequest& req, const ModelSpec& spec) {
  GenerationInputs in;
  in.z = req.walk_to ? walk_latents(spec, req.seed, *req.walk_to, req.n)
                     : seeded_latents(spec, req.seed, 0, req.n);
  truncate_latents(in.z, req.truncation);
  if (spec.is_conditional()) {
    if (req.labels.empty()) {
      // A walk keeps one class (the first); a batch cycles through them, as `sample` does.
      in.labels =
          req.walk_to ? torch::zeros({req.n}, torch::kInt64) : default_labels(spec, 0, req.n);
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
    if (in.labels.defined()) out.headers["X-Label"] = std::to_string(in.labels[0].item<int64_t>());
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
                   {"png", base64(encode_png(make_grid(images.narrow(0, i, 1), 1, 0)))}};
      if (in.labels.defined()) item["label"] = in.labels[i].item<int64_t>();
      if (req.walk_to) item["t"] = static_cast<double>(i) / static_cast<double>(req.n - 1);
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
