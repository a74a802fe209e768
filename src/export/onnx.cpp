#include "export/onnx.h"

#include <onnx/onnx_pb.h>
#include <torch/utils.h>

#include <cerrno>
#include <cstdlib>

#include "core/error.h"
#include "core/file.h"
#include "export/onnx_generators.h"
#include "export/onnx_graph.h"
#include "version.h"

namespace gf {
namespace {

static_assert(onnx::Version::IR_VERSION >= kOnnxIrVersion,
              "libonnx-dev is older than the IR version ganforge declares");

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

void add_metadata(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  auto* p = m.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}

// Every parameter and buffer of G must be in the graph: one that no exported layer took belongs
// to a layer the exporter does not know, and the model would compute something else.
void check_all_used(const OnnxGraph& g, const Generator& gen) {
  for (const auto& p : gen.named_parameters()) {
    GF_CHECK(g.used(p.value()), "ONNX export: the generator's parameter '", p.key(),
             "' belongs to a layer this exporter does not handle; nothing was written");
  }
  for (const auto& b : gen.named_buffers()) {
    GF_CHECK(g.used(b.value()), "ONNX export: the generator's buffer '", b.key(),
             "' belongs to a layer this exporter does not handle; nothing was written");
  }
}

std::string latent_doc(const ModelSpec& spec) {
  return spec.latent == "normal" ? "latent, standard normal" : "latent, uniform in [-1, 1]";
}

}  // namespace

void OnnxOptions::validate() const {
  GF_CHECK(batch >= 0 && batch <= kMaxBatch, "the ONNX batch size must be 'dynamic' or 1 to ",
           kMaxBatch, ", got ", batch);
}

int64_t parse_onnx_batch(const std::string& text) {
  if (text == "dynamic") return 0;
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  GF_CHECK(!text.empty() && *end == '\0' && errno == 0 && n >= 1 && n <= OnnxOptions::kMaxBatch,
           "--batch must be 'dynamic' or a batch size from 1 to ", OnnxOptions::kMaxBatch,
           ", got '", text, "'");
  return n;
}

std::string onnx_model_bytes(const LoadedGenerator& model, const OnnxOptions& options) {
  options.validate();
  const ModelSpec& spec = model.spec;
  GF_CHECK(spec.out_shape.size() == 3, "ONNX export writes image generators (samples [C, H, W]); ",
           model.path, " generates samples of shape ", shape_text(spec.out_shape));
  torch::NoGradGuard no_grad;
  Generator& gen = *model.g;
  gen.eval();

  onnx::ModelProto m;
  m.set_ir_version(kOnnxIrVersion);
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  m.set_producer_name("ganforge");
  m.set_producer_version(kVersion);
  const int64_t step = model.meta.value("step", int64_t{0});
  m.set_model_version(step);
  m.set_doc_string(concat("ganforge ", spec.arch, " generator (", model.ema ? "EMA" : "raw",
                          " weights, step ", step, "): image = G(z",
                          spec.is_conditional() ? ", label" : "",
                          "), pixels in [-1, 1] for g_out tanh"));
  auto* graph = m.mutable_graph();
  graph->set_name("ganforge_generator");

  OnnxGraph g(graph, options.batch);
  const auto z = g.input("z", onnx::TensorProto::FLOAT, {spec.z_dim}, latent_doc(spec));
  std::string label;
  if (spec.is_conditional()) {
    label = g.input("label", onnx::TensorProto::INT64, {},
                    concat("class index in [0, ", spec.num_classes, ")"));
  }
  const auto image = emit_generator(g, gen, spec, z, label);
  g.output(image, "image", spec.out_shape,
           spec.g_out == "tanh" ? "image [N, C, H, W], in [-1, 1]" : "image [N, C, H, W], linear");
  check_all_used(g, gen);

  add_metadata(m, "model_spec", spec.to_json().dump());
  add_metadata(m, "class_names", nlohmann::json(spec.class_names).dump());
  add_metadata(m, "latent", spec.latent);
  add_metadata(m, "ema", model.ema ? "true" : "false");
  add_metadata(m, "step", std::to_string(step));
  add_metadata(m, "ganforge_version", kVersion);
  check_onnx_model(m);

  std::string bytes;
  GF_CHECK(m.SerializeToString(&bytes), "ONNX export: the model (", m.ByteSizeLong(),
           " bytes) does not fit in one protobuf (2 GiB)");
  return bytes;
}

void export_onnx(const LoadedGenerator& model, const std::string& path,
                 const OnnxOptions& options) {
  write_file_atomic(path, onnx_model_bytes(model, options));
}

}  // namespace gf
