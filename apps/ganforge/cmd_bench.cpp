#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "core/runtime.h"
#include "models/generator_file.h"
#ifdef GF_WITH_SERVE
#include "serve/api.h"
#include "serve/generate.h"
#endif
#include "train/bench.h"
#include "train/config.h"

namespace gf::cli {

Action add_bench(CLI::App& app) {
  struct Options {
    std::string config;
    std::vector<std::string> overrides;
    BenchOptions bench;
    int64_t threads = 0;
    bool no_generation = false;
    std::string model, request = R"({"n":1,"seed":1,"format":"png"})";
    int64_t requests = 200;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("bench", "time training steps and generation (JSON on stdout)");
  cmd->add_option("--config,-c", o->config, "config JSON or preset name (time training steps)");
  cmd->add_option("--set", o->overrides, "override a config key")->take_all();
  cmd->add_option("--steps", o->bench.steps, "timed steps")->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", o->bench.warmup, "untimed warm-up steps")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--threads", o->threads, "intra-op threads (0: default)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--no-generation", o->no_generation, "time training steps only");
  cmd->add_option("--model", o->model,
                  "checkpoint, run or .safetensors: time a /v1/generate request's work in-process")
      ->excludes("--config");
  cmd->add_option("--request", o->request, "the /v1/generate JSON body to time (with --model)");
  cmd->add_option("--requests", o->requests, "timed requests (with --model)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  return [o] {
#ifdef GF_WITH_SERVE
    if (!o->model.empty()) {
      set_threads(static_cast<int>(o->threads));
      LoadedGenerator model = load_generator(o->model);
      serve::GenerateRequest req;
      try {
        req = serve::parse_generate_request(o->request, {"model"}, serve::Limits{});
        serve::check_request_labels(req, model.spec);
        serve::check_request_latents(req, model.spec);
      } catch (const serve::ApiError& e) {
        throw Error(concat("--request: ", e.what()));
      }
      std::printf("%s\n", serve::time_requests_in_process(req, model, o->requests).dump().c_str());
      return;
    }
#else
    GF_CHECK(o->model.empty(), "bench --model needs a build with `ganforge serve`");
#endif
    GF_CHECK(!o->config.empty(), "bench needs --config (training) or --model (a request)");
    RunConfig config = load_run_config(o->config, o->overrides);
    set_threads(static_cast<int>(o->threads > 0 ? o->threads : config.train.threads));
    o->bench.generation = !o->no_generation;
    std::printf("%s\n", bench_training(config, o->bench).dump().c_str());
  };
}

}  // namespace gf::cli
