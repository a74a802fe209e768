#include "models/generator_file.h"

#include <torch/utils.h>

#include <map>

#include "core/error.h"
#include "core/file.h"
#include "core/runtime.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "version.h"

namespace gf {
namespace {

LoadedGenerator load_safetensors_generator(const std::string& path, const std::string& device) {
  SafeTensors st = read_safetensors(path);
  LoadedGenerator out;
  out.path = path;
  GF_CHECK(st.metadata.count("model_spec"), path, ": no ganforge model_spec in __metadata__");
  try {
    out.meta = {{"step", std::stoll(st.metadata.count("step") ? st.metadata["step"] : "0")},
                {"model", nlohmann::json::parse(st.metadata["model_spec"])}};
    out.spec = ModelSpec::from_json(out.meta["model"]);
  } catch (const std::exception& e) {
    throw Error(concat(path, ": bad ganforge metadata (", e.what(), ")"));
  }
  out.spec.validate();
  out.ema = st.metadata.count("ema") && st.metadata["ema"] == "true";
  auto g = build_generator(out.spec);
  std::map<std::string, torch::Tensor> by_name(st.tensors.begin(), st.tensors.end());
  torch::NoGradGuard no_grad;
  auto fill = [&](const std::string& name, torch::Tensor& t) {
    auto it = by_name.find(name);
    GF_CHECK(it != by_name.end(), path, ": tensor '", name, "' is missing");
    GF_CHECK(it->second.sizes() == t.sizes() && it->second.scalar_type() == t.scalar_type(), path,
             ": tensor '", name, "' has shape ", it->second.sizes(), ", the model needs ",
             t.sizes());
    t.copy_(it->second);
    by_name.erase(it);
  };
  for (auto& p : g->named_parameters()) fill(p.key(), p.value());
  for (auto& b : g->named_buffers()) fill(b.key(), b.value());
  GF_CHECK(by_name.empty(), path, ": tensor '", by_name.begin()->first,
           "' does not belong to this model");
  g->to(parse_device(device));
  g->eval();
  out.g = g;
  return out;
}

}  // namespace

void export_safetensors(const LoadedGenerator& g, const std::string& path) {
  SafeTensors st;
  for (const auto& p : g.g->named_parameters()) st.tensors.emplace_back(p.key(), p.value());
  for (const auto& b : g.g->named_buffers()) st.tensors.emplace_back(b.key(), b.value());
  st.metadata = {{"format", "pt"},
                 {"model_spec", g.spec.to_json().dump()},
                 {"step", std::to_string(g.meta.value("step", int64_t{0}))},
                 {"ema", g.ema ? "true" : "false"},
                 {"ganforge_version", kVersion}};
  write_safetensors(path, st);
}

LoadedGenerator load_generator(const std::string& path_or_run_dir, const std::string& device,
                               bool use_ema) {
  if (ends_with(path_or_run_dir, ".safetensors"))
    return load_safetensors_generator(path_or_run_dir, device);
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
    throw Error(concat(out.path, ": generator weights do not match the model spec (",
                       first_line(e.what_without_backtrace()), ")"));
  }
  g->to(dev);
  g->eval();
  out.g = g;
  return out;
}

}  // namespace gf
