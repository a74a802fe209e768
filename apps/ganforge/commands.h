// Each subcommand registers its flags on the CLI11 app and returns the action to run once parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace gf::cli {

using Action = std::function<void()>;

Action add_train(CLI::App& app);
Action add_sample(CLI::App& app);
#ifdef GF_WITH_SERVE
Action add_serve(CLI::App& app);
#endif
Action add_info(CLI::App& app);
Action add_export(CLI::App& app);
Action add_bench(CLI::App& app);
Action add_report(CLI::App& app);
Action add_eval(CLI::App& app);
Action add_classifier(CLI::App& app);
Action add_dataset(CLI::App& app);
Action add_sweep(CLI::App& app);
Action add_project(CLI::App& app);
Action add_repair(CLI::App& app);
Action add_augment(CLI::App& app);

}  // namespace gf::cli
