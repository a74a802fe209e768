#include <gtest/gtest.h>

#include <cmath>

#include "apply/inpaint.h"
#include "apply/project.h"
#include "apply/repair.h"
#include "io/image.h"
#include "models/conditioning.h"
#include "models/sampler.h"
#include "test_util.h"

namespace gf {
namespace {

ModelSpec small_spec(const std::string& arch, const std::string& conditional) {
  ModelSpec spec;
  spec.arch = arch;
  spec.latent = "normal";
  spec.z_dim = 16;
  spec.g_channels = 8;
  spec.g_hidden = {64, 128};
  spec.out_shape = {1, 28, 28};
  spec.conditional = conditional;
  spec.num_classes = conditional == "none" ? 0 : 4;
  spec.embed_dim = 8;
  return spec;
}

// Peak signal-to-noise ratio in [0, 1] pixel units of images in [-1, 1].
double psnr(const torch::Tensor& a, const torch::Tensor& b) {
  const double mse = ((a - b) / 2).pow(2).mean().item<double>();
  return 10 * std::log10(1.0 / std::max(mse, 1e-20));
}

TEST(Project, RecoversTheLatentOfAnImageGDrew) {
  for (const char* arch : {"mlp", "dcgan"}) {
    const ModelSpec spec = small_spec(arch, "cgan");
    torch::manual_seed(1);
    auto g = build_generator(spec);
    // Targets: images 0..2 of seed 11 in classes 2, 0, 3; the class is searched, not given.
    const auto labels = torch::tensor({2, 0, 3}, torch::kInt64);
    const auto z_true = seeded_latents(spec, 11, 0, 3);
    const auto targets = generate_from_latents(*g, spec, z_true, labels);
    ProjectOptions options;
    options.steps = 400;
    options.restarts = 3;
    options.lr = 0.05;
    options.prior = 0;
    const auto found = project_images(*g, spec, targets, {}, {}, options);
    ASSERT_EQ(found.size(), 3u);
    for (int64_t i = 0; i < 3; ++i) {
      const auto& p = found[static_cast<size_t>(i)];
      EXPECT_EQ(p.label, labels[i].item<int64_t>()) << arch << " image " << i;
      const auto image =
          generate_from_latents(*g, spec, p.z.unsqueeze(0), torch::tensor({p.label}));
      EXPECT_GT(psnr(image[0], targets[i]), 30.0) << arch << " image " << i;
    }
    // G's parameters are left as they were: trainable, and untouched.
    for (const auto& param : g->parameters()) EXPECT_TRUE(param.requires_grad());
  }
}

TEST(Project, KnownPixelsOnlyAndTheLatentFileRoundTrips) {
  const ModelSpec spec = small_spec("dcgan", "none");
  torch::manual_seed(2);
  auto g = build_generator(spec);
  const auto target = generate(*g, spec, 5, 1);
  // Unknown pixels hold garbage: the projection must ignore them.
  auto known = torch::ones({1, 1, 28, 28});
  known.narrow(2, 8, 12).narrow(3, 8, 12).zero_();
  auto damaged = target.clone();
  damaged.narrow(2, 8, 12).narrow(3, 8, 12).fill_(1.0);
  ProjectOptions options;
  options.steps = 300;
  options.prior = 0;
  const auto found = project_images(*g, spec, damaged, known, {}, options);
  EXPECT_LT(found[0].mse, 1e-3);
  const auto image = generate_from_latents(*g, spec, found[0].z.unsqueeze(0), {});
  // The hole comes back close to G's own image, not to the garbage.
  const auto hole = [](const torch::Tensor& x) { return x.narrow(2, 8, 12).narrow(3, 8, 12); };
  EXPECT_LT((hole(image) - hole(target)).abs().mean().item<double>(),
            (hole(damaged) - hole(target)).abs().mean().item<double>() / 4);

  // latents JSON -> the same image bit for bit.
  const auto back =
      latents_from_json(nlohmann::json::parse(latents_to_json(spec, found).dump()), spec);
  EXPECT_TRUE(torch::equal(back.z[0], found[0].z));
  EXPECT_TRUE(torch::equal(generate_from_latents(*g, spec, back.z, {}), image));
}

TEST(Project, BadInputsAreErrors) {
  const ModelSpec spec = small_spec("mlp", "cgan");
  auto g = build_generator(spec);
  ProjectOptions options;
  const auto ok = torch::zeros({1, 1, 28, 28});
  EXPECT_NE(test::error_of([&] {
              project_images(*g, spec, torch::zeros({1, 3, 28, 28}), {}, {}, options);
            }).find("images to project"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              project_images(*g, spec, ok, torch::ones({1, 1, 14, 14}), {}, options);
            }).find("mask"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              project_images(*g, spec, ok, {}, torch::tensor({7}), options);
            }).find("labels"),
            std::string::npos);
  options.steps = -1;
  EXPECT_NE(test::error_of([&] { project_images(*g, spec, ok, {}, {}, options); }).find("steps"),
            std::string::npos);
  // Latent files: wrong length, non-numbers, missing labels, unknown class.
  for (const char* text :
       {R"({"z": [[1, 2]], "labels": [0]})", R"({"z": [["a"]], "labels": [0]})",
        R"([[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]])",
        R"({"z": [[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]], "labels": [9]})", R"({"z": []})"}) {
    EXPECT_FALSE(
        test::error_of([&] { latents_from_json(nlohmann::json::parse(text), spec); }).empty())
        << text;
  }
}

