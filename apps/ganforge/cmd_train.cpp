#include <cstdio>
#include <memory>

#include "commands.h"
#include "train/run.h"

namespace gf::cli {

Action add_train(CLI::App& app) {
  auto req = std::make_shared<TrainRequest>();
  auto* cmd = app.add_subcommand("train", "train a GAN from a config preset");
  cmd->add_option("--config,-c", req->config_path,
                  "config JSON, or an installed preset's name (cgan_mnist)");
  cmd->add_option("--data", req->data_dir, "directory with MNIST-format idx files");
  cmd->add_option("--out,-o", req->out, "run directory (default runs/<name>)");
  cmd->add_option("--set", req->overrides, "override a config key: --set train.lr_g=1e-4")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--resume", req->resume, "continue the run in this directory")
      ->check(CLI::ExistingDirectory);
  auto* steps = cmd->add_option("--steps", req->steps, "total training steps")
                    ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  auto* epochs = cmd->add_option("--epochs", req->epochs, "training epochs")
                     ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
                     ->excludes(steps);
  cmd->add_option("--time", req->time,
                  "train for a wall-clock budget (90s, 10m, 1h30m) instead of steps or epochs; "
                  "schedules end when it does")
      ->excludes(steps)
      ->excludes(epochs);
  cmd->add_option("--seed", req->seed, "run seed")->check(CLI::Range(int64_t{0}, INT64_MAX));
  cmd->add_option("--threads", req->threads, "intra-op threads (0: default)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--device", req->device, "cpu | cuda | cuda:N");
  cmd->add_option("--precision", req->precision,
                  "fp32 | bf16 (mixed precision: bf16 matrix products, fp32 weights and loss)");
  cmd->add_flag("--overwrite", req->overwrite, "replace an existing run directory");
  cmd->add_option("--init-from", req->init_from,
                  "start G and D from another run's checkpoint (fine-tuning)");
  cmd->add_flag("--distributed", req->distributed,
                "data-parallel over the ranks in RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT "
                "(torchrun sets them; automatic when WORLD_SIZE > 1)");
  cmd->add_option("--dist-timeout", req->dist_timeout_s,
                  "seconds to wait for the other ranks (rendezvous and each all-reduce)")
      ->check(CLI::Range(1.0, 86400.0));
  return [req] {
    const TrainResult r = run_training(*req);
    if (!r.writer) return;  // ranks other than 0 of a data-parallel run report nothing
    std::printf("run directory: %s\n", r.run_dir.c_str());
    std::printf("sample grid:   %s\n", r.samples.c_str());
    std::printf("metrics:       %s/metrics.jsonl\n", r.run_dir.c_str());
    std::printf("checkpoint:    %s\n", r.checkpoint.c_str());
    std::printf("report:        %s\n", r.report.c_str());
    std::printf("steps:         %lld of %lld in %.1f s (%.2f ms/step)\n",
                static_cast<long long>(r.steps), static_cast<long long>(r.total_steps), r.seconds,
                r.ms_per_step);
  };
}

}  // namespace gf::cli
