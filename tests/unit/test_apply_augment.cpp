// Data augmentation (issue 14): `augment` (synthetic labelled sets), classifier training with
// extra data and classic augmentation, and per-class subsets.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>

#include "apply/synthetic.h"
#include "core/rng.h"
#include "data/classic_augment.h"
#include "data/idx_pair.h"
#include "data/labelled_set.h"
#include "data/subset.h"
#include "eval/classifier.h"
#include "io/checkpoint.h"
#include "io/image.h"
#include "models/generator_file.h"
#include "models/sampler.h"
#include "test_util.h"

namespace gf {
namespace {

namespace fs = std::filesystem;
using test::error_of;

constexpr int64_t kClasses = 3;

ModelSpec tiny_spec(const std::string& conditional = "cgan") {
  ModelSpec spec;
  spec.arch = "mlp";
  spec.z_dim = 8;
  spec.latent = "normal";
  spec.g_hidden = {32};
  spec.d_hidden = {16};
  spec.conditional = conditional;
  spec.num_classes = conditional == "none" ? 0 : kClasses;
  spec.out_shape = {1, 8, 8};
  return spec;
}

// A randomly initialised G saved as a checkpoint, as `ganforge train` would leave it.
std::string save_generator(const ModelSpec& spec, const std::string& path) {
  torch::manual_seed(11);
  auto g = build_generator(spec);
  CheckpointWriter w({{"model", spec.to_json()}, {"step", 0}});
  g->save(w.section("G"));
  w.write(path);
  return path;
}

// A small untrained classifier for 8x8 images: its confidences vary from sample to sample.
std::string save_small_classifier(const std::string& path) {
  torch::manual_seed(5);
  Classifier model(1, 8, kClasses);
  ClassifierInfo info;
  info.dataset = "tiny";
  info.classes = kClasses;
  info.channels = 1;
  info.size = 8;
  save_classifier(path, model, info);
  return path;
}

// n labelled 8x8 images per class: a class-dependent bright row plus noise, in [-1, 1].
Dataset tiny_data(int64_t per_class, uint64_t seed, int64_t size = 8) {
  auto gen = at::detail::createCPUGenerator(seed);
  Dataset d;
  d.name = "tiny";
  d.num_classes = kClasses;
  d.y = torch::arange(kClasses, torch::kInt64).repeat({per_class});
  d.x = torch::rand({d.y.size(0), 1, size, size}, gen, torch::kFloat32).mul(0.4).sub(1.0);
  for (int64_t i = 0; i < d.y.size(0); ++i) d.x[i][0][2 + 2 * d.y[i].item<int64_t>()].fill_(1.0);
  d.x = pixels_to_unit(unit_to_pixels(d.x).permute({0, 2, 3, 1}));  // 8-bit, as files hold
  return d;
}

torch::Tensor pixels_of(const Dataset& d) {
  return unit_to_pixels(d.x).permute({0, 2, 3, 1}).contiguous();
}

TEST(Augment, WritesExactlyNPerClassWithTheLabelsTheyWereDrawnFor) {
  test::TempDir dir;
  const ModelSpec spec = tiny_spec();
  const std::string ckpt = save_generator(spec, dir.file("g.ckpt"));
  AugmentRequest r;
  r.checkpoint = ckpt;
  r.per_class = 7;
  r.seed = 4;
  r.batch = 3;  // chunks smaller than a class: the set must not depend on it
  r.out = dir.file("syn.idx.gz");
  const nlohmann::json report = run_augment(r);
  EXPECT_EQ(report["kept"].get<int64_t>(), 7 * kClasses);
  EXPECT_EQ(report["drawn"].get<int64_t>(), 7 * kClasses);
  EXPECT_TRUE(fs::exists(dir.file("syn.labels.idx.gz")));
  const IdxSplit s = read_idx_pair(r.out, /*labels_required=*/true);
  ASSERT_EQ(s.pixels.size(0), 7 * kClasses);
  EXPECT_EQ(s.pixels.sizes(), (std::vector<int64_t>{21, 8, 8, 1}));
  EXPECT_TRUE(torch::equal(torch::bincount(s.labels), torch::full({kClasses}, 7, torch::kInt64)));
  // Row block c holds G's images for class c (latents of seed mix(seed, c)), so every label is
  // the class the image was drawn for.
  LoadedGenerator g = load_generator(ckpt);
  for (int64_t c = 0; c < kClasses; ++c) {
    const auto want = unit_to_pixels(generate(*g.g, spec, mix(4, c), 7, 256, 0,
                                              torch::full({7}, c, torch::kInt64)))
                          .permute({0, 2, 3, 1});
    EXPECT_TRUE(torch::equal(s.pixels.narrow(0, 7 * c, 7), want)) << "class " << c;
    EXPECT_TRUE(torch::equal(s.labels.narrow(0, 7 * c, 7), torch::full({7}, c, torch::kInt64)));
  }
  // The same request with another batch size writes the same bytes.
  r.batch = 256;
  r.out = dir.file("again.idx");
  run_augment(r);
  EXPECT_TRUE(torch::equal(read_idx_pair(r.out, true).pixels, s.pixels));
}

TEST(Augment, ImageFolderTreeReadsBackWithItsClasses) {
  test::TempDir dir;
  ModelSpec spec = tiny_spec();
  spec.class_names = {"cat", "dog", "owl"};
  AugmentRequest r;
  r.checkpoint = save_generator(spec, dir.file("g.ckpt"));
  r.per_class = 4;
  r.out = dir.file("tree/");
  run_augment(r);
  for (const char* name : {"cat", "dog", "owl"}) {
    const fs::path sub = dir.path() / "tree" / name;
    ASSERT_TRUE(fs::is_directory(sub)) << name;
    EXPECT_EQ(std::distance(fs::directory_iterator(sub), fs::directory_iterator{}), 4) << name;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}), 2)
      << "no partial directory is left behind";
  Dataset like = tiny_data(2, 1);
  like.class_names = {"cat", "dog", "owl"};
  const Dataset back = load_labelled_like(dir.file("tree"), like);
  EXPECT_EQ(back.size(), 12);
  EXPECT_TRUE(torch::equal(torch::bincount(back.y), torch::full({kClasses}, 4, torch::kInt64)));
  // A folder that already holds images is refused, before any work.
  EXPECT_NE(error_of([&] { run_augment(r); }).find("not an empty directory"), std::string::npos);
}

