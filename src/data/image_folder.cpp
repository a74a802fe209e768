#include "data/image_folder.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "core/error.h"
#include "core/file.h"
#include "core/json_config.h"
#include "core/log.h"
#include "core/names.h"
#include "data/dataset.h"
#include "data/idx_dir.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

// Bump when decoding or preprocessing changes, so old caches are not reused.
constexpr const char* kCacheFormat = "ganforge-folder-cache-1";

uint64_t fnv1a(const std::string& s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

std::string hex64(uint64_t h, int digits = 16) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf).substr(16 - digits);
}

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const char* e : {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga"}) {
    if (ext == e) return true;
  }
  return false;
}

std::string extension_key(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext.empty() ? "(none)" : ext;
}

int64_t mtime_ns(const fs::directory_entry& e) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             e.last_write_time().time_since_epoch())
      .count();
}

class Walker {
 public:
  explicit Walker(FolderScan& scan) : scan_(scan) {}

  // Adds the images under `dir` with `label`; `rel` is dir's path relative to the root.
  void walk(const fs::path& dir, const std::string& rel, int64_t label) {
    std::error_code ec;
    const fs::path canonical = fs::canonical(dir, ec);
    GF_CHECK(!ec, dir.string(), ": cannot resolve (", ec.message(), ")");
    GF_CHECK(visiting_.insert(canonical.string()).second, dir.string(),
             ": symlink loop (this folder is already being read as ", canonical.string(), ")");
    fs::directory_iterator it(dir, ec), end;
    GF_CHECK(!ec, dir.string(), ": cannot read the directory (", ec.message(), ")");
    std::vector<fs::directory_entry> entries;
    for (; it != end; it.increment(ec)) {
      GF_CHECK(!ec, dir.string(), ": cannot read the directory (", ec.message(), ")");
      entries.push_back(*it);
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.path().filename() < b.path().filename();
    });
    for (const auto& e : entries) {
      const std::string name = e.path().filename().string();
      const std::string child = rel.empty() ? name : rel + "/" + name;
      if (name.empty() || name[0] == '.') {
        ++scan_.ignored["(hidden)"];
      } else if (e.is_directory(ec)) {
        walk(e.path(), child, label);
      } else if (e.is_regular_file(ec) && is_image_name(e.path())) {
        scan_.files.push_back({child, static_cast<int64_t>(e.file_size(ec)), mtime_ns(e), label});
      } else {
        ++scan_.ignored[extension_key(e.path())];
      }
    }
    visiting_.erase(canonical.string());
  }

 private:
  FolderScan& scan_;
  std::set<std::string> visiting_;
};

// 1 when every image of the dataset (both splits: they must agree) is stored grey, else 3.
int64_t auto_channels(const std::vector<std::string>& paths, bool skip_bad) {
  for (const auto& path : paths) {
    try {
      if (!probe_image(read_file(path), path).grey()) return 3;
    } catch (const Error&) {
      if (!skip_bad) throw;
    }
  }
  return 1;
}

