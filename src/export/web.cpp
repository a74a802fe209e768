#include "export/web.h"

#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"
#include "export/onnx.h"
#include "version.h"
#include "web_assets.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

// model.json's "format": how a later export recognises a bundle it may replace.
constexpr char kBundleFormat[] = "ganforge-web-bundle";

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

bool has_all_files(const fs::path& dir) {
  for (const auto& f : ort_web_files()) {
    if (!fs::is_regular_file(dir / f)) return false;
  }
  return true;
}

std::string package_version(const fs::path& dist) {
  const fs::path package = dist.parent_path() / "package.json";
  if (!fs::is_regular_file(package)) return "unknown";
  const auto j = nlohmann::json::parse(read_file(package.string()), nullptr, false);
  return j.is_object() && j.contains("version") && j["version"].is_string()
             ? j["version"].get<std::string>()
             : "unknown";
}

// The run's name for the page title: runs/NAME/checkpoints/step_N.ckpt -> NAME, else the stem.
std::string model_name(const std::string& path) {
  const fs::path p(path);
  if (p.parent_path().filename() == "checkpoints" && p.parent_path().has_parent_path()) {
    const auto run = p.parent_path().parent_path().filename().string();
    if (!run.empty() && run != "." && run != "..") return run;
  }
  return p.stem().string();
}

nlohmann::json model_json(const LoadedGenerator& model, const std::string& ort_version) {
  return {{"format", kBundleFormat},
          {"name", model_name(model.path)},
          {"model_spec", model.spec.to_json()},
          {"class_names", model.spec.class_names},
          {"step", model.meta.value("step", int64_t{0})},
          {"ema", model.ema},
          {"ganforge_version", kVersion},
          {"onnxruntime_web_version", ort_version}};
}

// What the page cannot show, checked before anything is written.
void check_model(const LoadedGenerator& model) {
  const ModelSpec& spec = model.spec;
  GF_CHECK(spec.out_shape.size() == 3 && (spec.out_shape[0] == 1 || spec.out_shape[0] == 3),
           "the web bundle shows greyscale or RGB images; ", model.path,
           " generates samples of shape ", shape_text(spec.out_shape));
  GF_CHECK(spec.latent != "normal" || spec.z_dim >= 16,
           "the web bundle reproduces normal latents for z_dim >= 16 only (LibTorch draws "
           "smaller ones another way); ",
           model.path, " has z_dim ", spec.z_dim);
}

// The folder the bundle goes to, without a trailing separator ("out/" -> "out").
fs::path bundle_path(const std::string& out_dir) {
  GF_CHECK(!out_dir.empty(), "--out must name the bundle's folder");
  fs::path p = fs::path(out_dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  GF_CHECK(!p.empty() && p.filename() != "." && p.filename() != "..",
           "--out must name the bundle's folder, got '", out_dir, "'");
  return p;
}

// An existing --out folder is replaced only when nothing of the user's would be lost.
void check_replaceable(const fs::path& out) {
  if (!fs::exists(out)) return;
  GF_CHECK(fs::is_directory(out), out.string(), " exists and is not a folder; the web bundle is a ",
           "folder: pick another --out");
  if (fs::is_empty(out)) return;
  const fs::path meta = out / "model.json";
  bool bundle = false;
  if (fs::is_regular_file(meta)) {
    const auto j = nlohmann::json::parse(read_file(meta.string()), nullptr, false);
    bundle = j.is_object() && j.contains("format") && j["format"] == kBundleFormat;
  }
  GF_CHECK(bundle, out.string(), " exists and is not a ganforge web bundle; not replacing it: ",
           "pick another --out or remove it");
}

// Removes the temporary folder unless the bundle was moved into place.
class TempFolder {
 public:
  explicit TempFolder(fs::path path) : path_(std::move(path)) {
    std::error_code ec;
    fs::remove_all(path_, ec);  // a crashed export's leftovers
    fs::create_directories(path_, ec);
    GF_CHECK(!ec, "cannot create ", path_.string(), ": ", ec.message());
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  ~TempFolder() {
    std::error_code ec;
    if (!kept_) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  fs::path path_;
  bool kept_ = false;
};

// Moves the finished bundle from `tmp` to `out`, replacing an earlier bundle there.
void move_into_place(TempFolder& tmp, const fs::path& out) {
  std::error_code ec;
  const fs::path old = out.string() + ".old";
  if (fs::exists(out)) {
    fs::remove_all(old, ec);
    fs::rename(out, old, ec);
    GF_CHECK(!ec, "cannot replace ", out.string(), ": ", ec.message());
  }
  fs::rename(tmp.path(), out, ec);
  if (ec) {
    std::error_code ignored;
    if (fs::exists(old)) fs::rename(old, out, ignored);
    throw Error(concat("cannot write ", out.string(), ": ", ec.message()));
  }
  tmp.keep();
  fs::remove_all(old, ec);
}

}  // namespace

const std::vector<std::string>& ort_web_files() {
  static const std::vector<std::string> files = {"ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs",
                                                 "ort-wasm-simd-threaded.wasm"};
  return files;
}

std::string find_ort_web(const std::string& dir) {
  const fs::path root(dir);
  const std::vector<fs::path> candidates = {root, root / "dist",
                                            root / "node_modules" / "onnxruntime-web" / "dist"};
  for (const auto& d : candidates) {
    if (has_all_files(d)) return d.lexically_normal().string();
  }
  // Name the first missing file of the most specific folder that exists.
  std::string problem = dir + " does not exist";
  for (auto d = candidates.rbegin(); d != candidates.rend(); ++d) {
    if (!fs::is_directory(*d)) continue;
    for (const auto& f : ort_web_files()) {
      if (!fs::is_regular_file(*d / f)) {
        problem = (*d / f).lexically_normal().string() + " is missing";
        break;
      }
    }
    break;
  }
  throw Error(concat("the web bundle needs onnxruntime-web's WebAssembly files, and ", problem,
                     ": install the package (npm install --prefix ", kDefaultOrtWebDir,
                     " onnxruntime-web@1.30.0, as scripts/install_deps.sh does) or pass "
                     "--ort-web DIR"));
}

WebBundle export_web(const LoadedGenerator& model, const std::string& out_dir,
                     const WebOptions& options) {
  check_model(model);
  const fs::path out = bundle_path(out_dir);
  check_replaceable(out);
  WebBundle bundle;
  bundle.ort_web_dir = find_ort_web(options.ort_web);
  bundle.ort_web_version = package_version(bundle.ort_web_dir);
  OnnxOptions onnx;  // dynamic batch: the page asks for 1 to 64 images at a time
  const std::string graph = onnx_model_bytes(model, onnx);

  TempFolder tmp(out.string() + ".tmp");
  const auto write = [&](const std::string& name, std::string_view bytes) {
    write_file_atomic((tmp.path() / name).string(), bytes);
  };
  write("index.html", web::kPageHtml);
  write("latents.mjs", web::kLatentsMjs);
  write("model.onnx", graph);
  write("model.json", model_json(model, bundle.ort_web_version).dump(2) + "\n");
  for (const auto& f : ort_web_files()) {
    std::error_code ec;
    fs::copy_file(fs::path(bundle.ort_web_dir) / f, tmp.path() / f, ec);
    GF_CHECK(!ec, "cannot copy ", f, " from ", bundle.ort_web_dir, ": ", ec.message());
  }
  for (const auto& entry : fs::directory_iterator(tmp.path())) {
    bundle.bytes += static_cast<int64_t>(entry.file_size());
    ++bundle.files;
  }
  move_into_place(tmp, out);
  return bundle;
}

}  // namespace gf
