#include "train/config.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/json_config.h"
#include "core/names.h"
#include "core/runtime.h"
#include "eval/evaluate.h"
#include "install_dirs.h"
#include "train/budget.h"
#include "train/losses.h"
#include "train/optim.h"
#include "train/regularizers.h"

namespace gf {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainOptions, batch, epochs, steps, time_budget,
                                                loss, g_loss, optimizer, lr_g, lr_d, beta1, beta2,
                                                alpha, momentum, n_critic, lr_decay_start, r1_gamma,
                                                lecam, r1_every, gp_lambda, clip, label_smoothing,
                                                instance_noise, instance_noise_until, augment,
                                                aux_weight, ema_kimg, ema_rampup, on_nan, init_from,
                                                threads, device, precision)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LogOptions, every, sample_every, checkpoint_every, keep, grid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MonitorOptions, diversity_min, imbalance_eps, imbalance_lines)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EvalOptions, every, metrics, n, evaluator)

void EvalOptions::validate() const {
  GF_CHECK(every >= 0, "eval.every must be >= 0");
  GF_CHECK(n >= 20 && n <= 200000, "eval.n must be between 20 and 200000");
  for (const auto& m : metrics) check_name("eval.metrics entry", m, metric_names());
}

void TrainOptions::validate() const {
  GF_CHECK(batch >= 1 && batch <= 65536, "train.batch must be between 1 and 65536, got ", batch);
  GF_CHECK(epochs >= 0 && steps >= 0, "train.epochs and train.steps must be >= 0");
  GF_CHECK(epochs > 0 || steps > 0, "set train.epochs or train.steps");
  parse_duration(time_budget, "train.time_budget");
  check_loss_name(loss);
  check_name("train.g_loss", g_loss, {"nonsaturating", "minimax"});
  check_optimizer_name(optimizer);
  GF_CHECK(lr_g > 0 && lr_g < 10 && lr_d > 0 && lr_d < 10, "learning rates must be in (0, 10)");
  GF_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam betas must be in [0, 1)");
  GF_CHECK(alpha > 0 && alpha < 1, "train.alpha must be in (0, 1)");
  GF_CHECK(momentum >= 0 && momentum < 1, "train.momentum must be in [0, 1)");
  GF_CHECK(n_critic >= 1 && n_critic <= 100, "train.n_critic must be between 1 and 100");
  GF_CHECK(lr_decay_start >= 0 && lr_decay_start <= 1, "train.lr_decay_start must be in [0, 1]");
  GF_CHECK(r1_gamma >= 0 && r1_gamma <= 1e6, "train.r1_gamma must be in [0, 1e6]");
  GF_CHECK(lecam >= 0 && lecam <= 1e6, "train.lecam must be in [0, 1e6]");
  GF_CHECK(r1_every >= 1 && r1_every <= 1000, "train.r1_every must be between 1 and 1000");
  GF_CHECK(gp_lambda >= 0 && gp_lambda <= 1e6, "train.gp_lambda must be in [0, 1e6]");
  GF_CHECK(clip > 0 && clip <= 100, "train.clip must be in (0, 100]");
  GF_CHECK(label_smoothing >= 0 && label_smoothing < 0.5,
           "train.label_smoothing must be in [0, 0.5)");
  GF_CHECK(instance_noise >= 0 && instance_noise <= 10, "train.instance_noise must be in [0, 10]");
  GF_CHECK(instance_noise_until > 0 && instance_noise_until <= 1,
           "train.instance_noise_until must be in (0, 1]");
  check_augment(augment);
  GF_CHECK(aux_weight >= 0 && aux_weight <= 1000, "train.aux_weight must be in [0, 1000]");
  GF_CHECK(ema_kimg >= 0 && ema_kimg <= 1e6, "train.ema_kimg must be in [0, 1e6]");
  GF_CHECK(ema_rampup >= 0 && ema_rampup <= 1, "train.ema_rampup must be in [0, 1]");
  check_name("train.on_nan", on_nan, {"stop", "rollback"});
  check_precision(precision);
  GF_CHECK(threads >= 0 && threads <= 1024, "train.threads must be between 0 and 1024");
}

nlohmann::json TrainOptions::to_json() const {
  return *this;
}
TrainOptions TrainOptions::from_json(const nlohmann::json& j) {
  return j.get<TrainOptions>();
}

void LogOptions::validate() const {
  GF_CHECK(every >= 1 && sample_every >= 1 && checkpoint_every >= 1,
           "log.every, log.sample_every and log.checkpoint_every must be >= 1");
  GF_CHECK(keep >= 1 && keep <= 1000, "log.keep must be between 1 and 1000");
  GF_CHECK(grid >= 1 && grid <= 1024, "log.grid must be between 1 and 1024");
}

nlohmann::json LogOptions::to_json() const {
  return *this;
}
LogOptions LogOptions::from_json(const nlohmann::json& j) {
  return j.get<LogOptions>();
}

void MonitorOptions::validate() const {
  GF_CHECK(diversity_min >= 0 && diversity_min <= 10, "monitor.diversity_min must be in [0, 10]");
  GF_CHECK(imbalance_eps >= 0 && imbalance_eps < 0.5, "monitor.imbalance_eps must be in [0, 0.5)");
  GF_CHECK(imbalance_lines >= 1, "monitor.imbalance_lines must be >= 1");
}

