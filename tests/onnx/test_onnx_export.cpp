// ONNX export (src/export): batch norm folding, the graph against the module it came from (run
// here by a small evaluator of the ops the exporter writes, on LibTorch's functional ops; ONNX
// Runtime itself runs the exported files in tests/onnx/run.sh), metadata, the checker, and the
// errors for what the exporter does not handle.
#include <onnx/onnx_pb.h>
#include <torch/nn/functional.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/upsampling.h>
#include <torch/utils.h>

#include <cstring>
#include <map>

#include "export/onnx.h"
#include "export/onnx_graph.h"
#include "export/onnx_layers.h"
#include "models/layers.h"
#include "models/mlp.h"
#include "unit/test_util.h"

namespace gf {
namespace {

namespace F = torch::nn::functional;

torch::Tensor from_proto(const onnx::TensorProto& t) {
  const std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  const auto type = t.data_type() == onnx::TensorProto::FLOAT ? torch::kFloat32 : torch::kInt64;
  auto out = torch::empty(dims, type);
  EXPECT_EQ(static_cast<size_t>(out.nbytes()), t.raw_data().size()) << t.name();
  std::memcpy(out.data_ptr(), t.raw_data().data(), t.raw_data().size());
  return out;
}

std::map<std::string, const onnx::AttributeProto*> attrs_of(const onnx::NodeProto& n) {
  std::map<std::string, const onnx::AttributeProto*> a;
  for (const auto& attr : n.attribute()) a[attr.name()] = &attr;
  return a;
}

std::vector<int64_t> ints(const onnx::AttributeProto* a) {
  return {a->ints().begin(), a->ints().end()};
}

// Runs `graph` on LibTorch's functional ops (only the ops and attributes the exporter writes).
std::map<std::string, torch::Tensor> evaluate(const onnx::GraphProto& graph,
                                              std::map<std::string, torch::Tensor> values) {
  for (const auto& init : graph.initializer()) values[init.name()] = from_proto(init);
  for (const auto& n : graph.node()) {
    std::vector<torch::Tensor> in;
    for (const auto& name : n.input())
      in.push_back(name.empty() ? torch::Tensor() : values.at(name));
    auto a = attrs_of(n);
    const auto bias = [&](size_t i) { return in.size() > i ? in[i] : torch::Tensor(); };
    const std::string& op = n.op_type();
    torch::Tensor y;
    if (op == "Gemm") {
      EXPECT_EQ(a.at("transB")->i(), 1);
      y = F::linear(in[0], in[1], bias(2));
    } else if (op == "Conv" || op == "ConvTranspose") {
      const auto stride = ints(a.at("strides")), pads = ints(a.at("pads"));
      EXPECT_EQ(pads[0], pads[2]);
      EXPECT_EQ(pads[1], pads[3]);
      const std::vector<int64_t> padding = {pads[0], pads[1]};
      y = op == "Conv" ? torch::conv2d(in[0], in[1], bias(2), stride, padding)
                       : torch::conv_transpose2d(in[0], in[1], bias(2), stride, padding,
                                                 ints(a.at("output_padding")));
    } else if (op == "BatchNormalization") {
      y = torch::batch_norm(in[0], in[1], in[2], in[3], in[4], false, 0.0, a.at("epsilon")->f(),
                            false);
    } else if (op == "Relu") {
      y = torch::relu(in[0]);
    } else if (op == "LeakyRelu") {
      y = F::leaky_relu(in[0], F::LeakyReLUFuncOptions().negative_slope(a.at("alpha")->f()));
    } else if (op == "Tanh") {
      y = torch::tanh(in[0]);
    } else if (op == "Gather") {
      EXPECT_EQ(a.at("axis")->i(), 0);
      y = in[0].index_select(0, in[1]);
    } else if (op == "Concat") {
      y = torch::cat({in[0], in[1]}, a.at("axis")->i());
    } else if (op == "Reshape") {
      y = in[0].reshape(std::vector<int64_t>(in[1].data_ptr<int64_t>(),
                                             in[1].data_ptr<int64_t>() + in[1].numel()));
    } else if (op == "Resize") {
      EXPECT_EQ(a.at("mode")->s(), "nearest");
      EXPECT_EQ(a.at("coordinate_transformation_mode")->s(), "asymmetric");
      EXPECT_EQ(a.at("nearest_mode")->s(), "floor");
      const std::vector<double> f = {in[2][2].item<double>(), in[2][3].item<double>()};
      y = F::interpolate(in[0], F::InterpolateFuncOptions().scale_factor(f).mode(torch::kNearest));
    } else if (op == "Add") {
      y = in[0] + in[1];
    } else if (op == "Mul") {
      y = in[0] * in[1];
    } else {
      ADD_FAILURE() << "the evaluator does not know " << op;
    }
    values[n.output(0)] = y;
  }
  return values;
}

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

std::string metadata(const onnx::ModelProto& m, const std::string& key) {
  for (const auto& p : m.metadata_props()) {
    if (p.key() == key) return p.value();
  }
  ADD_FAILURE() << "no metadata " << key;
  return "";
}

ModelSpec image_spec(const std::string& arch, const std::string& conditional,
                     std::vector<int64_t> shape = {1, 28, 28}) {
  ModelSpec s;
  s.arch = arch;
  s.z_dim = 12;
  s.g_hidden = {32, 48};
  s.g_channels = 8;
  s.embed_dim = 5;
  s.out_shape = std::move(shape);
  s.conditional = conditional;
  if (conditional != "none") {
    s.num_classes = 4;
    s.class_names = {"cat", "dog", "emu", "owl"};
  }
  return s;
}

// Batch norm statistics and affine parameters away from their initial 0 / 1, so that folding
// them matters.
void randomise_batch_norms(torch::nn::Module& g) {
  torch::NoGradGuard no_grad;
  for (auto& m : g.modules()) {
    auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get());
    if (bn == nullptr) continue;
    bn->running_mean.normal_(0, 0.5);
    bn->running_var.uniform_(0.3, 2.0);
    if (bn->options.affine()) {
      bn->weight.normal_(1, 0.3);
      bn->bias.normal_(0, 0.3);
    }
  }
}

LoadedGenerator loaded(const ModelSpec& spec) {
  LoadedGenerator g;
  g.path = "test.ckpt";
  g.spec = spec;
  g.g = build_generator(spec);
  randomise_batch_norms(*g.g);
  g.g->eval();
  g.ema = true;
  g.meta = {{"step", 42}};
  return g;
}

// Max abs difference between the module and its exported graph on `n` random inputs.
double graph_vs_module(const LoadedGenerator& g, int64_t n) {
  const auto m = parse(onnx_model_bytes(g, {}));
  const auto z = torch::randn({n, g.spec.z_dim});
  std::map<std::string, torch::Tensor> inputs = {{"z", z}};
  torch::Tensor labels;
  if (g.spec.is_conditional()) {
    labels = torch::arange(n, torch::kInt64).remainder(g.spec.num_classes);
    inputs["label"] = labels;
  }
  torch::NoGradGuard no_grad;
  const auto want = g.g->forward(z, labels);
  const auto got = evaluate(m.graph(), inputs).at("image");
  EXPECT_EQ(got.sizes(), want.sizes());
  return (got - want).abs().max().item<double>();
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

TEST(OnnxBatchNormFold, ConvolutionsAreExact) {
  torch::manual_seed(1);
  torch::NoGradGuard no_grad;
  torch::nn::BatchNorm2d bn(6);
  randomise_batch_norms(*bn);
  bn->eval();
  const ScaleShift ss = batch_norm_scale_shift(*bn);
  const auto x = torch::randn({2, 6, 5, 5});
  const auto x64 = x.to(torch::kFloat64);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(6, 6, 3).padding(1));
  Folded f = fold_scale_shift(conv->weight, conv->bias, ss, 0);
  EXPECT_LT(max_diff(torch::conv2d(x64, f.weight, f.bias, 1, 1), bn(conv(x))), 1e-5);
  // Transposed: the output channels are axis 1 of the weight [in, out, kh, kw].
  torch::nn::ConvTranspose2d convt(
      torch::nn::ConvTranspose2dOptions(6, 6, 4).stride(2).padding(1).bias(false));
  const auto want = bn(convt(x));
  f = fold_scale_shift(convt->weight, convt->bias, ss, 1);
  EXPECT_LT(max_diff(torch::conv_transpose2d(x64, f.weight, f.bias, 2, 1), want), 1e-5);
  // Folded along the input axis instead, it is another function: the check can tell them apart.
  f = fold_scale_shift(convt->weight, convt->bias, ss, 0);
  EXPECT_GT(max_diff(torch::conv_transpose2d(x64, f.weight, f.bias, 2, 1), want), 1e-2);
}

TEST(OnnxBatchNormFold, NeedsRunningStatistics) {
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(4).track_running_stats(false));
  EXPECT_NE(test::error_of([&] { batch_norm_scale_shift(*bn); }).find("running statistics"),
            std::string::npos);
}

