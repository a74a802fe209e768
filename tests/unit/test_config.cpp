#include <gtest/gtest.h>

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
}

TEST(Config, BadJsonFileNamesTheFile) {
  test::TempDir dir;
  std::ofstream(dir.file("bad.json")) << "{\"train\": {\"batch\": 12,}}";
  const std::string msg = error_of([&] { load_run_config(dir.file("bad.json"), {}); });
  EXPECT_NE(msg.find("bad.json: invalid JSON"), std::string::npos) << msg;
}

}  // namespace
}  // namespace gf
