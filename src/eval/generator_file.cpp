#include "eval/generator_file.h"

#include "core/error.h"
#include "core/runtime.h"
#include "io/checkpoint.h"

namespace gf {

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
