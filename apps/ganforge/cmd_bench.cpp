#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/runtime.h"
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
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("bench", "time training steps and generation (JSON on stdout)");
  cmd->add_option("--config,-c", o->config, "config preset")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", o->overrides, "override a config key")->take_all();
  cmd->add_option("--steps", o->bench.steps, "timed steps")->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", o->bench.warmup, "untimed warm-up steps")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--threads", o->threads, "intra-op threads (0: default)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--no-generation", o->no_generation, "time training steps only");
  return [o] {
    RunConfig config = load_run_config(o->config, o->overrides);
    set_threads(static_cast<int>(o->threads > 0 ? o->threads : config.train.threads));
    o->bench.generation = !o->no_generation;
    std::printf("%s\n", bench_training(config, o->bench).dump().c_str());
  };
}

}  // namespace gf::cli
