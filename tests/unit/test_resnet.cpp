#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "io/checkpoint.h"
#include "models/generator_file.h"
#include "models/resnet.h"
#include "models/sampler.h"
#include "test_util.h"
#include "train/trainer.h"

namespace gf {
namespace {

// Golden values: tests/golden/make_resnet_golden.py (the same architecture in torch.nn).
const nlohmann::json& golden() {
  static const nlohmann::json g = test::golden("resnet.json");
  return g;
}

// make_resnet_golden.py's inputs: sin(0.37 * i + offset) in row-major order, float64.
torch::Tensor pattern(const nlohmann::json& spec) {
  const auto shape = spec[0].get<std::vector<int64_t>>();
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return torch::sin(torch::arange(n, torch::kFloat64) * 0.37 + spec[1].get<double>()).view(shape);
}

// Copies the golden tensors into `m` (float64) by name: every parameter and every spectral-norm
// vector must be there with its shape, and nothing else may be.
void load_tensors(torch::nn::Module& m, const nlohmann::json& tensors) {
  m.to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  std::set<std::string> seen;
  auto copy = [&](const std::string& name, torch::Tensor& t) {
    ASSERT_TRUE(tensors.contains(name)) << name << " is not in the PyTorch model";
    const auto& entry = tensors[name];
    const auto shape = entry[0].get<std::vector<int64_t>>();
    ASSERT_EQ(t.sizes(), torch::IntArrayRef(shape)) << name;
    t.copy_(test::vector_f64(entry[1]).view(shape));
    seen.insert(name);
  };
  for (auto& p : m.named_parameters()) copy(p.key(), p.value());
  for (auto& b : m.named_buffers()) {
    const auto& name = b.key();
    const auto dot = name.rfind('.');
    const std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
    if (last == "u" || last == "v") copy(name, b.value());
  }
  EXPECT_EQ(seen.size(), tensors.size()) << "the PyTorch model has tensors ganforge's lacks";
}

void expect_near(const torch::Tensor& got, const nlohmann::json& want, const std::string& what,
                 int64_t stride = 1) {
  auto flat = got.detach().to(torch::kFloat64).flatten();
  if (stride > 1) flat = flat.slice(0, 0, flat.size(0), stride);
  const auto w = test::vector_f64(want);
  ASSERT_EQ(flat.size(0), w.size(0)) << what;
  // The golden values are rounded to 10 decimals; float64 rounding differences are far below.
  EXPECT_LT((flat - w).abs().max().item<double>(), 1e-8) << what;
}

ModelSpec tiny_spec(const nlohmann::json& c) {
  ModelSpec s;
  s.arch = "resnet";
  s.out_shape = {c["channels"].get<int64_t>(), c["size"].get<int64_t>(), c["size"].get<int64_t>()};
  s.g_channels = s.d_channels = c["width"].get<int64_t>();
  s.num_classes = c["classes"].get<int64_t>();
  s.embed_dim = c["embed_dim"].get<int64_t>();
  s.conditional = c["conditional"].get<std::string>();
  if (c.contains("z_dim")) s.z_dim = c["z_dim"].get<int64_t>();
  if (c.contains("spectral_norm")) s.spectral_norm = c["spectral_norm"].get<bool>();
  return s;
}

torch::Tensor labels_of(const nlohmann::json& j) {
  return torch::tensor(j.get<std::vector<int64_t>>(), torch::kInt64);
}

TEST(Resnet, ShapesAndParameterCountsMatchPyTorch) {
  for (const auto& [key, want] : golden()["parameters"].items()) {
    // "<size>x<channels>_<conditional>_<width>"
    const auto x = key.find('x'), u1 = key.find('_'), u2 = key.rfind('_');
    ModelSpec s;
    s.arch = "resnet";
    s.spectral_norm = true;
    s.num_classes = 10;
    const int64_t size = std::stoll(key.substr(0, x)), channels = std::stoll(key.substr(x + 1));
    s.out_shape = {channels, size, size};
    s.conditional = key.substr(u1 + 1, u2 - u1 - 1);
    s.g_channels = s.d_channels = std::stoll(key.substr(u2 + 1));
    Gan gan = build_gan(s);
    EXPECT_EQ(parameter_count(*gan.g), want["G"].get<int64_t>()) << key;
    EXPECT_EQ(parameter_count(*gan.d), want["D"].get<int64_t>()) << key;
    if (s.g_channels != 32 || size == 64) continue;  // shapes: one width is enough
    auto y = torch::tensor({3, 7}, torch::kInt64);
    auto img = gan.g->forward(torch::randn({2, s.z_dim}) * 3, y);
    EXPECT_EQ(img.sizes(), (std::vector<int64_t>{2, channels, size, size})) << key;
    EXPECT_LE(img.abs().max().item<float>(), 1.0f) << key;  // tanh
    DOutput out = gan.d->forward(img, y);
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2})) << key;
    EXPECT_EQ(out.class_logits.defined(), s.conditional == "acgan") << key;
  }
}

