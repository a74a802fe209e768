#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "../zip_writer.h"
#include "core/file.h"
#include "core/runtime.h"
#include "io/checkpoint.h"
#include "io/torch_archive.h"
#include "models/generator_file.h"
#include "test_util.h"
#include "train/trainer.h"

namespace gf {
namespace {

using test::error_of;

RunConfig ring_config(int64_t steps) {
  RunConfig c = config_from_json_strict(
      {{"data", {{"dataset", "ring"}, {"synthetic_n", 2000}}},
       {"model",
        {{"z_dim", 8}, {"g_hidden", {32, 32}}, {"d_hidden", {32, 32}}, {"g_out", "linear"}}},
       {"train", {{"batch", 64}, {"steps", steps}}}},
      {});
  c.model.out_shape = {2};
  c.model.num_classes = 8;  // the ring is labelled by mode
  return c;
}

void expect_same_weights(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) {
    EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  }
}

TEST(Checkpoint, SaveLoadGivesIdenticalOutputs) {
  test::TempDir dir;
  RunConfig c = ring_config(5);
  Dataset data = load_dataset(c.data, 0);
  Trainer t(c, data);
  for (int i = 0; i < 5; ++i) t.step();
  const std::string path = checkpoint_path(dir.path().string(), t.step_index());
  t.save(path);
  // Nothing but the checkpoint is left behind (the temporary file was renamed).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path() / "checkpoints"),
                          std::filesystem::directory_iterator{}),
            1);
  LoadedGenerator loaded = load_generator(dir.path().string());
  EXPECT_EQ(loaded.path, path);
  EXPECT_EQ(loaded.meta["step"].get<int64_t>(), 5);
  auto z = torch::randn({16, 8});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(loaded.g->forward(z, {}), t.generator().forward(z, {})));
}

// Trains `total` steps in one go, and `split` steps, a checkpoint, and a fresh trainer resumed
// from it up to `total`.
struct StraightAndResumed {
  std::unique_ptr<Trainer> straight, resumed;
};
StraightAndResumed train_straight_and_resumed(const RunConfig& c, const Dataset& data,
                                              int64_t split, int64_t total,
                                              const std::string& checkpoint) {
  StraightAndResumed r;
  r.straight = std::make_unique<Trainer>(c, data);
  while (r.straight->step_index() < total) r.straight->step();
  Trainer first(c, data);
  while (first.step_index() < split) first.step();
  first.save(checkpoint);
  r.resumed = std::make_unique<Trainer>(c, data);
  r.resumed->load(checkpoint);
  EXPECT_EQ(r.resumed->step_index(), split);
  while (r.resumed->step_index() < total) r.resumed->step();
  return r;
}

TEST(Checkpoint, ResumeEqualsUninterrupted) {
  set_threads(1);
  test::TempDir dir;
  RunConfig c = ring_config(40);
  Dataset data = load_dataset(c.data, 0);  // 2000 / 64: 31 steps per epoch, so 40 crosses one

  auto [straight_ptr, resumed_ptr] =
      train_straight_and_resumed(c, data, 20, 40, dir.file("half.ckpt"));
  Trainer& straight = *straight_ptr;
  Trainer& resumed = *resumed_ptr;
  expect_same_weights(straight.generator(), resumed.generator());
  expect_same_weights(straight.discriminator(), resumed.discriminator());
}

Dataset tiny_images() {
  Dataset d;
  d.name = "tiny";
  torch::manual_seed(5);
  d.x = torch::rand({96, 1, 8, 8}) * 2 - 1;
  d.y = torch::randint(3, {96}, torch::kInt64);
  d.num_classes = 3;
  return d;
}