TEST(OnnxExport, GraphComputesTheModule) {
  torch::manual_seed(2);
  const std::vector<std::pair<std::string, ModelSpec>> cases = {
      {"mlp", image_spec("mlp", "none")},
      {"mlp cgan", image_spec("mlp", "cgan")},
      {"dcgan", image_spec("dcgan", "none")},
      {"dcgan projection 32x32x3", image_spec("dcgan", "projection", {3, 32, 32})},
      {"resnet", image_spec("resnet", "none")},
      {"resnet cgan 16x16x3", image_spec("resnet", "cgan", {3, 16, 16})},
  };
  for (const auto& [name, spec] : cases) {
    for (int64_t n : {1, 5}) EXPECT_LT(graph_vs_module(loaded(spec), n), 1e-5) << name;
  }
  ModelSpec resize = image_spec("dcgan", "acgan");
  resize.g_upsample = "resize";
  EXPECT_LT(graph_vs_module(loaded(resize), 3), 1e-5) << "dcgan resize";
  ModelSpec linear = image_spec("resnet", "none");
  linear.g_out = "linear";
  EXPECT_LT(graph_vs_module(loaded(linear), 2), 1e-5) << "resnet g_out linear";
}

TEST(OnnxExport, FoldsBatchNormWhereExact) {
  const auto m = parse(onnx_model_bytes(loaded(image_spec("dcgan", "none")), {}));
  for (const auto& n : m.graph().node()) EXPECT_NE(n.op_type(), "BatchNormalization");
  // ResNet's block-input batch norms follow a residual sum the shortcut also reads: kept.
  const auto resnet = parse(onnx_model_bytes(loaded(image_spec("resnet", "none")), {}));
  int kept = 0;
  for (const auto& n : resnet.graph().node()) kept += n.op_type() == "BatchNormalization";
  EXPECT_EQ(kept, 3);  // two blocks' first batch norms and the output's
}