TEST(Augment, MinConfidenceKeepsOnlySamplesTheEvaluatorAccepts) {
  test::TempDir dir;
  const ModelSpec spec = tiny_spec();
  AugmentRequest r;
  r.checkpoint = save_generator(spec, dir.file("g.ckpt"));
  r.per_class = 10;
  r.seed = 2;
  // A threshold that part of the samples miss and every class can meet: the lowest of the
  // classes' median confidences over unfiltered draws.
  r.out = dir.file("all.idx");
  run_augment(r);
  r.evaluator = save_small_classifier(dir.file("small.clf"));
  TrainedClassifier clf = load_classifier(r.evaluator);
  auto all = read_idx_pair(r.out, true);
  auto all_probs = embed(*clf.model, pixels_to_unit(all.pixels)).probs;
  const auto all_own = all_probs.gather(1, all.labels.unsqueeze(1)).squeeze(1);
  double p = 1.0;
  for (int64_t c = 0; c < kClasses; ++c) {
    p = std::min(p, all_own.masked_select(all.labels.eq(c)).median().item<double>());
  }
  p -= 1e-6;  // off any sample's own value: batch sizes may move probabilities by an ulp
  r.min_confidence = p;
  r.out = dir.file("kept.idx");
  const nlohmann::json report = run_augment(r);
  const IdxSplit kept = read_idx_pair(r.out, true);
  ASSERT_EQ(kept.pixels.size(0), 10 * kClasses);
  EXPECT_TRUE(
      torch::equal(torch::bincount(kept.labels), torch::full({kClasses}, 10, torch::kInt64)));
  auto probs = embed(*clf.model, pixels_to_unit(kept.pixels)).probs;
  auto own = probs.gather(1, kept.labels.unsqueeze(1)).squeeze(1);
  EXPECT_GE(own.min().item<double>(), p) << "every kept sample reaches --min-confidence";
  EXPECT_GT(report["drawn"].get<int64_t>(), report["kept"].get<int64_t>())
      << "the filter rejected some draws";
  EXPECT_EQ(report["evaluator"].get<std::string>(), r.evaluator);
  // Unreachable confidence: a clear error after the cap, not an endless search.
  r.min_confidence = 0.9999;
  r.out = dir.file("none.idx");
  const std::string msg = error_of([&] { run_augment(r); });
  EXPECT_NE(msg.find("acceptance"), std::string::npos) << msg;
  EXPECT_NE(msg.find("500 draws"), std::string::npos) << msg;  // 50 x 10
  EXPECT_FALSE(fs::exists(r.out));
}

