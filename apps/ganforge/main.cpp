// ganforge: train, sample and inspect GANs. main() builds the CLI, runs one subcommand and turns
// errors into exit codes: 0 success, 1 user error (one clear sentence), 2 internal error.
#include <c10/util/Exception.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

#include "commands.h"
#include "core/error.h"
#include "core/file.h"
#include "core/names.h"
#include "core/runtime.h"
#include "version.h"

int main(int argc, char** argv) {
  // Past a file size limit (ulimit -f) a write fails with EFBIG, which every writer reports with
  // the file's name, instead of SIGXFSZ killing the process with a core dump.
  std::signal(SIGXFSZ, SIG_IGN);
  gf::ensure_fast_blas(argc, argv);
  gf::keep_freed_memory();
  CLI::App app{"ganforge: train, watch, evaluate and serve GAN image generators"};
  app.set_version_flag("--version", gf::kVersion);
  app.require_subcommand(1);
  std::map<std::string, gf::cli::Action> actions;
  actions["train"] = gf::cli::add_train(app);
  actions["sample"] = gf::cli::add_sample(app);
#ifdef GF_WITH_SERVE
  actions["serve"] = gf::cli::add_serve(app);
#endif
  actions["info"] = gf::cli::add_info(app);
  actions["export"] = gf::cli::add_export(app);
  actions["bench"] = gf::cli::add_bench(app);
  actions["report"] = gf::cli::add_report(app);
  actions["eval"] = gf::cli::add_eval(app);
  actions["classifier"] = gf::cli::add_classifier(app);
  actions["dataset"] = gf::cli::add_dataset(app);
  actions["sweep"] = gf::cli::add_sweep(app);
  actions["project"] = gf::cli::add_project(app);
  actions["repair"] = gf::cli::add_repair(app);
  actions["augment"] = gf::cli::add_augment(app);

  if (argc > 1 && argv[1][0] != '-' && actions.count(argv[1]) == 0) {
    std::vector<std::string> names;
    for (const auto& a : actions) names.push_back(a.first);
    std::fprintf(stderr, "error: unknown command '%s'; valid: %s\n", argv[1],
                 gf::join_names(names).c_str());
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 1;
  }
  try {
    // Test hook for the internal-error path (exit code 2), which correct code never takes.
    if (const char* hook = std::getenv("GF_TEST_INTERNAL_ERROR")) {
      if (std::string(hook) == "c10") TORCH_CHECK(false, "GF_TEST_INTERNAL_ERROR=c10");
      throw std::logic_error("GF_TEST_INTERNAL_ERROR is set");
    }
    for (auto* sub : app.get_subcommands()) actions.at(sub->get_name())();
    // What a command printed (info --json, eval --json, ...) must have been written whole.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      std::fprintf(stderr, "error: cannot write standard output: %s\n", std::strerror(errno));
      return 1;
    }
    return 0;
  } catch (const gf::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    std::fprintf(stderr, "error: %s\n", gf::describe(e).c_str());
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what_without_backtrace());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 2;
  }
}