// Resume equals uninterrupted with every stateful part switched on: EMA, spectral-norm vectors,
// batch-norm statistics, label embeddings and heads, augmentation and noise RNG, n_critic.
TEST(Checkpoint, ResumeIsExactWithEmaSpectralNormAndConditionalHeads) {
  set_threads(1);
  test::TempDir dir;
  struct Case {
    RunConfig config;
    Dataset data;
  };
  std::vector<Case> cases;
  {
    RunConfig c = ring_config(30);
    c = config_from_json_strict(
        c.to_json(),
        {"model.conditional=projection", "model.spectral_norm=true", "train.ema_kimg=1",
         "train.r1_gamma=1", "train.r1_every=3", "train.lr_decay_start=0.5", "train.lecam=0.3"});
    Dataset data = load_dataset(c.data, 0);
    c.model.out_shape = {2};
    c.model.num_classes = 8;
    cases.push_back({c, data});
  }
  {
    RunConfig c = ring_config(30);
    c = config_from_json_strict(
        c.to_json(), {"model.arch=dcgan", "model.g_channels=8", "model.d_channels=8",
                      "model.conditional=acgan", "train.batch=16", "train.ema_kimg=1",
                      "train.augment=color,translation,cutout", "train.instance_noise=0.1",
                      "train.label_smoothing=0.1", "train.n_critic=2", "model.g_out=tanh"});
    c.model.out_shape = {1, 8, 8};
    c.model.num_classes = 3;
    cases.push_back({c, tiny_images()});
  }
  for (auto& [c, data] : cases) {
    auto [straight_ptr, resumed_ptr] =
        train_straight_and_resumed(c, data, 13, 30, dir.file("part.ckpt"));
    Trainer& straight = *straight_ptr;
    Trainer& resumed = *resumed_ptr;
    expect_same_weights(straight.generator(), resumed.generator());
    expect_same_weights(straight.discriminator(), resumed.discriminator());
    expect_same_weights(straight.sampling_generator(), resumed.sampling_generator());
    for (auto& b : straight.discriminator().named_buffers()) {
      EXPECT_TRUE(torch::equal(b.value(), resumed.discriminator().named_buffers()[b.key()]))
          << b.key();
    }
    // The EMA generator is what `sample` loads by default, and it differs from the raw G.
    resumed.save(dir.file("end.ckpt"));
    LoadedGenerator ema = load_generator(dir.file("end.ckpt"));
    LoadedGenerator raw = load_generator(dir.file("end.ckpt"), "cpu", /*use_ema=*/false);
    EXPECT_TRUE(ema.ema);
    EXPECT_FALSE(raw.ema);
    expect_same_weights(*ema.g, resumed.sampling_generator());
    expect_same_weights(*raw.g, resumed.generator());
  }
}