TEST(Augment, BadRequestsAreClearErrors) {
  test::TempDir dir;
  AugmentRequest r;
  r.checkpoint = save_generator(tiny_spec(), dir.file("g.ckpt"));
  r.out = dir.file("x.idx");
  auto fails_with = [&](AugmentRequest bad, const std::string& part) {
    const std::string msg = error_of([&] { run_augment(bad); });
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  };
  AugmentRequest b = r;
  b.per_class = 0;
  fails_with(b, "--per-class");
  b.per_class = 10'000'000;
  fails_with(b, "--per-class");
  b = r;
  b.per_class = 5;
  b.min_confidence = 1.5;
  fails_with(b, "--min-confidence");
  b.min_confidence = -0.1;
  fails_with(b, "--min-confidence");
  b.min_confidence = 0;
  b.truncation = 0;
  fails_with(b, "--truncation");
  b = r;
  b.per_class = 5;
  b.checkpoint = save_generator(tiny_spec("none"), dir.file("uncond.ckpt"));
  fails_with(b, "unconditional");
  b = r;
  b.per_class = 5;
  b.min_confidence = 0.5;
  b.evaluator = dir.file("missing.clf");
  fails_with(b, "no evaluator");
  b.checkpoint = dir.file("missing.ckpt");
  b.evaluator.clear();
  b.min_confidence = 0;
  EXPECT_FALSE(error_of([&] { run_augment(b); }).empty());
}

TEST(ClassifierExtra, ExtraDataChangesTheTrainingSet) {
  test::TempDir dir;
  const Dataset train = tiny_data(6, 1), test = tiny_data(4, 2), extra_src = tiny_data(10, 3);
  write_idx_pair(dir.file("extra.idx"), pixels_of(extra_src), extra_src.y);
  const Dataset extra = load_labelled_like(dir.file("extra.idx"), train);
  EXPECT_EQ(extra.size(), 30);
  ClassifierOptions o;
  o.steps = 4;
  o.batch = 12;
  auto plain = train_classifier(train, test, o, false);
  auto again = train_classifier(train, test, o, false);
  auto mixed = train_classifier(train, test, o, false, &extra);
  EXPECT_TRUE(torch::equal(plain.model->parameters()[0], again.model->parameters()[0]));
  EXPECT_EQ(plain.info.data_hash, again.info.data_hash);
  EXPECT_NE(plain.info.data_hash, mixed.info.data_hash);
  EXPECT_FALSE(torch::equal(plain.model->parameters()[0], mixed.model->parameters()[0]));
  // Another extra set gives other weights again.
  const Dataset other = tiny_data(10, 4);
  auto mixed2 = train_classifier(train, test, o, false, &other);
  EXPECT_FALSE(torch::equal(mixed.model->parameters()[0], mixed2.model->parameters()[0]));
  o.extra_ratio = 1.0;
  EXPECT_NE(
      error_of([&] { train_classifier(train, test, o, false, &extra); }).find("--extra-ratio"),
      std::string::npos);
}