// Decodes and prepares every file on all cores; a bad file is an error naming it, or skipped.
FolderSamples decode_all(const FolderScan& scan, const std::vector<FolderFile>& files,
                         const DataOptions& o, int64_t channels) {
  ImagePrep prep;
  prep.resolution = o.resolution;
  prep.resize = o.resize;
  prep.background = parse_colour(o.background);
  prep.channels = channels;
  const int64_t n = static_cast<int64_t>(files.size());
  std::vector<torch::Tensor> out(n);
  std::vector<std::string> errors(n);
  const int64_t workers =
      std::max<int64_t>(1, std::min<int64_t>(std::thread::hardware_concurrency(), 8));
  std::vector<std::thread> pool;
  for (int64_t w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      for (int64_t i = w; i < n; i += workers) {
        const std::string path = (fs::path(scan.root) / files[i].rel).string();
        try {
          out[i] = prepare_image(read_file(path), path, prep);
        } catch (const std::exception& e) {
          errors[i] = first_line(e.what());
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  FolderSamples s;
  s.classes = scan.classes;
  std::vector<torch::Tensor> kept;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) {
      GF_CHECK(o.skip_bad, errors[i], " (data.skip_bad=true skips bad files)");
      s.skipped.push_back(errors[i]);
      continue;
    }
    kept.push_back(out[i]);
    labels.push_back(files[i].label);
  }
  GF_CHECK(!kept.empty(), scan.root, ": every image was skipped as unreadable");
  s.pixels = torch::stack(kept);
  if (!scan.classes.empty()) {
    s.labels = torch::tensor(labels, torch::kInt64);
    auto count = torch::bincount(s.labels, {}, static_cast<int64_t>(scan.classes.size()));
    for (size_t c = 0; c < scan.classes.size(); ++c) {
      GF_CHECK(count[c].item<int64_t>() > 0 || o.split == "test", scan.root, ": class folder '",
               scan.classes[c], "' has no readable images left after skipping bad files");
    }
  }
  return s;
}

struct SplitFiles {
  FolderScan scan;                // the folder the split is read from
  std::vector<FolderFile> files;  // the split's files, labelled with the training classes
  std::vector<FolderFile> all;    // every image of both splits (paths from the folders' roots)
};

std::vector<FolderFile> rooted(const FolderScan& scan) {
  std::vector<FolderFile> out = scan.files;
  for (auto& f : out) f.rel = (fs::path(scan.root) / f.rel).string();
  return out;
}

// The files of the requested split, labelled with the training folder's class indices.
SplitFiles split_files(const DataOptions& o) {
  FolderScan train = scan_image_folder(o.dir);
  SplitFiles out;
  out.all = rooted(train);
  if (!o.test_dir.empty()) {
    FolderScan test = scan_image_folder(o.test_dir);
    GF_CHECK(test.classes.empty() == train.classes.empty(), o.test_dir, " and ", o.dir,
             " must both have class folders or both have none");
    for (auto& f : test.files) {
      if (f.label < 0) continue;
      const std::string& name = test.classes[f.label];
      const auto it = std::find(train.classes.begin(), train.classes.end(), name);
      GF_CHECK(it != train.classes.end(), o.test_dir, ": class '", name, "' is not a class of ",
               o.dir);
      f.label = it - train.classes.begin();
    }
    test.classes = train.classes;
    const auto test_all = rooted(test);
    out.all.insert(out.all.end(), test_all.begin(), test_all.end());
    out.scan = o.split == "train" ? train : test;
    out.files = out.scan.files;
    return out;
  }
  std::vector<int64_t> per_class(train.classes.size(), 0);
  for (const auto& f : train.files) {
    if (in_holdout(f.rel) == (o.split == "test")) {
      out.files.push_back(f);
      if (f.label >= 0) ++per_class[f.label];
    }
  }
  GF_CHECK(!out.files.empty(), o.dir, ": the ", o.split, " split is empty (", train.files.size(),
           " images; the test split holds about 1 in 10: add images or set data.test_dir)");
  for (size_t c = 0; c < per_class.size() && o.split == "train"; ++c) {
    GF_CHECK(per_class[c] > 0, o.dir, ": every image of class '", train.classes[c],
             "' falls in the held-out test split (1 in 10 files, by a hash of the path): add "
             "images to it or set data.test_dir");
  }
  out.scan = train;
  return out;
}

// Every file of the split (path, size, modification time, label), the class names and the
// options; with automatic channels also every file of the other split, which decides them too.
std::string cache_key(const SplitFiles& split, const DataOptions& o) {
  std::string text = concat(kCacheFormat, "|", o.resolution, "|", o.channels, "|", o.resize, "|",
                            o.background, "|", o.skip_bad, "|");
  for (const auto& c : split.scan.classes) text += c + "/";
  uint64_t h = fnv1a(text);
  for (const auto& f : split.files) {
    h = fnv1a(concat(f.rel, "|", f.size, "|", f.mtime_ns, "|", f.label, "\n"), h);
  }
  if (o.channels == 0) {
    for (const auto& f : split.all) h = fnv1a(concat(f.rel, "|", f.size, "|", f.mtime_ns, "\n"), h);
  }
  return hex64(h);
}

// Writes a cache entry beside its final name and renames it, so readers see a whole entry or
// none. A cache that cannot be written (read-only or full disk) costs the next run a decode,
// nothing else: a warning, not an error.
void write_cache_entry(const fs::path& entry, const FolderSamples& s) {
  const fs::path tmp = entry.string() + ".tmp-" + std::to_string(::getpid());
  try {
    fs::remove_all(tmp);
    write_idx_split(tmp.string(), "train", {s.pixels, s.labels, s.classes});
    std::error_code ec;
    fs::rename(tmp, entry, ec);
    if (ec) fs::remove_all(tmp);  // another process cached it first
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    log_info("warning: cannot write the data cache ", entry.string(), " (", first_line(e.what()),
             "); the next run decodes again (data.cache_dir=none turns the cache off)");
  }
}

}  // namespace

bool in_holdout(const std::string& rel) {
  return fnv1a(rel) % 10 == 0;
}

