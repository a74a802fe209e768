#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/json_config.h"
#include "models/generator_file.h"
#include "models/registry.h"
#include "train/report.h"

namespace gf::cli {

Action add_report(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("report", "write RUN_DIR/report.html (plots, samples, config)");
  cmd->add_option("run_dir", *dir, "run directory")->required();
  return [dir] { std::printf("wrote %s\n", write_report(*dir).c_str()); };
}

Action add_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("info", "describe a checkpoint: model, step, config, parameters");
  cmd->add_option("checkpoint", *path, "checkpoint file or run directory")->required();
  cmd->add_flag("--json", *as_json, "print one JSON object");
  return [path, as_json] {
    const LoadedGenerator model = load_generator(*path);
    const std::string& file = model.path;
    const Gan gan = build_gan(model.spec);
    nlohmann::json info = model.meta;
    info["path"] = file;
    info["parameters"] = {{"G", parameter_count(*gan.g)}, {"D", parameter_count(*gan.d)}};
    if (*as_json) {
      std::printf("%s\n", info.dump().c_str());
      return;
    }
    std::printf("checkpoint:  %s\n", file.c_str());
    read_json_values(file, [&] {
      std::printf("version:     ganforge %s\n", info.value("ganforge_version", "?").c_str());
      std::printf("step:        %lld (epoch %lld)\n",
                  static_cast<long long>(info.at("step").get<int64_t>()),
                  static_cast<long long>(info.value("epoch", int64_t{0})));
    });
    std::printf("model:       %s\n", info.at("model").dump().c_str());
    const auto& spec = model.spec;
    if (spec.num_classes > 0) {
      std::printf("classes:     %lld", static_cast<long long>(spec.num_classes));
      for (size_t c = 0; c < spec.class_names.size(); ++c) {
        std::printf("%s%zu=%s", c == 0 ? " (" : ", ", c, spec.class_names[c].c_str());
      }
      std::printf("%s\n", spec.class_names.empty() ? "" : ")");
    }
    if (spec.out_shape.size() == 3) {
      std::printf("images:      %lldx%lld, %lld channel%s\n",
                  static_cast<long long>(spec.out_shape[1]),
                  static_cast<long long>(spec.out_shape[2]),
                  static_cast<long long>(spec.out_shape[0]), spec.out_shape[0] == 1 ? "" : "s");
    }
    std::printf("parameters:  G %lld, D %lld\n", static_cast<long long>(parameter_count(*gan.g)),
                static_cast<long long>(parameter_count(*gan.d)));
    std::printf("config:\n%s\n", info.value("config", nlohmann::json::object()).dump(2).c_str());
  };
}

}  // namespace gf::cli
