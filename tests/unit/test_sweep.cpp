#include <gtest/gtest.h>

#include <torch/torch.h>

#include <filesystem>

#include "core/file.h"
#include "core/json_config.h"
#include "io/image.h"
#include "test_util.h"
#include "train/sweep.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

TEST(Sweep, ExpandsEveryCombinationLastAxisFastest) {
  const auto s = expand_grid({"train.lr_g=1e-4,2e-4", "model.g_hidden=[8,16],[32]"});
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].assignments,
            (std::vector<std::string>{"train.lr_g=1e-4", "model.g_hidden=[8,16]"}));
  EXPECT_EQ(s[1].assignments, (std::vector<std::string>{"train.lr_g=1e-4", "model.g_hidden=[32]"}));
  EXPECT_EQ(s[3].assignments, (std::vector<std::string>{"train.lr_g=2e-4", "model.g_hidden=[32]"}));
  EXPECT_EQ(s[0].id, "01-lr_g=1e-4-g_hidden=_8_16_");
  EXPECT_EQ(s[3].id, "04-lr_g=2e-4-g_hidden=_32_");
  EXPECT_EQ(expand_grid({}).size(), 1u) << "no grid: the config as is";
  const auto q = expand_grid({"train.augment=\"translation,cutout\",translation"});
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].assignments[0], "train.augment=translation,cutout");
  EXPECT_EQ(q[1].assignments[0], "train.augment=translation");
  for (const char* bad : {"train.lr_g", "=1,2", "train.lr_g=", "train.lr_g=1,,2"}) {
    EXPECT_NE(test::error_of([&] { expand_grid({bad}); }).find("--grid"), std::string::npos) << bad;
  }
  EXPECT_NE(test::error_of([] {
              expand_grid({"a.b=1", "a.b=2"});
            }).find("twice"),
            std::string::npos);
}

TEST(Sweep, CheckedSettingsRefuseBadValuesAndUnknownOnlyIdsBeforeAnythingTrains) {
  // `sweep --list` prints these, so a grid that `sweep` would refuse is refused there too.
  SweepRequest r;
  r.grid = {"train.lr_g=1e-4,2e-4"};
  EXPECT_EQ(checked_settings(r).size(), 2u);
  r.grid = {"train.lr_g=abc"};
  EXPECT_NE(test::error_of([&] { checked_settings(r); }).find("train.lr_g"), std::string::npos);
  r.grid = {"train.lrr=1"};
  EXPECT_NE(test::error_of([&] { checked_settings(r); }).find("unknown config key 'train.lrr'"),
            std::string::npos);
  r.grid = {"train.lr_g=1e-4"};
  r.only = {"zz"};
  EXPECT_NE(test::error_of([&] { checked_settings(r); }).find("--only zz: no such setting"),
            std::string::npos);
}

// An unlabelled folder of 16x16 grey images: bright squares at random places.
std::string make_folder(const test::TempDir& tmp) {
  const std::string dir = tmp.file("images");
  fs::create_directories(dir);
  torch::manual_seed(0);
  for (int i = 0; i < 120; ++i) {
    auto img = torch::zeros({16, 16}, torch::kUInt8);
    const int64_t x = torch::randint(0, 10, {1}).item<int64_t>();
    const int64_t y = torch::randint(0, 10, {1}).item<int64_t>();
    img.slice(0, y, y + 6).slice(1, x, x + 6).fill_(200 + i % 50);
    write_png(dir + "/img" + std::to_string(i) + ".png", img);
  }
  return dir;
}

int64_t count_lines(const std::string& path) {
  const std::string s = read_file(path);
  return std::count(s.begin(), s.end(), '\n');
}

TEST(Sweep, TrainsEvaluatesRanksAndResumesWithoutRerunningFinishedSettings) {
  test::TempDir tmp;
  SweepRequest r;
  r.data_dir = make_folder(tmp);
  r.overrides = {"model.arch=dcgan",
                 "model.g_channels=8",
                 "model.d_channels=8",
                 "model.z_dim=8",
                 "train.batch=16",
                 "log.sample_every=100",
                 "log.checkpoint_every=100",
                 "log.grid=16",
                 "data.cache_dir=" + tmp.file("cache")};
  r.grid = {"train.lr_g=1e-4,1e-3", "train.loss=bce,hinge"};
  r.steps = 4;
  r.threads = 1;
  r.eval_n = 40;
  r.out = tmp.file("sweep");
  const SweepSummary first = run_sweep(r);
  EXPECT_EQ(first.trained, 4);
  EXPECT_EQ(first.skipped + first.failed + first.pending, 0);
  ASSERT_EQ(first.rows.size(), 4u);
  double prev = -1;
  for (const auto& row : first.rows) {
    ASSERT_EQ(row["status"], "done") << row.dump();
    EXPECT_EQ(row["steps"], 4);
    const double fid = row["fid"].get<double>();
    EXPECT_GE(fid, prev) << "rows are ranked by FID";
    prev = fid;
    EXPECT_TRUE(fs::exists(fs::path(first.dir) / row["samples"].get<std::string>()));
  }
  // Title, blank, text, blank, header, rule, and a row per setting.
  EXPECT_EQ(count_lines(first.markdown), 6 + 4) << read_file(first.markdown);
  EXPECT_NE(read_file(first.page).find("<img src="), std::string::npos);
  EXPECT_EQ(read_json_file(first.json)["rows"].size(), 4u);

  // A sweep killed during its third setting: that setting has checkpoints but no result.
  const std::string third = first.dir + "/03-lr_g=1e-3-loss=bce";
  ASSERT_TRUE(fs::exists(third + "/sweep_result.json"));
  fs::remove(third + "/sweep_result.json");
  const std::string untouched = first.dir + "/01-lr_g=1e-4-loss=bce/metrics.jsonl";
  const auto mtime = fs::last_write_time(untouched);
  const SweepSummary again = run_sweep(r);
  EXPECT_EQ(again.trained, 1);
  EXPECT_EQ(again.skipped, 3);
  EXPECT_EQ(fs::last_write_time(untouched), mtime) << "a finished setting was rerun";
  EXPECT_NE(read_file(third + "/log.txt").find("resumed from"), std::string::npos)
      << "the started setting resumes from its checkpoint";
  ASSERT_EQ(again.rows.size(), 4u);
  for (const auto& row : again.rows) {
    ASSERT_TRUE(row.contains("samples")) << row.dump();
    EXPECT_TRUE(fs::exists(fs::path(again.dir) / row["samples"].get<std::string>()));
  }

  // --only runs the named settings; the others stay pending.
  SweepRequest part = r;
  part.out = tmp.file("part");
  part.only = {"02-lr_g=1e-4-loss=hinge"};
  const SweepSummary p = run_sweep(part);
  EXPECT_EQ(p.trained, 1);
  EXPECT_EQ(p.pending, 3);
  part.only = {"99-nope"};
  EXPECT_NE(test::error_of([&] { run_sweep(part); }).find("no such setting"), std::string::npos);

  // The same directory with another definition is refused.
  SweepRequest other = r;
  other.grid = {"train.lr_g=5e-4"};
  EXPECT_NE(test::error_of([&] { run_sweep(other); }).find("different sweep"), std::string::npos);
  // A bad value fails before anything trains.
  other.out = tmp.file("bad");
  other.grid = {"train.lossy=1"};
  EXPECT_FALSE(test::error_of([&] { run_sweep(other); }).empty());
  EXPECT_FALSE(fs::exists(other.out + "/sweep.json"));
}

}  // namespace
}  // namespace gf