FolderScan scan_image_folder(const std::string& dir) {
  GF_CHECK(!dir.empty(), "no image folder given (data.dir or --data)");
  std::error_code ec;
  GF_CHECK(fs::is_directory(dir, ec), dir, ": no such directory");
  FolderScan scan;
  scan.root = dir;
  Walker walker(scan);
  // First level: subfolders are classes, files are unlabelled images.
  std::vector<std::string> classes;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && name[0] != '.' && e.is_directory()) classes.push_back(name);
  }
  GF_CHECK(!ec, dir, ": cannot read the directory (", ec.message(), ")");
  std::sort(classes.begin(), classes.end());
  walker.walk(dir, "", -1);
  GF_CHECK(!scan.files.empty(), dir, ": no images found (looked for .png .jpg .jpeg .bmp .gif .tga",
           scan.ignored.empty() ? "" : "; other files were ignored", ")");
  auto in_subfolder = [](const FolderFile& f) { return f.rel.find('/') != std::string::npos; };
  if (std::none_of(scan.files.begin(), scan.files.end(), in_subfolder)) {
    return scan;  // unlabelled: every image directly in the folder
  }
  GF_CHECK(std::all_of(scan.files.begin(), scan.files.end(), in_subfolder), dir,
           ": has images both directly inside it and in subfolders; put every image in a class "
           "subfolder (labelled) or all directly in the folder (unlabelled)");
  GF_CHECK(static_cast<int64_t>(classes.size()) <= kMaxFolderClasses, dir, ": ", classes.size(),
           " class folders; at most ", kMaxFolderClasses, " are supported");
  std::vector<int64_t> count(classes.size(), 0);
  for (auto& f : scan.files) {
    const std::string top = f.rel.substr(0, f.rel.find('/'));
    f.label = std::lower_bound(classes.begin(), classes.end(), top) - classes.begin();
    ++count[f.label];
  }
  for (size_t c = 0; c < classes.size(); ++c) {
    GF_CHECK(count[c] > 0, dir, ": class folder '", classes[c], "' has no images");
    for (unsigned char ch : classes[c]) {
      GF_CHECK(ch >= 0x20 && ch != 0x7f, dir, ": class folder name '", classes[c],
               "' contains a control character");
    }
    // The names are written to JSON (config.json, checkpoints, `dataset inspect --json`).
    GF_CHECK(is_utf8(classes[c]), dir, ": class folder name '", classes[c],
             "' is not valid UTF-8; rename the folder");
  }
  scan.classes = classes;
  return scan;
}

std::string folder_cache_root(const DataOptions& o) {
  // "none" turns the decoded-image cache off; evaluators still live under the default root.
  if (!o.cache_dir.empty() && o.cache_dir != "none") return o.cache_dir;
  if (const char* env = std::getenv("GANFORGE_CACHE"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return (fs::path(xdg) / "ganforge").string();
  }
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : "/tmp") / ".cache" / "ganforge").string();
}

std::string folder_dataset_id(const DataOptions& o) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(o.dir, ec);
  if (ec) p = fs::absolute(o.dir);
  std::string base = p.filename().string();
  if (base.empty()) base = p.parent_path().filename().string();
  const uint64_t h = fnv1a(
      concat(p.string(), "|", o.resolution, "|", o.channels, "|", o.resize, "|", o.background));
  return "folder-" + base + "-" + hex64(h, 8);
}

FolderSamples load_image_folder(const DataOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const SplitFiles split = split_files(o);
  const bool cached = o.cache_dir != "none";
  const fs::path entry = fs::path(folder_cache_root(o)) / "folders" / cache_key(split, o);
  if (cached && has_idx_split(entry.string(), "train")) {
    IdxSplit s = read_idx_split(entry.string(), "train", 0, /*labels_required=*/false);
    FolderSamples out;
    out.pixels = s.pixels;
    out.labels = s.labels;
    out.classes = split.scan.classes;
    out.from_cache = true;
    log_info("data: ", out.pixels.size(0), " images from the cache ", entry.string(), " in ",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), " s");
    return out;
  }
  int64_t channels = o.channels;
  if (channels == 0) {
    std::vector<std::string> paths;
    for (const auto& f : split.all) paths.push_back(f.rel);
    channels = auto_channels(paths, o.skip_bad);
  }
  FolderSamples out = decode_all(split.scan, split.files, o, channels);
  log_info("data: decoded ", out.pixels.size(0), " images of ", split.scan.root, " (", o.split,
           ") in ", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
           " s", out.skipped.empty() ? "" : concat("; skipped ", out.skipped.size(), " bad files"));
  for (size_t i = 0; i < out.skipped.size() && i < 5; ++i) log_info("  skipped ", out.skipped[i]);
  if (cached) write_cache_entry(entry, out);
  return out;
}

}  // namespace gf