TEST(Checkpoint, InitFromReportsLoadedSkippedAndNewTensors) {
  test::TempDir dir;
  RunConfig c = ring_config(3);
  Dataset data = load_dataset(c.data, 0);
  Trainer source(c, data);
  for (int i = 0; i < 3; ++i) source.step();
  source.save(dir.file("source.ckpt"));

  RunConfig wider = config_from_json_strict(
      c.to_json(), {"model.g_hidden=[32,64]", "model.conditional=projection"});
  wider.model.out_shape = {2};
  wider.model.num_classes = 8;
  Trainer target(wider, data);
  InitReport r = target.init_from(dir.file("source.ckpt"));
  auto has = [](const std::vector<std::string>& v, const std::string& prefix) {
    return std::any_of(v.begin(), v.end(),
                       [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(has(r.loaded, "D.net.0.weight"));
  EXPECT_TRUE(has(r.skipped, "G.net.2.weight"));  // 32x32 -> 64x32
  EXPECT_TRUE(has(r.fresh, "G.input.embed.weight"));
  EXPECT_TRUE(has(r.fresh, "D.head.project.weight"));
  EXPECT_TRUE(torch::equal(target.discriminator().named_parameters()["net.0.weight"],
                           source.discriminator().named_parameters()["net.0.weight"]));
}

TEST(Checkpoint, CorruptOrForeignFilesAreClearErrors) {
  test::TempDir dir;
  std::ofstream(dir.file("junk.ckpt")) << "not a checkpoint at all";
  std::string msg = error_of([&] { CheckpointReader r(dir.file("junk.ckpt")); });
  EXPECT_NE(msg.find("junk.ckpt: not a readable ganforge checkpoint"), std::string::npos) << msg;

  RunConfig c = ring_config(1);
  Dataset data = load_dataset(c.data, 0);
  Trainer t(c, data);
  t.save(dir.file("good.ckpt"));
  const std::string bytes = read_file(dir.file("good.ckpt"));
  write_file_atomic(dir.file("half.ckpt"), bytes.substr(0, bytes.size() / 2));
  msg = error_of([&] { load_generator(dir.file("half.ckpt")); });
  EXPECT_NE(msg.find("half.ckpt"), std::string::npos) << msg;

  msg = error_of([&] { load_generator(dir.file("missing.ckpt")); });
  EXPECT_NE(msg.find("no such checkpoint"), std::string::npos) << msg;
  msg = error_of([&] { load_generator(dir.path().string()); });
  EXPECT_NE(msg.find("no checkpoints"), std::string::npos) << msg;

  // A checkpoint of another model cannot be resumed into this one.
  RunConfig other = ring_config(1);
  other.model.g_hidden = {16};
  Trainer t2(other, data);
  msg = error_of([&] { t2.load(dir.file("good.ckpt")); });
  EXPECT_NE(msg.find("model spec differs"), std::string::npos) << msg;
}

TEST(Checkpoint, TorchScriptMembersAreCheckedBeforeLibTorchCompilesThem) {
  // LibTorch's importer compiles an archive's code/ members and segfaults on some damaged ones
  // (docs/reliability.md, defect 6: "__buffers__ns__ = []" reaches parseClassConstant). The
  // check in front of it accepts the declarations LibTorch writes and nothing else.
  test::TempDir dir;
  const std::string good =
      "class Module(Module):\n  __parameters__ = [\"weight\", \"bias\", ]\n  __buffers__ = []\n"
      "  __annotations__ = []\n  __annotations__[\"0\"] = __torch__.___torch_mangle_1.Module\n"
      "  weight : Tensor\n  betas : Tuple[float, float]\n  step : Optional[List[int]]\n";
  auto archive = [&](const std::string& name, const std::string& code) {
    write_file_atomic(dir.file(name), test::make_zip({{"archive/data.pkl", "\x80\x02."},
                                                      {"archive/code/__torch__.py", code},
                                                      {"archive/version", "3\n"}}));
    return dir.file(name);
  };
  EXPECT_NO_THROW(check_torch_archive(archive("good.zip", good)));
  for (const std::string& bad :
       {std::string("  __buffers__ns__ = []\n"), std::string("  x : int = 3\n"),
        std::string("  def forward(self):\n"), std::string("  w : Tensor[\n"),
        std::string("  __annotations__[\"a\\\"b\"] = int\n"), std::string("import os\n")}) {
    const std::string msg = error_of([&] { check_torch_archive(archive("bad.zip", good + bad)); });
    EXPECT_NE(msg.find("bad.zip: not a readable ganforge checkpoint (member "
                       "archive/code/__torch__.py line 9 is not a class declaration"),
              std::string::npos)
        << bad << ": " << msg;
  }
  // A flipped byte in the member fails its CRC (the data starts after the 30-byte local header
  // and the 25-byte name); a cut file has no directory.
  std::string bytes = test::make_zip({{"archive/code/__torch__.py", good}});
  bytes[30 + 25 + 5] ^= 1;
  write_file_atomic(dir.file("flipped.zip"), bytes);
  EXPECT_NE(error_of([&] { check_torch_archive(dir.file("flipped.zip")); }).find("CRC-32"),
            std::string::npos);
  write_file_atomic(dir.file("cut.zip"), bytes.substr(0, bytes.size() - 10));
  EXPECT_NE(error_of([&] { check_torch_archive(dir.file("cut.zip")); }).find("end-of-directory"),
            std::string::npos);

  // Every checkpoint ganforge writes passes, and CheckpointReader runs the check.
  RunConfig c = ring_config(1);
  c.model.conditional = "cgan";
  c.model.num_classes = 8;
  Dataset data = load_dataset(c.data, 0);
  Trainer t(c, data);
  t.step();
  t.save(dir.file("real.ckpt"));
  EXPECT_NO_THROW(check_torch_archive(dir.file("real.ckpt")));
  const std::string msg = error_of([&] { CheckpointReader r(dir.file("bad.zip")); });
  EXPECT_NE(msg.find("is not a class declaration"), std::string::npos) << msg;
}

TEST(Checkpoint, PickleLengthsAndMemberSizesAreCheckedBeforeLibTorchAllocates) {
  // LibTorch's unpickler reserves what a length prefix states and its record reader what the
  // zip directory states: a 40 KB checkpoint made it fill 4 GB (docs/reliability.md, defect 9).
  test::TempDir dir;
  auto error = [&](const std::vector<test::ZipMember>& members) {
    write_file_atomic(dir.file("x.ckpt"), test::make_zip(members));
    return error_of([&] { check_torch_archive(dir.file("x.ckpt")); });
  };
  const std::vector<std::pair<std::string, std::string>> pickles = {
      {std::string("\x80\x02X\xff\xff\xff\xfb"
                   "abc.",
                   11),
       "member archive/data.pkl: opcode at byte 2 claims 4227858431 bytes; 4 are left"},
      {std::string("\x80\x02\x8e\x00\x00\x00\x00\x01\x00\x00\x00.", 12), "claims 4294967296 bytes"},
      {std::string("\x80\x02\xff.", 4), "unknown opcode 0xff at byte 2"},
      {std::string("\x80\x02N", 3), "no STOP opcode at its end"},
      {std::string("\x80\x02N.N", 5), "data after STOP at byte 3"},
      {std::string("\x80\x02J\x01\x02", 5), "truncated at byte 2"},
      {std::string("\x80\x02"
                   "cgf\n",
                   6),
       "truncated at byte 2"},
  };
  for (const auto& [pickle, want] : pickles) {
    const std::string msg = error({{"archive/data.pkl", pickle}, {"archive/version", "3\n"}});
    EXPECT_NE(msg.find(want), std::string::npos) << want << ": " << msg;
  }
  // Pickles as LibTorch writes them pass: protocol 2, a dict of one string key, STOP.
  write_file_atomic(
      dir.file("ok.ckpt"),
      test::make_zip({{"archive/data.pkl", std::string("\x80\x02}q\x00(X\x01\x00\x00\x00"
                                                       "aK\x01u.",
                                                       16)},
                      {"archive/version", "3\n"}}));
  EXPECT_NO_THROW(check_torch_archive(dir.file("ok.ckpt")));
  // A stored tensor record whose directory entry claims 3.75 GB.
  std::string zip = test::make_zip({{"archive/data/0", std::string(64, 'a')}});
  const size_t entry = zip.find("PK\x01\x02");
  ASSERT_NE(entry, std::string::npos);
  for (int b = 0; b < 4; ++b) zip[entry + 24 + b] = static_cast<char>(0xf0000000u >> (8 * b));
  write_file_atomic(dir.file("size.ckpt"), zip);
  const std::string msg = error_of([&] { CheckpointReader r(dir.file("size.ckpt")); });
  EXPECT_NE(msg.find("member archive/data/0 states a size its data cannot have"), std::string::npos)
      << msg;
}

TEST(Checkpoint, UnsupportedFormatVersionIsAClearError) {
  // A checkpoint as a future ganforge might write it: the same container, version 99.
  test::TempDir dir;
  torch::serialize::OutputArchive root;
  root.write("format", c10::IValue(std::string(kCheckpointFormat)));
  root.write("version", c10::IValue(int64_t{99}));
  root.write("meta", c10::IValue(std::string(R"({"model": null, "step": 0})")));
  root.save_to(dir.file("future.ckpt"));
  const std::string msg = error_of([&] { CheckpointReader r(dir.file("future.ckpt")); });
  EXPECT_NE(msg.find("future.ckpt: checkpoint format version 99 is not supported"),
            std::string::npos)
      << msg;
}

TEST(Checkpoint, AFailedWriteLeavesThePreviousCheckpointIntact) {
  // The disk "fills up" (a file size limit: writes fail with EFBIG) while a checkpoint is
  // replaced: the error names the file, the old checkpoint is byte for byte what it was, and no
  // temporary file is left behind.
  test::TempDir dir;
  RunConfig c = ring_config(1);
  Dataset data = load_dataset(c.data, 0);
  Trainer t(c, data);
  const std::string path = dir.file("step.ckpt");
  t.save(path);
  const std::string before = read_file(path);
  t.step();
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
  struct rlimit small = old;
  small.rlim_cur = before.size() / 2;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::string msg = error_of([&] { t.save(path); });
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_NE(msg.find("cannot write " + path), std::string::npos) << msg;
  EXPECT_EQ(read_file(path), before);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.exists();
  EXPECT_EQ(files, 1u);  // no step.ckpt.tmp.* left
  EXPECT_NO_THROW(CheckpointReader r(path));
}

TEST(Checkpoint, PruneKeepsTheNewest) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "checkpoints");
  for (int64_t s : {100, 20, 300, 4000})
    write_file_atomic(checkpoint_path(dir.path().string(), s), "x");
  prune_checkpoints(dir.path().string(), 2);
  auto left = list_checkpoints(dir.path().string());
  ASSERT_EQ(left.size(), 2u);
  EXPECT_NE(left[0].find("step_000300"), std::string::npos);
  EXPECT_NE(left[1].find("step_004000"), std::string::npos);
}

}  // namespace
}  // namespace gf
