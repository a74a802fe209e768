#include <cstdio>
#include <memory>

#include "apply/synthetic.h"
#include "commands.h"
#include "core/runtime.h"

namespace gf::cli {
namespace {

void print_summary(const nlohmann::json& r) {
  const bool filtered = !r["evaluator"].is_null();
  if (filtered) {
    for (const auto& c : r["classes"]) {
      const auto kept = c["kept"].get<int64_t>(), drawn = c["drawn"].get<int64_t>();
      std::printf("class %-12s kept %6lld of %6lld drawn (%.1f%%)\n",
                  c["name"].get<std::string>().c_str(), static_cast<long long>(kept),
                  static_cast<long long>(drawn),
                  100.0 * static_cast<double>(kept) / static_cast<double>(drawn));
    }
  }
  std::printf("wrote %lld samples (%lld per class of %zu classes, seed %lld, truncation %g",
              static_cast<long long>(r["kept"].get<int64_t>()),
              static_cast<long long>(r["per_class"].get<int64_t>()), r["classes"].size(),
              static_cast<long long>(r["seed"].get<uint64_t>()), r["truncation"].get<double>());
  if (filtered) {
    std::printf("; kept %lld of %lld drawn, acceptance %.1f%% at confidence >= %g by %s",
                static_cast<long long>(r["kept"].get<int64_t>()),
                static_cast<long long>(r["drawn"].get<int64_t>()),
                100.0 * r["acceptance"].get<double>(), r["min_confidence"].get<double>(),
                r["evaluator"].get<std::string>().c_str());
  }
  std::printf(") from %s (step %lld) to %s\n", r["checkpoint"].get<std::string>().c_str(),
              static_cast<long long>(r["step"].get<int64_t>()),
              r["out"].get<std::string>().c_str());
}

}  // namespace

Action add_augment(CLI::App& app) {
  struct Options {
    AugmentRequest req;
    int threads = 0;
    bool no_ema = false, json = false;
  };
  auto o = std::make_shared<Options>();
  auto& r = o->req;
  auto* cmd = app.add_subcommand(
      "augment",
      "write a labelled synthetic dataset (N images per class) from a conditional model");
  cmd->add_option("checkpoint", r.checkpoint, "checkpoint, run directory or .safetensors")
      ->required();
  cmd->add_option("--per-class", r.per_class, "images per class")->required();
  cmd->add_option("--out,-o", r.out,
                  "FILE.idx[.gz] (labels in FILE.labels.idx[.gz]) | DIR (DIR/<class>/*.png)")
      ->required();
  cmd->add_option("--truncation", r.truncation, "truncation psi in (0, 1] (1: none)");
  cmd->add_option("--min-confidence", r.min_confidence,
                  "keep only samples the evaluator gives at least this probability of their class");
  cmd->add_option("--evaluator", r.evaluator,
                  "evaluator for --min-confidence (default: the checkpoint's dataset's)");
  cmd->add_option("--seed", r.seed, "sampling seed")->check(CLI::Range(int64_t{0}, INT64_MAX));
  cmd->add_option("--batch", r.batch, "generation batch size");
  cmd->add_option("--threads", o->threads, "intra-op threads (0: default)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--device", r.device, "cpu | cuda | cuda:N");
  cmd->add_flag("--no-ema", o->no_ema, "sample the raw G even when the checkpoint has an EMA G");
  cmd->add_flag("--json", o->json, "print one JSON object");
  return [o] {
    set_threads(o->threads);
    o->req.use_ema = !o->no_ema;
    const nlohmann::json r = run_augment(o->req);
    if (o->json) {
      std::printf("%s\n", r.dump().c_str());
    } else {
      print_summary(r);
    }
  };
}

}  // namespace gf::cli
