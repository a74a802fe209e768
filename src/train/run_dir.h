// The run directory (runs/<name>/: config.json, log.txt, metrics.jsonl, samples/, checkpoints/)
// as a training run writes it, made safe against kills and full disks:
// - a new run is built in DIR.partial and renamed to DIR once it holds its config, its step-0
//   sample grid and its step-0 checkpoint, so every DIR that exists has a checkpoint that
//   `ganforge info` reads and `--resume` continues; a start that is killed leaves no DIR (the
//   same command starts again) and a start that fails removes DIR.partial;
// - metrics lines are appended whole or not at all (a full disk leaves no torn line);
// - resuming removes the temporary files of atomic writes that a kill interrupted.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "train/config.h"

namespace gf {

class RunDirectory {
 public:
  // resume: DIR exists already. Otherwise DIR must not exist or be empty, unless `overwrite`
  // (then the old DIR is replaced by commit(), not before).
  RunDirectory(std::string dir, const RunConfig& config, bool resume, bool overwrite);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  // Moves a new run into place (no-op once done, and for a resumed run).
  void commit();
  bool committed() const { return committed_; }

  // Paths inside the directory where files go now: DIR.partial until commit(), DIR after.
  std::string path(const std::string& name) const;
  std::string samples_path(int64_t step) const;
  std::string checkpoint_path(int64_t step) const;

  // One line of metrics.jsonl, whole or not at all; gf::Error naming the file when it cannot.
  void append_metrics(const nlohmann::json& line);
  // Keeps the metrics lines up to `step` (a resumed run rewrites what came after its checkpoint;
  // lines that do not parse, such as one cut by a crash, are dropped).
  void truncate_metrics(int64_t step);

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;      // as the user gave it
  std::string target_;   // the same, normalised ("runs/x/" -> "runs/x")
  std::string staging_;  // DIR.partial (new runs)
  bool overwrite_ = false;
  bool committed_ = true;
};

}  // namespace gf