TEST(Resnet, ClassBatchNormMatchesPyTorch) {
  const auto& c = golden()["class_batch_norm"];
  ClassBatchNorm bn(c["channels"].get<int64_t>(), c["embed_dim"].get<int64_t>());
  load_tensors(*bn, c["tensors"]);
  expect_near(bn(pattern(c["x"]), pattern(c["e"])), c["out"], "conditional batch norm");
}

TEST(Resnet, ProjectionHeadMatchesPyTorch) {
  const auto& c = golden()["head"];
  ModelSpec s;
  s.conditional = "projection";
  s.spectral_norm = true;
  s.num_classes = c["classes"].get<int64_t>();
  ResnetHead head(s, c["channels"].get<int64_t>());
  load_tensors(*head, c["tensors"]);
  expect_near(head(pattern(c["h"]), labels_of(c["labels"])).logits, c["logits"], "head");
}

TEST(Resnet, GeneratorForwardMatchesPyTorch) {
  for (const auto& [key, c] : golden()["generators"].items()) {
    auto g = build_generator(tiny_spec(c));
    load_tensors(*g, c["tensors"]);
    const auto z = pattern(c["z"]);
    const auto y = labels_of(c["labels"]);
    expect_near(g->forward(z, y), c["out"], key, c["out_stride"].get<int64_t>());
    if (c.contains("out_eval")) {
      // Eval mode: the running statistics the training-mode pass left.
      g->eval();
      torch::NoGradGuard no_grad;
      expect_near(g->forward(z, y), c["out_eval"], key + " (eval)");
    }
  }
}

TEST(Resnet, DiscriminatorForwardMatchesPyTorch) {
  for (const auto& [key, c] : golden()["discriminators"].items()) {
    auto d = build_gan(tiny_spec(c)).d;
    load_tensors(*d, c["tensors"]);
    DOutput out = d->forward(pattern(c["x"]), labels_of(c["labels"]));
    expect_near(out.logits, c["logits"], key);
    EXPECT_EQ(out.class_logits.defined(), c.contains("class_logits")) << key;
    if (c.contains("class_logits")) expect_near(out.class_logits, c["class_logits"], key);
  }
}

ModelSpec conditional_spec(const std::string& mode) {
  ModelSpec s;
  s.arch = "resnet";
  s.out_shape = {1, 28, 28};
  s.g_channels = s.d_channels = 16;
  s.conditional = mode;
  s.num_classes = 10;
  s.spectral_norm = true;
  return s;
}

TEST(Resnet, LabelsChangeTheImageAndTheLogit) {
  for (const std::string mode : {"cgan", "acgan", "projection"}) {
    torch::manual_seed(0);
    Gan gan = build_gan(conditional_spec(mode));
    gan.g->eval();
    gan.d->eval();
    torch::NoGradGuard no_grad;
    auto z = torch::randn({4, 100}).repeat({2, 1});
    auto y = torch::tensor({0, 1, 2, 3, 4, 5, 6, 7}, torch::kInt64);
    auto x = gan.g->forward(z, y);
    // Same latent, other label: another image.
    EXPECT_GT((x.narrow(0, 0, 4) - x.narrow(0, 4, 4)).abs().max().item<float>(), 1e-4) << mode;
    auto out = gan.d->forward(x, y);
    if (mode == "acgan") {
      EXPECT_EQ(out.class_logits.sizes(), (std::vector<int64_t>{8, 10}));
    } else {
      auto other = gan.d->forward(x, (y + 1).remainder(10)).logits;
      EXPECT_GT((other - out.logits).abs().max().item<float>(), 1e-6) << mode;
    }
  }
}

