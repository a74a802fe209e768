#include "train/config.h"

#include "core/error.h"
#include "core/json_config.h"
#include "train/losses.h"
#include "train/optim.h"

namespace gf {

void TrainOptions::validate() const {
  GF_CHECK(batch >= 1 && batch <= 65536, "train.batch must be between 1 and 65536, got ", batch);
  GF_CHECK(epochs >= 0 && steps >= 0, "train.epochs and train.steps must be >= 0");
  GF_CHECK(epochs > 0 || steps > 0, "set train.epochs or train.steps");
  check_loss_name(loss);
  GF_CHECK(g_loss == "nonsaturating" || g_loss == "minimax", "unknown train.g_loss '", g_loss,
           "'; valid: nonsaturating, minimax");
  check_optimizer_name(optimizer);
  GF_CHECK(lr_g > 0 && lr_g < 10 && lr_d > 0 && lr_d < 10, "learning rates must be in (0, 10)");
  GF_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam betas must be in [0, 1)");
  GF_CHECK(alpha > 0 && alpha < 1, "train.alpha must be in (0, 1)");
  GF_CHECK(momentum >= 0 && momentum < 1, "train.momentum must be in [0, 1)");
  GF_CHECK(threads >= 0 && threads <= 1024, "train.threads must be between 0 and 1024");
  GF_CHECK(r1_gamma >= 0 && r1_gamma <= 1e6, "train.r1_gamma must be in [0, 1e6]");
  GF_CHECK(r1_every >= 1 && r1_every <= 1000, "train.r1_every must be between 1 and 1000");
  GF_CHECK(lr_decay_start >= 0 && lr_decay_start <= 1, "train.lr_decay_start must be in [0, 1]");
}

nlohmann::json TrainOptions::to_json() const {
  return {{"batch", batch},       {"epochs", epochs},     {"steps", steps},
          {"loss", loss},         {"g_loss", g_loss},     {"optimizer", optimizer},
          {"lr_g", lr_g},         {"lr_d", lr_d},         {"beta1", beta1},
          {"beta2", beta2},       {"alpha", alpha},       {"momentum", momentum},
          {"r1_gamma", r1_gamma}, {"r1_every", r1_every}, {"lr_decay_start", lr_decay_start},
          {"threads", threads},   {"device", device}};
}

TrainOptions TrainOptions::from_json(const nlohmann::json& j) {
  TrainOptions o;
  j.at("batch").get_to(o.batch);
  j.at("epochs").get_to(o.epochs);
  j.at("steps").get_to(o.steps);
  j.at("loss").get_to(o.loss);
  j.at("g_loss").get_to(o.g_loss);
  j.at("optimizer").get_to(o.optimizer);
  j.at("lr_g").get_to(o.lr_g);
  j.at("lr_d").get_to(o.lr_d);
  j.at("beta1").get_to(o.beta1);
  j.at("beta2").get_to(o.beta2);
  j.at("alpha").get_to(o.alpha);
  j.at("momentum").get_to(o.momentum);
  j.at("r1_gamma").get_to(o.r1_gamma);
  j.at("r1_every").get_to(o.r1_every);
  j.at("lr_decay_start").get_to(o.lr_decay_start);
  j.at("threads").get_to(o.threads);
  j.at("device").get_to(o.device);
  return o;
}

void LogOptions::validate() const {
  GF_CHECK(every >= 1 && sample_every >= 1 && checkpoint_every >= 1,
           "log.every, log.sample_every and log.checkpoint_every must be >= 1");
  GF_CHECK(keep >= 1 && keep <= 1000, "log.keep must be between 1 and 1000");
  GF_CHECK(grid >= 1 && grid <= 1024, "log.grid must be between 1 and 1024");
}

nlohmann::json LogOptions::to_json() const {
  return {{"every", every},
          {"sample_every", sample_every},
          {"checkpoint_every", checkpoint_every},
          {"keep", keep},
          {"grid", grid}};
}

LogOptions LogOptions::from_json(const nlohmann::json& j) {
  LogOptions o;
  j.at("every").get_to(o.every);
  j.at("sample_every").get_to(o.sample_every);
  j.at("checkpoint_every").get_to(o.checkpoint_every);
  j.at("keep").get_to(o.keep);
  j.at("grid").get_to(o.grid);
  return o;
}

void RunConfig::validate() const {
  GF_CHECK(!name.empty() && name.find('/') == std::string::npos,
           "name must be a non-empty word without '/'");
  GF_CHECK(seed >= 0, "seed must be >= 0");
  data.validate();
  train.validate();
  log.validate();
  if (!model.out_shape.empty()) model.validate();
}

nlohmann::json RunConfig::to_json() const {
  return {{"name", name},
          {"seed", seed},
          {"data", data.to_json()},
          {"model", model.to_json()},
          {"train", train.to_json()},
          {"log", log.to_json()}};
}

RunConfig RunConfig::from_json(const nlohmann::json& j) {
  RunConfig c;
  j.at("name").get_to(c.name);
  j.at("seed").get_to(c.seed);
  c.data = DataOptions::from_json(j.at("data"));
  c.model = ModelSpec::from_json(j.at("model"));
  c.train = TrainOptions::from_json(j.at("train"));
  c.log = LogOptions::from_json(j.at("log"));
  return c;
}

RunConfig config_from_json_strict(const nlohmann::json& user,
                                  const std::vector<std::string>& overrides) {
  RunConfig defaults;
  // Shapes are derived from the data; an empty default array accepts any user array.
  defaults.model.out_shape.clear();
  nlohmann::json merged = merge_strict(defaults.to_json(), user);
  for (const auto& o : overrides) apply_override(merged, o);
  RunConfig config = RunConfig::from_json(merged);
  config.validate();
  return config;
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  const nlohmann::json user = path.empty() ? nlohmann::json::object() : read_json_file(path);
  try {
    return config_from_json_strict(user, overrides);
  } catch (const Error& e) {
    if (path.empty()) throw;
    throw Error(concat(path, ": ", e.what()));
  }
}

}  // namespace gf
