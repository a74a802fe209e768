#include "train/run_dir.h"

#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "core/json_config.h"
#include "core/log.h"
#include "io/checkpoint.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

// "runs/x/" and "runs/x" are the same directory; DIR.partial goes beside it.
std::string normalised(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  if (p.empty() || p.filename() == "." || p.filename() == "..") {
    p = fs::absolute(p).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
  }
  return p.string();
}

void make_directory(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  GF_CHECK(!ec, "cannot create directory ", p.string(), ": ", ec.message());
}

}  // namespace

RunDirectory::RunDirectory(std::string dir, const RunConfig& config, bool resume, bool overwrite)
    : dir_(std::move(dir)),
      target_(normalised(dir_)),
      staging_(target_ + ".partial"),
      overwrite_(overwrite),
      committed_(resume) {
  std::error_code ec;
  if (resume) {
    // Temporary files of atomic writes that a kill interrupted (checkpoints are the big ones).
    remove_stale_temp_files(dir_);
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      if (entry.is_directory(ec)) remove_stale_temp_files(entry.path().string());
    }
  } else {
    const bool taken = fs::exists(dir_, ec) && !fs::is_empty(dir_, ec);
    GF_CHECK(!taken || overwrite, "run directory ", dir_, " already exists; use --resume ", dir_,
             ", --overwrite, or another --out");
    // --overwrite replaces an earlier run, never a folder or file that is not one: a slip such as
    // `--out ~/Pictures --overwrite` must not delete the pictures.
    GF_CHECK(!taken || fs::is_regular_file(fs::path(dir_) / "config.json", ec), dir_,
             " exists and is not a ganforge run directory (no config.json); --overwrite only ",
             "replaces runs: pick another --out");
    fs::remove_all(staging_, ec);  // left by a start that was killed
    GF_CHECK(!ec, "cannot remove ", staging_, ": ", ec.message());
  }
  try {
    make_directory(fs::path(path("samples")));
    make_directory(fs::path(path("checkpoints")));
    write_file_atomic(path("config.json"), config.to_json().dump(2) + "\n");
    log_to_file(path("log.txt"));
  } catch (...) {
    if (!committed_) fs::remove_all(staging_, ec);
    throw;
  }
}

RunDirectory::~RunDirectory() {
  log_to_file("");
  if (!committed_) {
    // A start that failed (the error says why) leaves nothing behind.
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

void RunDirectory::commit() {
  if (committed_) return;
  std::error_code ec;
  if (overwrite_) {
    fs::remove_all(target_, ec);
    GF_CHECK(!ec, "cannot remove the old run directory ", dir_, ": ", ec.message());
  }
  // rename(2) also replaces an empty directory.
  fs::rename(staging_, target_, ec);
  GF_CHECK(!ec, "cannot move ", staging_, " to ", dir_, ": ", ec.message());
  committed_ = true;
}

std::string RunDirectory::path(const std::string& name) const {
  return (fs::path(committed_ ? dir_ : staging_) / name).string();
}

std::string RunDirectory::samples_path(int64_t step) const {
  char name[32];
  std::snprintf(name, sizeof name, "step_%06lld.png", static_cast<long long>(step));
  return (fs::path(path("samples")) / name).string();
}

std::string RunDirectory::checkpoint_path(int64_t step) const {
  return gf::checkpoint_path(committed_ ? dir_ : staging_, step);
}

void RunDirectory::append_metrics(const nlohmann::json& line) {
  append_file(path("metrics.jsonl"), line.dump() + "\n");
}

void RunDirectory::truncate_metrics(int64_t step) {
  const std::string file = path("metrics.jsonl");
  if (!fs::exists(file)) return;
  std::string kept;
  for (const auto& j : read_jsonl(file)) {
    if (j.contains("step") && j["step"].is_number_integer() && j["step"].get<int64_t>() <= step) {
      kept += j.dump() + "\n";
    }
  }
  write_file_atomic(file, kept);
}

}  // namespace gf