TEST(Project, ClassWeightsBlendTheEmbeddings) {
  for (const char* arch : {"mlp", "resnet"}) {
    ModelSpec spec = small_spec(arch, "cgan");
    if (std::string(arch) == "resnet") spec.out_shape = {3, 32, 32};
    torch::manual_seed(4);
    auto g = build_generator(spec);
    const auto z = seeded_latents(spec, 3, 0, 2);
    // A one-hot weight row is the class itself; a half-half row lies between the two classes.
    auto weights = torch::zeros({2, 4});
    weights[0][1] = 1;
    weights[1][1] = 0.5;
    weights[1][2] = 0.5;
    const auto hard = generate_from_latents(*g, spec, z, torch::tensor({1, 1}));
    const auto soft = generate_from_latents(*g, spec, z, weights);
    EXPECT_LT((soft[0] - hard[0]).abs().max().item<float>(), 1e-5) << arch;
    EXPECT_GT((soft[1] - hard[1]).abs().max().item<float>(), 1e-4) << arch;
    weights[1][2] = 0.6;  // rows must sum to 1
    EXPECT_NE(test::error_of([&] { generate_from_latents(*g, spec, z, weights); }).find("sum"),
              std::string::npos);
  }
}

TEST(Repair, ClassicFillsKeepKnownPixelsAndSolveWhatTheyShould) {
  // A linear ramp is harmonic: the Laplace fill must give it back inside any hole.
  auto ramp = torch::linspace(-1, 1, 16).view({1, 1, 1, 16}).expand({2, 1, 16, 16}).contiguous();
  ramp = ramp + torch::linspace(-0.5, 0.5, 16).view({1, 1, 16, 1});
  const auto known = box_mask(2, 16, 16, {4, 5, 6, 7});
  auto damaged = ramp.clone();
  damaged.narrow(2, 5, 7).narrow(3, 4, 6).fill_(0.9);
  const auto harmonic = fill_harmonic(damaged, known);
  EXPECT_LT((harmonic - ramp).abs().max().item<double>(), 1e-3);
  // Nearest: the image itself in the training set comes back exactly; mean: the mean image.
  const auto train = torch::cat({torch::rand({5, 1, 16, 16}) * 2 - 1, ramp.narrow(0, 0, 1)});
  EXPECT_TRUE(torch::allclose(fill_nearest(damaged, known, train)[0], ramp[0]));
  const auto mean = fill_mean(damaged, known, train.mean(0));
  EXPECT_TRUE(torch::allclose(mean.narrow(2, 5, 7).narrow(3, 4, 6),
                              train.mean(0).narrow(1, 5, 7).narrow(2, 4, 6).expand({2, 1, 7, 6})));
  for (const auto& out : {harmonic, mean}) {
    EXPECT_TRUE(torch::equal(out * known, damaged * known));  // known pixels untouched
  }
  // Scores: +inf without a hole, finite with one.
  EXPECT_TRUE(std::isinf(hole_psnr(ramp, ramp, torch::ones({2, 1, 16, 16}))[0].item<double>()));
  EXPECT_GT(hole_psnr(harmonic, ramp, known)[0].item<double>(), 50);
  // Pooled over the set: one exact image and one off by 0.2 (0.1 in [0, 1] units) everywhere in
  // its hole give 10 log10(1 / (0.01 / 2)), where the mean of the two PSNRs is over 100 dB.
  auto off = ramp.clone();
  off[1] += 0.2;
  EXPECT_NEAR(pooled_hole_psnr(off, ramp, known), 10 * std::log10(2 / 0.01), 1e-6);
  EXPECT_GT(hole_psnr(off, ramp, known)[0].item<double>(), 150);
}

