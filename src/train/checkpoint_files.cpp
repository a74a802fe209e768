#include "train/checkpoint_files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "core/error.h"
#include "core/runtime.h"
#include "io/checkpoint.h"

namespace gf {

namespace fs = std::filesystem;

std::string checkpoint_path(const std::string& run_dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "step_%06lld%s", static_cast<long long>(step),
                kCheckpointExtension);
  return (fs::path(run_dir) / "checkpoints" / name).string();
}

std::vector<std::string> list_checkpoints(const std::string& run_dir) {
  static const std::regex pattern(R"(step_([0-9]+)\.ckpt)");
  std::vector<std::pair<int64_t, std::string>> found;
  const fs::path dir = fs::path(run_dir) / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && std::regex_match(name, m, pattern)) {
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

LoadedGenerator load_generator(const std::string& path_or_run_dir, const std::string& device,
                               bool use_ema) {
  LoadedGenerator out;
  out.path = resolve_checkpoint(path_or_run_dir);
  const torch::Device dev = parse_device(device);
  CheckpointReader r(out.path, dev);
  out.meta = r.meta();
  try {
    out.spec = ModelSpec::from_json(r.meta().at("model"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(concat(out.path, ": bad model spec in checkpoint (", e.what(), ")"));
  }
  out.spec.validate();
  auto g = build_generator(out.spec);
  out.ema = use_ema && r.has("G_ema");
  try {
    g->load(r.section(out.ema ? "G_ema" : "G"));
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw Error(concat(out.path, ": generator weights do not match the model spec (",
                       what.substr(0, what.find('\n')), ")"));
  }
  g->to(dev);
  g->eval();
  out.g = g;
  return out;
}

}  // namespace gf
