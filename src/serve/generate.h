// The work of one /v1/generate request apart from HTTP and the queue: the latents and labels it
// asks for, and the response body made from the generated images. The server and the in-process
// benchmark (`ganforge bench --request`) share it, so the benchmark measures the same work.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>

#include "models/generator_file.h"
#include "serve/api.h"

namespace gf::serve {

struct GenerationInputs {
  torch::Tensor z;       // [n, z_dim] float32, truncated
  torch::Tensor labels;  // [n] int64 for conditional models, else undefined
};
// `req.seed` must be set (the server draws one when the client gave none).
GenerationInputs generation_inputs(const GenerateRequest& req, const ModelSpec& spec);

struct Rendered {
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;
};
// images: [n, C, H, W] in [-1, 1] on the CPU, as generated from generation_inputs().
Rendered render_response(const GenerateRequest& req, const LoadedGenerator& model,
                         const GenerationInputs& in, const torch::Tensor& images);

// Times `requests` runs of one request's whole work in this process (inputs, generator forward,
// PNG encoding), one after another: the server's cost without HTTP, the queue and threads.
// Returns {"requests", "rps", "p50_ms", "p99_ms", "mean_ms"}.
nlohmann::json time_requests_in_process(const GenerateRequest& req, const LoadedGenerator& model,
                                        int64_t requests);

}  // namespace gf::serve
