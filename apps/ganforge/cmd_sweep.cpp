#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "train/sweep.h"

namespace gf::cli {
namespace {

std::string quoted(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

// The command that runs one setting of this sweep (for spreading a sweep over machines).
std::string command_for(const SweepRequest& r, const std::string& id) {
  std::string c = "ganforge sweep";
  if (!r.config_path.empty()) c += " --config " + quoted(r.config_path);
  for (const auto& g : r.grid) c += " --grid " + quoted(g);
  for (const auto& o : r.overrides) c += " --set " + quoted(o);
  if (!r.data_dir.empty()) c += " --data " + quoted(r.data_dir);
  if (!r.out.empty()) c += " --out " + quoted(r.out);
  if (!r.time.empty()) c += " --time " + quoted(r.time);
  if (r.steps >= 0) c += " --steps " + std::to_string(r.steps);
  if (r.threads >= 0) c += " --threads " + std::to_string(r.threads);
  c += " --eval-n " + std::to_string(r.eval_n);
  if (!r.evaluator.empty()) c += " --evaluator " + quoted(r.evaluator);
  return c + " --only " + quoted(id);
}

}  // namespace

Action add_sweep(CLI::App& app) {
  auto req = std::make_shared<SweepRequest>();
  auto list = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "sweep", "train every combination of a grid of config values and rank them by FID");
  cmd->add_option("--config,-c", req->config_path,
                  "config JSON or preset name every setting starts from");
  cmd->add_option("--grid", req->grid, "a key and its values: --grid 'train.lr_g=1e-4,2e-4'")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--set", req->overrides, "a config override for every setting")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--data", req->data_dir, "data directory (idx files or a folder of images)");
  cmd->add_option("--out,-o", req->out, "sweep directory (default runs/sweep-<name>)");
  auto* time =
      cmd->add_option("--time", req->time, "wall-clock budget per setting (90s, 5m, 1h30m)");
  cmd->add_option("--steps", req->steps, "training steps per setting")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->excludes(time);
  cmd->add_option("--threads", req->threads, "intra-op threads per run (0: default)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--eval-n", req->eval_n, "generated samples per evaluation")
      ->check(CLI::Range(int64_t{20}, int64_t{200000}));
  cmd->add_option("--evaluator", req->evaluator, "evaluator file (default: the data's)");
  cmd->add_option("--only", req->only, "run only these settings (ids from --list)")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_flag("--list", *list, "print the settings and a command per setting, train nothing");
  return [req, list] {
    if (*list) {
      for (const auto& s : checked_settings(*req)) {
        std::string a;
        for (const auto& x : s.assignments) a += (a.empty() ? "" : " ") + x;
        std::printf("%s: %s\n  %s\n", s.id.c_str(), a.c_str(), command_for(*req, s.id).c_str());
      }
      return;
    }
    const SweepSummary s = run_sweep(*req);
    std::printf("sweep directory: %s\n", s.dir.c_str());
    std::printf("settings:        %lld trained, %lld finished earlier, %lld failed, %lld pending\n",
                static_cast<long long>(s.trained), static_cast<long long>(s.skipped),
                static_cast<long long>(s.failed), static_cast<long long>(s.pending));
    std::printf("table:           %s (and %s)\n", s.markdown.c_str(), s.json.c_str());
    std::printf("page:            %s\n", s.page.c_str());
    if (!s.rows.empty() && s.rows[0].value("status", "") == "done" && s.rows[0].contains("fid") &&
        s.rows[0]["fid"].is_number()) {
      std::printf("best:            %s (FID %.2f)\n", s.rows[0]["id"].get<std::string>().c_str(),
                  s.rows[0]["fid"].get<double>());
    }
  };
}

}  // namespace gf::cli