nlohmann::json MonitorOptions::to_json() const {
  return *this;
}
MonitorOptions MonitorOptions::from_json(const nlohmann::json& j) {
  return j.get<MonitorOptions>();
}

void RunConfig::validate() const {
  GF_CHECK(!name.empty() && name.find('/') == std::string::npos,
           "name must be a non-empty word without '/'");
  GF_CHECK(seed >= 0, "seed must be >= 0");
  data.validate();
  train.validate();
  log.validate();
  monitor.validate();
  eval.validate();
  if (!model.out_shape.empty()) model.validate();
}

nlohmann::json RunConfig::to_json() const {
  return {{"name", name},
          {"seed", seed},
          {"data", data.to_json()},
          {"model", model.to_json()},
          {"train", train.to_json()},
          {"log", log.to_json()},
          {"monitor", monitor.to_json()},
          {"eval", eval}};
}

RunConfig RunConfig::from_json(const nlohmann::json& j) {
  RunConfig c;
  j.at("name").get_to(c.name);
  j.at("seed").get_to(c.seed);
  c.data = DataOptions::from_json(j.at("data"));
  c.model = ModelSpec::from_json(j.at("model"));
  c.train = TrainOptions::from_json(j.at("train"));
  c.log = LogOptions::from_json(j.at("log"));
  c.monitor = MonitorOptions::from_json(j.at("monitor"));
  c.eval = j.at("eval").get<EvalOptions>();
  return c;
}

namespace {

// The JSON pointers of every value in `j` that is not an object.
void leaf_pointers(const nlohmann::json& j, const std::string& prefix,
                   std::vector<std::string>& out) {
  if (!j.is_object()) {
    out.push_back(prefix);
    return;
  }
  for (const auto& item : j.items()) leaf_pointers(item.value(), prefix + "/" + item.key(), out);
}

// merge_strict checks each value's JSON type against its default, but not the elements of an
// array whose default is empty ("model.out_shape": [false]); the conversion then fails with a
// message that names no key. This finds the value by converting the defaults with one user value
// at a time (only on that error path). Merged keys are all known keys, none with '/' or '~'.
std::string pointer_that_does_not_convert(const nlohmann::json& defaults,
                                          const nlohmann::json& merged) {
  std::vector<std::string> pointers;
  leaf_pointers(merged, "", pointers);
  for (const auto& pointer : pointers) {
    const nlohmann::json::json_pointer ptr(pointer);
    nlohmann::json trial = defaults;
    trial[ptr] = merged.at(ptr);
    try {
      (void)RunConfig::from_json(trial);
    } catch (const nlohmann::json::exception&) {
      return pointer;
    }
  }
  return "";
}

}  // namespace

RunConfig config_from_json_strict(const nlohmann::json& user,
                                  const std::vector<std::string>& overrides) {
  RunConfig defaults;
  // Shapes are derived from the data; an empty default array accepts any user array.
  defaults.model.out_shape.clear();
  const nlohmann::json default_json = defaults.to_json();
  nlohmann::json merged = merge_strict(default_json, user);
  for (const auto& o : overrides) apply_override(merged, o);
  RunConfig config;
  try {
    config = RunConfig::from_json(merged);
  } catch (const nlohmann::json::exception& e) {
    const std::string pointer = pointer_that_does_not_convert(default_json, merged);
    if (pointer.empty()) throw Error(concat("config: ", e.what()));
    std::string key = pointer.substr(1);
    std::replace(key.begin(), key.end(), '/', '.');
    throw Error(concat("config key '", key, "' has a value of the wrong type: ",
                       merged.at(nlohmann::json::json_pointer(pointer)).dump()));
  }
  config.validate();
  return config;
}

namespace {

// An installed ganforge (cmake/Install.cmake) keeps its presets beside its binary, at
// <prefix>/<bindir>/<kPresetDirFromBinDir>, wherever the prefix is.
std::filesystem::path installed_preset_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return (exe.parent_path() / kPresetDirFromBinDir).lexically_normal();
}

// `--config` is a file, or the name of an installed preset ("cgan_mnist" or "cgan_mnist.json").
std::string find_config(const std::string& path_or_name) {
  namespace fs = std::filesystem;
  if (fs::exists(path_or_name)) return path_or_name;
  const fs::path dir = installed_preset_dir();
  std::vector<std::string> presets;
  if (!dir.empty() && fs::is_directory(dir)) {
    if (path_or_name.find('/') == std::string::npos) {
      for (const auto& name : {path_or_name, path_or_name + ".json"}) {
        if (fs::is_regular_file(dir / name)) return (dir / name).string();
      }
    }
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") presets.push_back(entry.path().stem().string());
    }
    std::sort(presets.begin(), presets.end());
  }
  throw Error(concat(path_or_name, ": no such config file",
                     presets.empty() ? "" : " or preset; presets: " + join_names(presets)));
}

}  // namespace

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  const nlohmann::json user =
      path.empty() ? nlohmann::json::object() : read_json_file(find_config(path));
  try {
    return config_from_json_strict(user, overrides);
  } catch (const Error& e) {
    if (path.empty()) throw;
    throw Error(concat(path, ": ", e.what()));
  }
}

}  // namespace gf