TEST(OnnxExport, MetadataInputsAndOutput) {
  const LoadedGenerator g = loaded(image_spec("mlp", "cgan"));
  const auto m = parse(onnx_model_bytes(g, {}));
  EXPECT_EQ(m.ir_version(), kOnnxIrVersion);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), kOnnxOpset);
  EXPECT_EQ(m.producer_name(), "ganforge");
  EXPECT_EQ(nlohmann::json::parse(metadata(m, "model_spec")), g.spec.to_json());
  EXPECT_EQ(nlohmann::json::parse(metadata(m, "class_names")),
            nlohmann::json({"cat", "dog", "emu", "owl"}));
  EXPECT_EQ(metadata(m, "ema"), "true");
  EXPECT_EQ(metadata(m, "step"), "42");
  EXPECT_EQ(metadata(m, "latent"), "uniform");
  ASSERT_EQ(m.graph().input_size(), 2);
  EXPECT_EQ(m.graph().input(0).name(), "z");
  EXPECT_EQ(m.graph().input(1).name(), "label");
  EXPECT_EQ(m.graph().input(1).type().tensor_type().elem_type(), onnx::TensorProto::INT64);
  ASSERT_EQ(m.graph().output_size(), 1);
  const auto& out = m.graph().output(0);
  EXPECT_EQ(out.name(), "image");
  const auto& dims = out.type().tensor_type().shape().dim();
  ASSERT_EQ(dims.size(), 4);
  EXPECT_EQ(dims[0].dim_param(), "N");
  EXPECT_EQ(dims[2].dim_value(), 28);
  // A fixed batch is a number in every input and the output.
  const auto fixed = parse(onnx_model_bytes(g, {5}));
  EXPECT_EQ(fixed.graph().input(0).type().tensor_type().shape().dim(0).dim_value(), 5);
  EXPECT_EQ(fixed.graph().input(1).type().tensor_type().shape().dim(0).dim_value(), 5);
  EXPECT_EQ(fixed.graph().output(0).type().tensor_type().shape().dim(0).dim_value(), 5);
}

