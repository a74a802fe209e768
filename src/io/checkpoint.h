// The checkpoint file: a LibTorch archive (zip) holding a format tag, a version, a JSON metadata
// document and named sections (module weights, optimizer states, RNG states). It is written to a
// temporary file and renamed, and validated on read, so a crash never leaves half a checkpoint
// and a wrong file gets one clear error.
//
// Sections ganforge writes: "G", "D", "opt_G", "opt_D", "rng". Metadata keys: "model" (the
// ModelSpec), "config" (the resolved run config), "step", "epoch", "ganforge_version".
#pragma once

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gf {

constexpr int64_t kCheckpointVersion = 1;
constexpr const char* kCheckpointFormat = "ganforge-checkpoint";
constexpr const char* kCheckpointExtension = ".ckpt";

// Run directory layout: runs/<name>/checkpoints/step_000500.ckpt
std::string checkpoint_path(const std::string& run_dir, int64_t step);
// The checkpoints of a run, oldest first (by step).
std::vector<std::string> list_checkpoints(const std::string& run_dir);
// A checkpoint file as it is, or a run directory's newest checkpoint.
std::string resolve_checkpoint(const std::string& path_or_run_dir);
// Deletes all but the newest `keep` checkpoints.
void prune_checkpoints(const std::string& run_dir, int64_t keep);

class CheckpointWriter {
 public:
  explicit CheckpointWriter(nlohmann::json meta) : meta_(std::move(meta)) {}
  // The archive a section is serialised into (created on first use).
  torch::serialize::OutputArchive& section(const std::string& name);
  void write(const std::string& path);

 private:
  nlohmann::json meta_;
  std::map<std::string, std::unique_ptr<torch::serialize::OutputArchive>> sections_;
};

class CheckpointReader {
 public:
  // Reads and validates `path`: format tag, version, metadata. Throws gf::Error naming the file.
  explicit CheckpointReader(const std::string& path, torch::Device device = torch::kCPU);
  const nlohmann::json& meta() const { return meta_; }
  const std::string& path() const { return path_; }
  bool has(const std::string& name);
  // The section's archive; a missing section is a gf::Error.
  torch::serialize::InputArchive& section(const std::string& name);

 private:
  std::string path_;
  torch::serialize::InputArchive root_;
  nlohmann::json meta_;
  std::map<std::string, std::unique_ptr<torch::serialize::InputArchive>> sections_;
};

}  // namespace gf