TEST(Resnet, SpecsItCannotBuildAreErrors) {
  ModelSpec s = conditional_spec("projection");
  s.out_shape = {1, 30, 30};
  EXPECT_NE(
      test::error_of([&] { s.validate(); }).find("resnet supports image sizes 4*2^k or 7*2^k"),
      std::string::npos);
  s.out_shape = {2};
  EXPECT_NE(test::error_of([&] { build_gan(s); }).find("resnet needs square images"),
            std::string::npos);
  s.out_shape = {3, 32, 16};
  EXPECT_NE(test::error_of([&] { build_generator(s); }).find("resnet needs square images"),
            std::string::npos);
}

TEST(Resnet, SameSeedSameImageWhateverTheBatch) {
  ModelSpec spec = conditional_spec("projection");
  spec.g_channels = 8;
  torch::manual_seed(3);
  Gan gan = build_gan(spec);
  auto all = generate(*gan.g, spec, 7, 20, /*batch=*/20);
  auto small = generate(*gan.g, spec, 7, 3, /*batch=*/1);
  auto chunked = generate(*gan.g, spec, 7, 20, /*batch=*/7);
  EXPECT_TRUE(torch::equal(all.narrow(0, 0, 3), small));
  EXPECT_TRUE(torch::equal(all, chunked));
  EXPECT_GT((all[0] - all[1]).abs().max().item<float>(), 1e-3);
}

TEST(Resnet, TrainsAndRoundTripsThroughCheckpointAndSafetensors) {
  test::TempDir dir;
  RunConfig c =
      config_from_json_strict({{"model",
                                {{"arch", "resnet"},
                                 {"z_dim", 16},
                                 {"latent", "normal"},
                                 {"g_channels", 8},
                                 {"d_channels", 8},
                                 {"spectral_norm", true},
                                 {"conditional", "projection"}}},
                               {"train", {{"batch", 8}, {"steps", 3}, {"loss", "hinge"}}}},
                              {});
  Dataset data;
  data.name = "synthetic";
  torch::manual_seed(1);
  data.x = torch::rand({32, 3, 32, 32}) * 2 - 1;
  data.y = torch::randint(4, {32}, torch::kInt64);
  data.num_classes = 4;
  c.model.out_shape = data.sample_shape();
  c.model.num_classes = 4;
  Trainer t(c, data);
  std::vector<torch::Tensor> g_before;
  for (auto& p : t.generator().parameters()) g_before.push_back(p.detach().clone());
  for (int i = 0; i < 3; ++i) {
    const StepStats s = t.step();
    EXPECT_TRUE(std::isfinite(s.loss_d) && std::isfinite(s.loss_g));
  }
  double moved = 0;
  auto g_after = t.generator().parameters();
  for (size_t i = 0; i < g_after.size(); ++i) {
    moved = std::max(moved, (g_after[i] - g_before[i]).abs().max().item<double>());
  }
  EXPECT_GT(moved, 1e-6);

  const std::string path = checkpoint_path(dir.path().string(), t.step_index());
  t.save(path);
  Trainer resumed(c, data);
  resumed.load(path);
  auto pa = t.discriminator().named_buffers(), pb = resumed.discriminator().named_buffers();
  for (const auto& item : t.generator().named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), resumed.generator().named_parameters()[item.key()]))
        << item.key();
  }
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();

  LoadedGenerator loaded = load_generator(path);
  const std::string st = dir.file("g.safetensors");
  export_safetensors(loaded, st);
  LoadedGenerator exported = load_generator(st);
  EXPECT_EQ(exported.spec.arch, "resnet");
  auto a = generate(*loaded.g, loaded.spec, 5, 6);
  EXPECT_TRUE(torch::equal(a, generate(*exported.g, exported.spec, 5, 6)));
  EXPECT_TRUE(torch::equal(a, generate(t.sampling_generator(), c.model, 5, 6)));
}

}  // namespace
}  // namespace gf