TEST(OnnxExport, CheckerPassesAndCanFail) {
  auto m = parse(onnx_model_bytes(loaded(image_spec("resnet", "projection")), {}));
  EXPECT_NO_THROW(check_onnx_model(m));
  // A declared output shape the graph does not produce is rejected by shape inference.
  m.mutable_graph()
      ->mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_value(27);
  EXPECT_THROW(check_onnx_model(m), std::logic_error);
  m = parse(onnx_model_bytes(loaded(image_spec("mlp", "none")), {}));
  m.mutable_graph()->mutable_node(0)->set_op_type("Gemmm");
  EXPECT_THROW(check_onnx_model(m), std::logic_error);
}

TEST(OnnxExport, SpectralNormUsesTheEffectiveWeight) {
  torch::manual_seed(3);
  Dense dense(6, 4, /*spectral_norm=*/true);
  for (int i = 0; i < 3; ++i) dense(torch::randn({2, 6}));  // power iterations update u and v
  dense->eval();
  torch::nn::Sequential seq(dense, torch::nn::Tanh());
  onnx::GraphProto graph;
  OnnxGraph g(&graph, 0);
  g.output(emit_sequential(g, g.input("x", onnx::TensorProto::FLOAT, {6}, ""), *seq), "y", {4}, "");
  const auto w = from_proto(graph.initializer(0));
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(w, dense->effective_weight(), 0, 1e-7));
  EXPECT_GT((w - dense->named_parameters()["weight"]).abs().max().item<double>(), 1e-3);
  const auto x = torch::randn({3, 6});
  EXPECT_LT((evaluate(graph, {{"x", x}}).at("y") - seq->forward(x)).abs().max().item<double>(),
            1e-6);
}

std::string sequential_error(torch::nn::Sequential seq) {
  onnx::GraphProto graph;
  OnnxGraph g(&graph, 0);
  return test::error_of([&] { emit_sequential(g, "x", *seq); });
}

TEST(OnnxExport, UnsupportedLayersAndOptionsAreErrors) {
  EXPECT_NE(sequential_error(torch::nn::Sequential(torch::nn::Dropout(0.5))).find("DropoutImpl"),
            std::string::npos);
  EXPECT_NE(sequential_error(torch::nn::Sequential(
                                 torch::nn::Upsample(torch::nn::UpsampleOptions()
                                                         .scale_factor(std::vector<double>{2, 2})
                                                         .mode(torch::kBilinear))))
                .find("nearest"),
            std::string::npos);
  EXPECT_NE(sequential_error(torch::nn::Sequential(torch::nn::Conv2d(
                                 torch::nn::Conv2dOptions(2, 2, 3).padding_mode(torch::kCircular))))
                .find("zero padding"),
            std::string::npos);
  EXPECT_NE(sequential_error(torch::nn::Sequential(
                                 torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 2, 3).groups(2))))
                .find("groups"),
            std::string::npos);
  // Not an image generator.
  ModelSpec points = image_spec("mlp", "none", {2});
  EXPECT_NE(test::error_of([&] { onnx_model_bytes(loaded(points), {}); }).find("image generators"),
            std::string::npos);
  // A parameter no exported layer uses (a layer the exporter does not know): nothing is written.
  struct Extended : MlpGenerator {
    explicit Extended(const ModelSpec& s) : MlpGenerator(s) {
      register_parameter("style", torch::zeros({3}));
    }
  };
  LoadedGenerator g = loaded(image_spec("mlp", "none"));
  g.g = std::make_shared<Extended>(g.spec);
  EXPECT_NE(test::error_of([&] { onnx_model_bytes(g, {}); }).find("'style'"), std::string::npos);
}

TEST(OnnxExport, BatchOption) {
  EXPECT_EQ(parse_onnx_batch("dynamic"), 0);
  EXPECT_EQ(parse_onnx_batch("5"), 5);
  for (const char* bad : {"0", "-3", "65537", "99999999999999999999", "abc", "5x", ""}) {
    EXPECT_NE(test::error_of([&] { parse_onnx_batch(bad); }).find("--batch"), std::string::npos)
        << bad;
  }
  EXPECT_NE(test::error_of([&] {
              onnx_model_bytes(loaded(image_spec("mlp", "none")), {-1});
            }).find("batch"),
            std::string::npos);
}

}  // namespace
}  // namespace gf
