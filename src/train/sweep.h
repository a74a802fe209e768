// Hyper-parameter sweeps (`ganforge sweep`): every combination of a grid of config values is
// trained (one after the other, or spread over machines with --only), evaluated with the data's
// evaluator, and ranked by FID in results.md, results.json and an HTML page with each setting's
// sample grid. A setting is finished when its sweep_result.json exists: a rerun skips finished
// settings and resumes started ones from their last checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gf {

struct SweepRequest {
  std::string config_path;  // preset every setting starts from
  // "train.lr_g=1e-4,2e-4"; commas inside [] or "" belong to a value ("a,b" loses its quotes)
  std::vector<std::string> grid;
  std::vector<std::string> overrides;  // --set, applied to every setting before its values
  std::string data_dir;                // --data DIR for every setting
  std::string out;                     // sweep directory; empty: runs/sweep-<config name>
  std::string time;                    // per-setting budget (--time); empty: the config's
  int64_t steps = -1;                  // per-setting steps; -1: the config's
  int64_t threads = -1;                // -1: the config's
  int64_t eval_n = 2000;               // samples per evaluation
  std::string evaluator;               // empty: the data's default evaluator
  std::vector<std::string> only;       // run only these setting ids (others are not touched)
};

struct SweepSetting {
  std::string id;                        // directory name: "03-lr_g=1e-4-g_channels=32"
  std::vector<std::string> assignments;  // "train.lr_g=1e-4", ...
};

// Every combination, the last --grid varying fastest. gf::Error for a malformed or repeated key.
std::vector<SweepSetting> expand_grid(const std::vector<std::string>& grid);

// The request's settings, each config checked as `train` checks it (an unknown key or a bad value
// fails now, not when its turn comes), and --only's ids checked against them. `name`, if given,
// receives the config's run name.
std::vector<SweepSetting> checked_settings(const SweepRequest& request,
                                           std::string* name = nullptr);

struct SweepSummary {
  std::string dir;
  int64_t trained = 0, skipped = 0, failed = 0, pending = 0;
  nlohmann::json rows;               // results.json's rows, best first
  std::string markdown, json, page;  // the files written
};

// Runs (or resumes) the sweep; a setting whose training fails is recorded as failed and the
// sweep goes on. To spread a sweep over machines or GPUs, run the same command with --only ID on
// each (sharing the sweep directory, or copying the settings' directories back), then once
// without --only to collect the table.
SweepSummary run_sweep(const SweepRequest& request);

}  // namespace gf
