#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/json_config.h"
#include "test_util.h"
#include "train/config.h"

namespace gf {
namespace {

using test::error_of;

TEST(Config, DefaultsAreTheSeedsNumbersAndRoundTrip) {
  RunConfig c = config_from_json_strict(nlohmann::json::object(), {});
  EXPECT_EQ(c.train.batch, 128);
  EXPECT_DOUBLE_EQ(c.train.lr_g, 2e-4);
  EXPECT_EQ(c.model.z_dim, 100);
  EXPECT_EQ(RunConfig::from_json(c.to_json()).to_json(), c.to_json());
}

TEST(Config, PresetsLoad) {
  for (const std::string name : {"mlp_mnist", "gaussian_ring"}) {
    RunConfig c = load_run_config(std::string(GF_SOURCE_DIR) + "/configs/" + name + ".json", {});
    EXPECT_EQ(c.name, name);
  }
}

TEST(Config, EveryPresetLoadsIncludingTheColourFolderOne) {
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(GF_SOURCE_DIR) + "/configs")) {
    RunConfig c = load_run_config(e.path().string(), {});
    EXPECT_EQ(c.name + ".json", e.path().filename().string());
  }
  RunConfig emoji = load_run_config(std::string(GF_SOURCE_DIR) + "/configs/emoji_32.json", {});
  EXPECT_EQ(emoji.data.dataset, "folder");
  EXPECT_EQ(emoji.data.resolution, 32);
  EXPECT_EQ(emoji.data.channels, 3);
}

TEST(Config, DocumentsFromBeforeFoldersAndClassNamesStillLoad) {
  // A model spec and data options as checkpoints and run directories stored them before
  // class_names, channels, resolution & co. existed: the new keys take their defaults.
  const nlohmann::json old_model = {{"arch", "dcgan"},        {"z_dim", 100},
                                    {"latent", "normal"},     {"g_hidden", {128}},
                                    {"d_hidden", {128}},      {"slope", 0.2},
                                    {"g_out", "tanh"},        {"g_channels", 32},
                                    {"d_channels", 32},       {"d_norm", "batch"},
                                    {"spectral_norm", false}, {"conditional", "projection"},
                                    {"embed_dim", 16},        {"out_shape", {1, 28, 28}},
                                    {"num_classes", 10}};
  const ModelSpec spec = ModelSpec::from_json(old_model);
  EXPECT_TRUE(spec.class_names.empty());
  EXPECT_EQ(spec.num_classes, 10);
  spec.validate();
  const DataOptions data = DataOptions::from_json({{"dataset", "mnist"},
                                                   {"dir", ""},
                                                   {"split", "train"},
                                                   {"limit", 0},
                                                   {"synthetic_n", 50000}});
  EXPECT_EQ(data.resize, "center-crop");
  EXPECT_EQ(data.channels, 0);
  EXPECT_FALSE(data.mirror);
  data.validate();
}

TEST(Config, OverridesApplyWithTypes) {
  RunConfig c = config_from_json_strict(
      {{"train", {{"batch", 64}}}},
      {"train.lr_g=1e-4", "model.g_hidden=[32,64]", "name=2024", "train.optimizer=rmsprop"});
  EXPECT_EQ(c.train.batch, 64);
  EXPECT_DOUBLE_EQ(c.train.lr_g, 1e-4);
  EXPECT_EQ(c.model.g_hidden, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(c.name, "2024");  // a string setting keeps the text
  EXPECT_EQ(c.train.optimizer, "rmsprop");
}

TEST(Config, UnknownKeysAndBadValuesAreErrorsThatNameThem) {
  std::string msg = error_of([] { config_from_json_strict({{"train", {{"lrr", 1}}}}, {}); });
  EXPECT_NE(msg.find("unknown config key 'train.lrr'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lr_g"), std::string::npos) << msg;  // lists the valid keys
  // Not UTF-8 (found by fuzzing: the run wrote half a directory, then failed to dump config.json).
  msg = error_of([] { config_from_json_strict(nlohmann::json::object(), {"name=\xff"}); });
  EXPECT_NE(msg.find("not valid UTF-8"), std::string::npos) << msg;
  msg = error_of([] { config_from_json_strict(nlohmann::json::object(), {"train.nope=3"}); });
  EXPECT_NE(msg.find("train.nope"), std::string::npos) << msg;
  msg = error_of([] { config_from_json_strict(nlohmann::json::object(), {"train.batch=abc"}); });
  EXPECT_NE(msg.find("must be a integer"), std::string::npos) << msg;
  msg = error_of([] { config_from_json_strict(nlohmann::json::object(), {"train.batch=1.5"}); });
  EXPECT_NE(msg.find("train.batch"), std::string::npos) << msg;
  msg = error_of([] { config_from_json_strict(nlohmann::json::object(), {"train.batch=0"}); });
  EXPECT_NE(msg.find("train.batch must be between"), std::string::npos) << msg;
  msg = error_of(
      [] { config_from_json_strict(nlohmann::json::object(), {"train.optimizer=adamw"}); });
  EXPECT_NE(msg.find("valid: adam, rmsprop, sgd"), std::string::npos) << msg;
  msg = error_of([] { config_from_json_strict(nlohmann::json::object(), {"train.loss=hinge2"}); });
  EXPECT_NE(msg.find("valid: bce, lsgan"), std::string::npos) << msg;
  msg = error_of([] { config_from_json_strict(nlohmann::json::object(), {"noequals"}); });
  EXPECT_NE(msg.find("key=value"), std::string::npos) << msg;
  msg = error_of([] { config_from_json_strict(nlohmann::json::object(), {"train..x=1"}); });
  EXPECT_NE(msg.find("bad key"), std::string::npos) << msg;
  msg = error_of([] { config_from_json_strict({{"train", 3}}, {}); });
  EXPECT_NE(msg.find("'train' must be a JSON object"), std::string::npos) << msg;
  // Array elements of the wrong type (found by fuzzing: a JSON type error escaped as an
  // "internal error" that named no key, and aborted the fuzz target).
  msg = error_of([] { config_from_json_strict({{"model", {{"out_shape", {false}}}}}, {}); });
  EXPECT_NE(msg.find("config key 'model.out_shape' has a value of the wrong type: [false]"),
            std::string::npos)
      << msg;
  msg = error_of([] { config_from_json_strict(nlohmann::json::object(), {"eval.metrics=[1]"}); });
  EXPECT_NE(msg.find("'eval.metrics'"), std::string::npos) << msg;
  msg = error_of(
      [] { config_from_json_strict(nlohmann::json::object(), {"model.class_names=[\"a\",2]"}); });
  EXPECT_NE(msg.find("'model.class_names'"), std::string::npos) << msg;
}

TEST(Config, BadJsonFileNamesTheFile) {
  test::TempDir dir;
  std::ofstream(dir.file("bad.json")) << "{\"train\": {\"batch\": 12,}}";
  const std::string msg = error_of([&] { load_run_config(dir.file("bad.json"), {}); });
  EXPECT_NE(msg.find("bad.json: invalid JSON"), std::string::npos) << msg;
}

}  // namespace
}  // namespace gf