TEST(Repair, GanRepairBeatsMeanFillOnImagesGCanMake) {
  // The MLP's random images vary far more than a fresh DCGAN's near-flat ones, so the mean image is
  // a fair baseline.
  const ModelSpec spec = small_spec("mlp", "cgan");
  torch::manual_seed(5);
  auto g = build_generator(spec);
  const auto labels = torch::tensor({0, 1, 2, 3, 1, 2}, torch::kInt64);
  const auto truth = generate_from_latents(*g, spec, seeded_latents(spec, 21, 0, 6), labels);
  const auto known = random_square_masks(6, 28, 28, 12, 3);
  const auto train = generate(*g, spec, 99, 64);
  RepairOptions o;
  o.project.steps = 200;
  o.project.restarts = 2;
  const auto gan = repair_images(*g, spec, truth, known, {}, {}, o);
  EXPECT_EQ(gan.projections.size(), 6u);
  o.method = "mean";
  const auto mean = repair_images(*g, spec, truth, known, {}, train, o);
  EXPECT_TRUE(torch::equal(gan.images * known, truth * known));
  EXPECT_GT(hole_psnr(gan.images, truth, known).mean().item<double>(),
            hole_psnr(mean.images, truth, known).mean().item<double>() + 3)
      << "gan " << hole_psnr(gan.images, truth, known).mean().item<double>() << " mean "
      << hole_psnr(mean.images, truth, known).mean().item<double>();
  o.method = "blur";
  EXPECT_NE(test::error_of([&] {
              repair_images(*g, spec, truth, known, {}, train, o);
            }).find("gan, mean, nearest, harmonic"),
            std::string::npos);
}

TEST(Repair, MasksFromPicturesBoxesAndRandomSquares) {
  auto picture = torch::zeros({8, 8, 1}, torch::kUInt8);
  picture.narrow(0, 2, 3).narrow(1, 1, 4).fill_(255);  // white: missing
  const auto known = decode_mask(encode_png(picture), "mask.png", 8, 8);
  EXPECT_EQ(known.sizes(), (std::vector<int64_t>{1, 8, 8}));
  EXPECT_EQ((1 - known).sum().item<double>(), 12);
  EXPECT_EQ(known[0][2][1].item<float>(), 0);
  EXPECT_NE(
      test::error_of([&] { decode_mask(encode_png(picture), "m.png", 9, 8); }).find("must be 8x9"),
      std::string::npos);
  EXPECT_NE(test::error_of([&] { decode_mask("not a png", "m.png", 8, 8); }).find("m.png"),
            std::string::npos);
  const auto squares = random_square_masks(20, 28, 28, 10, 1);
  EXPECT_TRUE(torch::equal((1 - squares).sum({1, 2, 3}), torch::full({20}, 100.0)));
  EXPECT_TRUE(torch::equal(squares, random_square_masks(20, 28, 28, 10, 1)));
  EXPECT_FALSE(torch::equal(squares, random_square_masks(20, 28, 28, 10, 2)));
  EXPECT_FALSE(test::error_of([] { box_mask(1, 28, 28, {20, 20, 10, 2}); }).empty());
  EXPECT_FALSE(test::error_of([] { random_square_masks(1, 28, 28, 29, 0); }).empty());
  // Images of another size than the model's are refused with both sizes named.
  EXPECT_NE(test::error_of([&] {
              decode_image_for(encode_png(picture), "x.png", {1, 28, 28});
            }).find("8x8"),
            std::string::npos);
}

}  // namespace
}  // namespace gf