TEST(ClassifierExtra, ShapeAndClassMismatchesAreErrors) {
  test::TempDir dir;
  const Dataset train = tiny_data(6, 1);
  const Dataset big = tiny_data(3, 2, /*size=*/12);
  write_idx_pair(dir.file("big.idx"), pixels_of(big), big.y);
  EXPECT_NE(error_of([&] { load_labelled_like(dir.file("big.idx"), train); }).find("12x12x1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { train_classifier(train, train, {}, false, &big); }).find("shape"),
            std::string::npos);
  // Label 5 among 3 classes.
  const Dataset wrong = tiny_data(2, 3);
  write_idx_pair(dir.file("wrong.idx"), pixels_of(wrong), wrong.y + 3);
  EXPECT_NE(error_of([&] { load_labelled_like(dir.file("wrong.idx"), train); }).find("label 5"),
            std::string::npos);
  // No labels file beside the images.
  write_idx_pair(dir.file("bare.idx"), pixels_of(wrong), {});
  EXPECT_NE(error_of([&] { load_labelled_like(dir.file("bare.idx"), train); }).find("no labels"),
            std::string::npos);
  // An image folder whose class the data does not have.
  fs::create_directories(dir.path() / "tree" / "7");
  write_png((dir.path() / "tree" / "7" / "a.png").string(), pixels_of(wrong)[0]);
  EXPECT_NE(error_of([&] { load_labelled_like(dir.file("tree"), train); }).find("class '7'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_labelled_like(dir.file("missing"), train); }).find("not exist"),
            std::string::npos);
}

TEST(Subset, ExactlyNPerClassChosenBySeed) {
  const Dataset data = tiny_data(20, 7);
  const auto a = per_class_indices(data.y, kClasses, 5, 1);
  const auto b = per_class_indices(data.y, kClasses, 5, 1);
  const auto c = per_class_indices(data.y, kClasses, 5, 2);
  ASSERT_EQ(a.size(0), 15);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  EXPECT_TRUE(torch::equal(std::get<0>(torch::_unique(a)), a)) << "sorted, no repeats";
  EXPECT_TRUE(torch::equal(torch::bincount(data.y.index_select(0, a)),
                           torch::full({kClasses}, 5, torch::kInt64)));
  const Dataset s = per_class_subset(data, 5, 1);
  EXPECT_TRUE(torch::equal(s.x, data.x.index_select(0, a)));
  EXPECT_NE(error_of([&] { per_class_indices(data.y, kClasses, 21, 1); }).find("only 20"),
            std::string::npos);
  EXPECT_NE(error_of([&] { per_class_indices(data.y, kClasses, 0, 1); }).find("at least 1"),
            std::string::npos);
}

TEST(Subset, IdxDirectoryKeepsTheTestSplit) {
  test::TempDir dir;
  const Dataset data = tiny_data(20, 7), test = tiny_data(3, 8);
  const Dataset s = per_class_subset(data, 4, 9);
  write_subset(dir.file("sub"), s, test);
  DataOptions o;
  o.dataset = "idx";
  o.dir = dir.file("sub");
  const Dataset back = load_dataset(o, 0);
  EXPECT_TRUE(torch::equal(back.x, s.x));
  EXPECT_TRUE(torch::equal(back.y, s.y));
  o.split = "test";
  EXPECT_TRUE(torch::equal(load_dataset(o, 0).x, test.x));
  EXPECT_NE(error_of([&] { write_subset(dir.file("sub"), s, test); }).find("not an empty"),
            std::string::npos);
  write_subset(dir.file("sub.idx.gz"), s, test);
  EXPECT_TRUE(torch::equal(read_idx_pair(dir.file("sub.idx.gz"), true).labels, s.y));
}

TEST(ClassicAugment, MatchesTorchvisionAffineGeometry) {
  const auto g = test::golden("classic_augment.json");
  const auto shape = g["shape"].get<std::vector<int64_t>>();
  const auto x = test::vector_f64(g["input"]).to(torch::kFloat32).reshape(shape);
  for (const auto& c : g["cases"]) {
    const auto one = [](double v) { return torch::full({1}, v, torch::kFloat64); };
    const auto y = shift_rotate(x, one(c["dx"].get<double>()), one(c["dy"].get<double>()),
                                one(c["degrees"].get<double>()));
    const auto want = test::vector_f64(c["output"]).to(torch::kFloat32).reshape(shape);
    EXPECT_TRUE(torch::allclose(y, want, 1e-4, 1e-4))
        << "degrees " << c["degrees"] << ": max diff " << (y - want).abs().max().item<float>();
  }
}

TEST(ClassicAugment, IntegerShiftsMovePixelsExactly) {
  const auto x = torch::rand({2, 1, 10, 10});
  const auto y = shift_rotate(x, torch::tensor({2, -1}), torch::tensor({0, 2}),
                              torch::zeros({2}, torch::kFloat64));
  // Image 0 moved right by 2: column j reads column j - 2 (the first columns copy the edge).
  EXPECT_TRUE(torch::allclose(y[0].narrow(2, 2, 8), x[0].narrow(2, 0, 8), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(y[0].select(2, 0), x[0].select(2, 0), 1e-5, 1e-5));
  // Image 1 moved left by 1 and down by 2.
  EXPECT_TRUE(torch::allclose(y[1].narrow(1, 2, 8).narrow(2, 0, 9),
                              x[1].narrow(1, 0, 8).narrow(2, 1, 9), 1e-5, 1e-5));
}

TEST(ClassicAugment, DeterministicPerSeedAndWithinLimits) {
  const Dataset d = tiny_data(4, 1, 28);
  const ClassicAugment a = parse_classic_augment("shift,rotate");
  EXPECT_TRUE(a.shift && a.rotate);
  auto run = [&](uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    return classic_augment(d.x, a, gen);
  };
  const auto first = run(3), same = run(3), other = run(4);
  EXPECT_TRUE(torch::equal(first, same));
  EXPECT_FALSE(torch::equal(first, other));
  EXPECT_GT((first - d.x).abs().max().item<float>(), 0.5f) << "pixels moved";
  // Each image keeps its content: the bright row stays near where it was (2 px, 10 degrees).
  for (int64_t i = 0; i < d.size(); ++i) {
    const int64_t row = 2 + 2 * d.y[i].item<int64_t>();
    const auto rows = first[i][0].mean(1);
    EXPECT_LE(std::abs(rows.argmax().item<int64_t>() - row), 4) << i;
  }
  auto gen = at::detail::createCPUGenerator(1);
  EXPECT_TRUE(torch::equal(classic_augment(d.x, parse_classic_augment("none"), gen), d.x));
  EXPECT_NE(error_of([] { parse_classic_augment("shift,flip"); }).find("valid: shift, rotate"),
            std::string::npos);
}

}  // namespace
}  // namespace gf
