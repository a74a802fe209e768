#include "data/folder_tools.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/file.h"
#include "data/idx_dir.h"
#include "data/image_file.h"
#include "data/image_folder.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

std::string mode_name(const ImageHeader& h) {
  switch (h.channels) {
    case 1:
      return "L (grey)";
    case 2:
      return "LA (grey + alpha)";
    case 3:
      return "RGB";
    default:
      return "RGBA";
  }
}

nlohmann::json top_counts(const std::map<std::string, int64_t>& counts, size_t keep) {
  std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > keep) v.resize(keep);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [k, n] : v) out.push_back({k, n});
  return out;
}

}  // namespace

nlohmann::json inspect_image_folder(const std::string& dir) {
  const FolderScan scan = scan_image_folder(dir);
  std::map<std::string, int64_t> formats, modes, sizes;
  std::vector<int64_t> per_class(scan.classes.size(), 0);
  nlohmann::json bad = nlohmann::json::array();
  ImagePrep check;
  check.resolution = 4;
  for (const auto& f : scan.files) {
    const std::string path = (fs::path(scan.root) / f.rel).string();
    try {
      const std::string bytes = read_file(path);
      const ImageHeader h = probe_image(bytes, path);
      prepare_image(bytes, path, check);  // decodes fully: finds truncated and corrupt files
      ++formats[h.format];
      ++modes[mode_name(h)];
      ++sizes[std::to_string(h.width) + "x" + std::to_string(h.height)];
      if (f.label >= 0) ++per_class[f.label];
    } catch (const std::exception& e) {
      bad.push_back({{"file", f.rel}, {"reason", first_line(e.what())}});
    }
  }
  nlohmann::json classes = nlohmann::json::array();
  for (size_t c = 0; c < scan.classes.size(); ++c) {
    classes.push_back({{"name", scan.classes[c]}, {"images", per_class[c]}});
  }
  return {{"root", scan.root},
          {"files", scan.files.size()},
          {"images", static_cast<int64_t>(scan.files.size()) - static_cast<int64_t>(bad.size())},
          {"labelled", !scan.classes.empty()},
          {"classes", classes},
          {"formats", formats},
          {"modes", modes},
          {"sizes", top_counts(sizes, 12)},
          {"distinct_sizes", sizes.size()},
          {"ignored", scan.ignored},
          {"bad", bad}};
}

nlohmann::json pack_image_folder(const DataOptions& options, const std::string& out_arg) {
  // "packed/" and "packed" are the same directory; the temporary one goes beside it.
  fs::path out_path = fs::path(out_arg).lexically_normal();
  if (out_path.filename().empty()) out_path = out_path.parent_path();
  const std::string out = out_path.string();
  GF_CHECK(!out.empty(), "dataset pack needs an output directory");
  GF_CHECK(!fs::exists(out) || (fs::is_directory(out) && fs::is_empty(out)), out,
           " already exists; choose another --out or remove it");
  DataOptions o = options;
  o.dataset = "folder";
  o.cache_dir = "none";
  o.mirror = false;
  o.limit = 0;
  o.validate();
  const fs::path tmp = out + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp);
  nlohmann::json info = {{"format", "ganforge-pack-1"}, {"source", o.to_json()}};
  try {
    for (const char* split : {"train", "test"}) {
      o.split = split;
      FolderSamples s = load_image_folder(o);
      write_idx_split(tmp.string(), split, {s.pixels, s.labels, s.classes});
      info[split] = {{"images", s.pixels.size(0)}, {"skipped", s.skipped}};
      info["classes"] = s.classes;
      info["shape"] = s.pixels.sizes().slice(1).vec();
    }
    write_file_atomic((tmp / "pack.json").string(), info.dump(2) + "\n");
    if (fs::exists(out)) fs::remove(out);  // the empty directory checked above
    fs::rename(tmp, out);
  } catch (const Error& e) {
    // A pack that cannot be written (a full disk) leaves nothing half-written behind.
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw Error(concat("dataset pack into ", out, " failed, nothing was written: ", e.what()));
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  return info;
}

}  // namespace gf
