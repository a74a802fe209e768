#include "train/run.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>

#include "core/error.h"
#include "core/file.h"
#include "core/json_config.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "eval/evaluate.h"
#include "io/checkpoint.h"
#include "io/image.h"
#include "models/sampler.h"
#include "train/budget.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/losses.h"
#include "train/monitors.h"
#include "train/report.h"
#include "train/run_dir.h"
#include "train/stop_signal.h"
#include "train/trainer.h"

namespace gf {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<std::string> flag_overrides(const TrainRequest& r) {
  std::vector<std::string> o;
  // --data DIR with a folder of images reads it as one, whatever the preset's dataset; a --set
  // data.dataset=... (applied after) still wins.
  if (!r.data_dir.empty() && dataset_kind_of(r.data_dir) == "folder") {
    o.push_back("data.dataset=folder");
  }
  // A preset's test folder belongs to the preset's data, not to the one --data names (a --set
  // data.test_dir=..., applied after, still wins).
  if (!r.data_dir.empty()) o.push_back("data.test_dir=");
  o.insert(o.end(), r.overrides.begin(), r.overrides.end());
  if (!r.data_dir.empty()) o.push_back("data.dir=" + r.data_dir);
  // --steps and --epochs replace a preset's time budget, as --time replaces its length.
  if (r.steps >= 0) {
    o.push_back("train.steps=" + std::to_string(r.steps));
    o.push_back("train.time_budget=");
  }
  if (r.epochs >= 0) {
    o.push_back("train.epochs=" + std::to_string(r.epochs));
    o.push_back("train.steps=0");
    o.push_back("train.time_budget=");
  }
  if (r.seed >= 0) o.push_back("seed=" + std::to_string(r.seed));
  if (r.threads >= 0) o.push_back("train.threads=" + std::to_string(r.threads));
  if (!r.device.empty()) o.push_back("train.device=" + r.device);
  if (!r.precision.empty()) o.push_back("train.precision=" + r.precision);
  if (!r.init_from.empty()) o.push_back("train.init_from=" + r.init_from);
  if (!r.time.empty()) o.push_back("train.time_budget=" + r.time);
  return o;
}

std::string format_duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

TrainResult run_training(const TrainRequest& request) {
  const bool resume = !request.resume.empty();
  RunConfig config;
  std::string run_dir;
  if (resume) {
    run_dir = request.resume;
    const std::string saved = (fs::path(run_dir) / "config.json").string();
    GF_CHECK(fs::is_regular_file(saved), run_dir, ": not a run directory (no config.json)");
    GF_CHECK(request.config_path.empty(),
             "--resume takes the run's own config.json; drop --config");
    const nlohmann::json saved_config = read_json_file(saved);
    try {
      config = config_from_json_strict(saved_config, flag_overrides(request));
    } catch (const Error& e) {
      throw Error(concat(saved, ": ", e.what()));
    }
  } else {
    config = load_run_config(request.config_path, flag_overrides(request));
    run_dir = request.out.empty() ? "runs/" + config.name : request.out;
  }
  set_threads(static_cast<int>(config.train.threads));

  const Dataset data = load_dataset(config.data, static_cast<uint64_t>(config.seed));
  config.model.out_shape = data.sample_shape();
  config.model.num_classes = data.num_classes;
  config.model.class_names = data.class_names;
  config.model.validate();

  // Data-parallel: join the group first, so that a rank that cannot start fails them all early.
  const DistributedEnv env = DistributedEnv::from_environment();
  std::shared_ptr<Distributed> dist;
  if (env.enabled() && config.train.device == "cuda") {
    // torchrun's convention: one GPU per local rank.
    config.train.device = "cuda:" + std::to_string(env.local_rank);
  }
  const double budget_s = parse_duration(config.train.time_budget, "train.time_budget");
  if (env.enabled()) {
    GF_CHECK(budget_s == 0, "train.time_budget works in one process only (the ranks would plan ",
             "different lengths); use train.steps with ", env.world_size, " ranks");
    GF_CHECK(config.train.on_nan != "rollback",
             "train.on_nan=rollback works in one process only; use train.on_nan=stop with ",
             env.world_size, " ranks");
    GF_CHECK(request.dist_timeout_s > 0, "--dist-timeout must be positive");
    dist = std::make_shared<Distributed>(
        env, std::chrono::milliseconds(static_cast<int64_t>(request.dist_timeout_s * 1000)),
        parse_device(config.train.device));
  } else if (request.distributed) {
    log_info("--distributed: WORLD_SIZE is unset or 1, training in one process");
  }
  // Only rank 0 writes the run directory (and logs); the others train and stay silent.
  const bool writer = !dist || dist->rank() == 0;
  struct Mute {
    bool on;
    ~Mute() {
      if (on) log_mute(false);
    }
  } mute{!writer};
  if (!writer) log_mute(true);

  std::optional<RunDirectory> dir;
  if (writer) dir.emplace(run_dir, config, resume, request.overwrite);
  Trainer trainer(config, data, dist);
  if (resume) {
    const auto ckpts = list_checkpoints(run_dir);
    GF_CHECK(!ckpts.empty(), run_dir, ": nothing to resume (no checkpoints)");
    trainer.load(ckpts.back());
    if (writer) dir->truncate_metrics(trainer.step_index());
    log_info("resumed from ", ckpts.back(), " at step ", trainer.step_index());
  } else if (!config.train.init_from.empty()) {
    const InitReport r = trainer.init_from(resolve_checkpoint(config.train.init_from));
    log_info("init from ", config.train.init_from, ": ", r.loaded.size(), " tensors loaded, ",
             r.skipped.size(), " skipped (shape differs), ", r.fresh.size(), " newly initialised");
    for (const auto& t : r.skipped) log_info("  skipped ", t);
    for (const auto& t : r.fresh) log_info("  new     ", t);
  }
  if (dist) {
    log_info("data-parallel: ", dist->world_size(), " ranks (c10d ",
             parse_device(config.train.device).is_cuda() ? "NCCL" : "Gloo", ", store ",
             env.master_addr, ":", env.master_port, "), global batch ", config.train.batch, " = ",
             dist->world_size(), " x ", config.train.batch / dist->world_size(), ", lr_g ",
             config.train.lr_g, ", lr_d ", config.train.lr_d,
             " (learning rates are for the global batch; nothing is rescaled)");
  }

  int64_t total = trainer.total_steps();
  TimeBudget budget(budget_s, trainer.time_used(), trainer.step_index());
  total = budget.start_plan(total);
  trainer.set_planned_steps(budget.enabled() ? total : 0);
  const uint64_t sample_seed =
      derive_seed(static_cast<uint64_t>(config.seed), Stream::kFixedLatents);
  // Conditional grids have one class per column; 2-D points make a scatter plot.
  const int64_t classes = config.model.is_conditional() ? config.model.num_classes : 0;
  int64_t grid_n = data.is_image() ? config.log.grid : config.log.grid * 40;
  if (classes > 0 && data.is_image()) grid_n = classes * std::max<int64_t>(1, grid_n / classes);
  const torch::Tensor marks = data.name == "ring" ? RingSpec{}.centers() : torch::Tensor();
  Monitors monitors(config.monitor, data, make_loss({config.train.loss})->probabilistic());
  std::unique_ptr<Scorer> scorer;
  if (config.eval.every > 0 && writer) {
    GF_CHECK(data.is_image(), "eval.every needs an image dataset; ", data.name, " has none");
    scorer = std::make_unique<Scorer>(config.data, config.eval.evaluator, config.eval.metrics,
                                      config.eval.n);
    write_file_atomic(dir->path("eval_baseline.json"), scorer->baseline().dump(2) + "\n");
    log_info("evaluating every ", config.eval.every, " steps on ", config.eval.n, " samples with ",
             scorer->description(), "; real-vs-real baseline: ", scorer->baseline().dump());
  }
  // The best FID so far; a resumed run continues from the best its metrics.jsonl recorded.
  double best_fid = std::numeric_limits<double>::infinity();
  if (resume && writer) {
    for (const auto& j : read_jsonl(dir->path("metrics.jsonl"))) {
      if (j.contains("eval")) {
        if (const auto fid = headline_fid(j["eval"])) best_fid = std::min(best_fid, *fid);
      }
    }
  }
  log_info("run ", run_dir, ": ", config.model.arch, " on ", data.name, " (", data.size(),
           " samples",
           data.y.defined()
               ? concat(", ", data.num_classes, " classes, ",
                        torch::bincount(data.y).gt(0).sum().item<int64_t>(), " of them with images")
               : std::string(),
           "), batch ", config.train.batch, ", ", trainer.batches_per_epoch(), " batches/epoch, ",
           budget.enabled()
               ? concat("time budget ", format_budget(budget_s), " (", fixed(budget.used(0), 1),
                        " s used; the length is planned after ", "a warm-up)")
               : concat(total, " steps"),
           ", ", current_threads(), " thread(s), G ", parameter_count(trainer.generator()),
           " params, D ", parameter_count(trainer.discriminator()), " params");

  TrainResult result;
  result.run_dir = run_dir;
  result.writer = writer;
  result.total_steps = total;
  std::vector<std::string> pending_warnings;
  auto warn = [&](const std::vector<std::string>& warnings) {
    for (const auto& w : warnings) {
      log_info("warning: ", w);
      pending_warnings.push_back(w);
    }
  };
  double last_diversity = -1;
  auto write_samples = [&]() {
    if (!writer) return;
    auto s = generate(trainer.sampling_generator(), config.model, sample_seed, grid_n);
    result.samples = dir->samples_path(trainer.step_index());
    write_png(result.samples, samples_picture(s, marks, classes));
    last_diversity = monitors.diversity(s);
    if (trainer.step_index() > 0)
      warn(monitors.check_diversity(trainer.step_index(), last_diversity));
  };
  auto write_checkpoint = [&]() {
    if (!writer) return;
    result.checkpoint = dir->checkpoint_path(trainer.step_index());
    trainer.save(result.checkpoint);
    if (dir->committed()) prune_checkpoints(run_dir, config.log.keep);
  };

  auto run_eval = [&]() {
    const torch::Tensor labels =
        config.model.is_conditional() ? scorer->labels_for(config.eval.n) : torch::Tensor();
    auto images = generate(trainer.sampling_generator(), config.model, sample_seed + 1,
                           config.eval.n, 500, 0, labels);
    nlohmann::json m = scorer->score(images, labels);
    if (const auto fid = headline_fid(m); fid && *fid < best_fid) {
      best_fid = *fid;
      trainer.save(dir->path("checkpoints/best.ckpt"));
      m["best"] = true;
    }
    if (scorer->closest_pairs().defined()) {
      // Memorisation's closest (sample, training image) pairs, for the report.
      write_png(closest_pairs_path(run_dir),
                make_grid(scorer->closest_pairs(), scorer->closest_pairs().size(0) / 2));
    }
    if (m.contains("classes_covered")) {
      const int64_t covered = m["classes_covered"].get<int64_t>();
      const int64_t classes = scorer->info().classes;
      if (covered * 10 < classes * 8) {
        warn({concat("mode collapse? at step ", trainer.step_index(), " the evaluator sees only ",
                     covered, " of ", classes, " classes in ", config.eval.n, " samples")});
      }
    }
    return m;
  };
  if (!resume) {
    // The new run directory appears with its step-0 grid and checkpoint (train/run_dir.h).
    write_samples();
    write_checkpoint();
    if (writer) dir->commit();
  }
  // Ctrl-C or SIGTERM: stop at the next step boundary with a checkpoint (train/stop_signal.h).
  StopSignal stop;
  bool interrupted = false;
  const torch::Device device = parse_device(config.train.device);
  const auto start = Clock::now();
  auto window_start = start;
  int64_t window_steps = 0, rollbacks = 0;
  StepStats sum;
  while (trainer.step_index() < total) {
    if (stop.should_stop(dist.get(), trainer.step_index(), device)) {
      interrupted = true;
      break;
    }
    // A log that cannot be written (a full disk) stops the run like any other failed write.
    if (const std::string e = log_write_error(); writer && !e.empty()) throw Error(e);
    const int64_t next = trainer.step_index() + 1;
    // Gradient norms are measured on the steps that will probably be logged (a budget's plan
    // can still move the last step).
    const bool log_expected =
        next % config.log.every == 0 || next == total || (scorer && next % config.eval.every == 0);
    StepStats s;
    try {
      s = trainer.step(/*with_grad_norms=*/log_expected);
    } catch (const DivergedError& e) {
      const auto ckpts = list_checkpoints(run_dir);
      if (config.train.on_nan != "rollback" || ckpts.empty() || rollbacks >= 3) {
        throw Error(concat(e.what(), "; the last good checkpoint is ",
                           ckpts.empty() ? "none (nothing saved yet)" : ckpts.back()));
      }
      ++rollbacks;
      const double scale = trainer.lr_scale() * 0.5;
      trainer.load(ckpts.back());
      trainer.set_lr_scale(scale);
      dir->truncate_metrics(trainer.step_index());
      warn({concat(e.what(), "; rolled back to ", ckpts.back(), " with the learning rates x", scale,
                   " (rollback ", rollbacks, " of 3)")});
      window_steps = 0;
      sum = StepStats{};
      window_start = Clock::now();
      continue;
    }
    ++result.steps;
    ++window_steps;
    sum.loss_d += s.loss_d;
    sum.loss_g += s.loss_g;
    sum.d_real += s.d_real;
    sum.d_fake += s.d_fake;
    sum.r1 += s.r1;
    sum.lecam += s.lecam;
    sum.gp += s.gp;
    sum.aux += s.aux;
    const int64_t step = trainer.step_index();
    if (budget.enabled()) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      total = budget.plan(step, elapsed, total);
      trainer.set_planned_steps(total);
      trainer.set_time_used(budget.used(elapsed));
    }
    const bool last = step >= total;
    const bool eval_now = scorer && (step % config.eval.every == 0 || last);
    const bool log_now = log_expected || last || eval_now;
    if (step % config.log.sample_every == 0 || last) write_samples();
    if (log_now && writer) {
      const auto now = Clock::now();
      const double window_s = std::chrono::duration<double>(now - window_start).count();
      const double elapsed = std::chrono::duration<double>(now - start).count();
      const double n = static_cast<double>(window_steps);
      const double step_ms = 1000.0 * window_s / n;
      warn(monitors.check_balance(step, sum.d_real / n, sum.d_fake / n));
      nlohmann::json line = {
          {"step", step},
          {"epoch", trainer.epoch()},
          {"loss_d", sum.loss_d / n},
          {"loss_g", sum.loss_g / n},
          {"d_real", sum.d_real / n},
          {"d_fake", sum.d_fake / n},
          {"grad_norm_g", s.grad_norm_g},
          {"grad_norm_d", s.grad_norm_d},
          {"lr_g", config.train.lr_g * trainer.lr_factor(step - 1) * trainer.lr_scale()},
          {"step_ms", step_ms},
          {"samples_per_s", config.train.batch * 1000.0 / step_ms},
          {"time_s", elapsed}};
      if (budget.enabled()) {
        line["planned_steps"] = total;
        line["budget_used_s"] = budget.used(elapsed);
      }
      if (config.train.r1_gamma > 0) line["r1"] = sum.r1 / n;
      if (config.train.lecam > 0) line["lecam"] = sum.lecam / n;
      if (config.train.loss == "wgan-gp") line["gp"] = sum.gp / n;
      if (config.model.conditional == "acgan") line["aux_loss"] = sum.aux / n;
      if (last_diversity >= 0) line["diversity"] = last_diversity;
      if (eval_now) line["eval"] = run_eval();
      if (!pending_warnings.empty()) line["warnings"] = pending_warnings;
      pending_warnings.clear();
      dir->append_metrics(line);
      const double rate = static_cast<double>(result.steps) / std::max(elapsed, 1e-9);
      const double eta = budget.enabled() ? budget.budget() - budget.used(elapsed)
                                          : (total - step) / std::max(rate, 1e-9);
      const std::string status =
          concat("step ", step, "/", total, " epoch ", trainer.epoch(), " | ", fixed(rate, 1),
                 " steps/s | ETA ", format_duration(std::max(eta, 0.0)), " | loss_d ",
                 fixed(sum.loss_d / n, 3), " loss_g ", fixed(sum.loss_g / n, 3), " D(x) ",
                 fixed(sum.d_real / n, 2), " D(G(z)) ", fixed(sum.d_fake / n, 2),
                 last_diversity >= 0 ? " div " + fixed(last_diversity, 2) : "");
      if (stderr_is_terminal()) {
        progress_line(status);
      } else {
        log_line(status);
      }
      window_start = now;
      window_steps = 0;
      sum = StepStats{};
    }
    if (step % config.log.checkpoint_every == 0 || last) write_checkpoint();
  }
  if (interrupted) {
    if (writer && result.checkpoint != dir->checkpoint_path(trainer.step_index())) {
      write_checkpoint();
    }
    log_info("interrupted by ", stop.reason(), ": stopped at step ", trainer.step_index(), " of ",
             total, writer ? concat(" with checkpoint ", result.checkpoint) : std::string(),
             "; continue with: ganforge train --resume ", run_dir);
  }
  if (writer) result.report = write_report(run_dir);
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.ms_per_step = result.steps > 0 ? 1000.0 * result.seconds / result.steps : 0.0;
  result.total_steps = total;
  if (budget.enabled()) {
    log_info("time budget ", format_budget(budget_s), ": ", trainer.step_index(), " steps in ",
             fixed(trainer.time_used(), 1), " s in all");
  }
  log_info("done: ", result.steps, " steps in ", fixed(result.seconds, 1), " s (",
           fixed(result.ms_per_step, 2), " ms/step, including sampling and checkpoints)");
  return result;
}

}  // namespace gf
