#include "io/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "core/file.h"
#include "io/torch_archive.h"

namespace gf {
namespace fs = std::filesystem;

std::string checkpoint_path(const std::string& run_dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "step_%06lld%s", static_cast<long long>(step),
                kCheckpointExtension);
  return (fs::path(run_dir) / "checkpoints" / name).string();
}

std::vector<std::string> list_checkpoints(const std::string& run_dir) {
  // At most 18 digits, so that the step fits an int64 (ganforge writes 6 or more).
  static const std::regex pattern(R"(step_([0-9]{1,18})\.ckpt)");
  std::vector<std::pair<int64_t, std::string>> found;
  const fs::path dir = fs::path(run_dir) / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && std::regex_match(name, m, pattern)) {
      found.emplace_back(std::stoll(m[1].str()), entry.path().string());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

std::string resolve_checkpoint(const std::string& path) {
  if (fs::is_directory(path)) {
    const auto all = list_checkpoints(path);
    GF_CHECK(!all.empty(), path, ": run directory has no checkpoints");
    return all.back();
  }
  GF_CHECK(fs::is_regular_file(path), path, ": no such checkpoint file or run directory");
  return path;
}

void prune_checkpoints(const std::string& run_dir, int64_t keep) {
  auto all = list_checkpoints(run_dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) {
    std::error_code ec;
    fs::remove(all[i], ec);
  }
}

torch::serialize::OutputArchive& CheckpointWriter::section(const std::string& name) {
  auto& slot = sections_[name];
  if (!slot) slot = std::make_unique<torch::serialize::OutputArchive>();
  return *slot;
}

void CheckpointWriter::write(const std::string& path) {
  torch::serialize::OutputArchive root;
  root.write("format", c10::IValue(std::string(kCheckpointFormat)));
  root.write("version", c10::IValue(kCheckpointVersion));
  root.write("meta", c10::IValue(meta_.dump()));
  for (auto& [name, archive] : sections_) root.write("section_" + name, *archive);
  std::ostringstream bytes;
  root.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

CheckpointReader::CheckpointReader(const std::string& path, torch::Device device) : path_(path) {
  GF_CHECK(std::filesystem::is_regular_file(path), path, ": no such checkpoint file");
  check_torch_archive(path);  // before LibTorch's TorchScript importer sees the file
  try {
    root_.load_from(path, device);
  } catch (const c10::Error& e) {
    throw Error(concat(path, ": not a readable ganforge checkpoint (",
                       first_line(e.what_without_backtrace()), ")"));
  } catch (const std::exception& e) {
    // LibTorch's loader also throws TorchScript's ErrorReport (its message after a blank line),
    // the lexer's runtime_error and out_of_range on damaged archives (found by fuzzing).
    std::string what = e.what();
    what.erase(0, what.find_first_not_of("\n "));
    throw Error(concat(path, ": not a readable ganforge checkpoint (", first_line(what), ")"));
  }
  c10::IValue format, version, meta;
  GF_CHECK(root_.try_read("format", format) && format.isString() &&
               format.toStringRef() == kCheckpointFormat,
           path, ": not a ganforge checkpoint (no format tag)");
  GF_CHECK(root_.try_read("version", version) && version.isInt(), path,
           ": checkpoint has no version");
  GF_CHECK(version.toInt() == kCheckpointVersion, path, ": checkpoint format version ",
           version.toInt(), " is not supported (this ganforge reads version ", kCheckpointVersion,
           ")");
  GF_CHECK(root_.try_read("meta", meta) && meta.isString(), path, ": checkpoint has no metadata");
  try {
    meta_ = nlohmann::json::parse(meta.toStringRef());
  } catch (const nlohmann::json::exception& e) {
    throw Error(concat(path, ": corrupt checkpoint metadata (", e.what(), ")"));
  }
  GF_CHECK(meta_.is_object() && meta_.contains("model") && meta_.contains("step"), path,
           ": checkpoint metadata lacks the model spec or step");
  GF_CHECK(meta_["step"].is_number_integer(), path, ": the checkpoint's step is not an integer");
}

bool CheckpointReader::has(const std::string& name) {
  if (sections_.count(name)) return true;
  auto archive = std::make_unique<torch::serialize::InputArchive>();
  if (!root_.try_read("section_" + name, *archive)) return false;
  sections_[name] = std::move(archive);
  return true;
}

torch::serialize::InputArchive& CheckpointReader::section(const std::string& name) {
  GF_CHECK(has(name), path_, ": checkpoint has no '", name, "' section");
  return *sections_.at(name);
}

}  // namespace gf
