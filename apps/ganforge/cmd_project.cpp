// `project` (the latent that reproduces an image) and `repair` (fill a hole in images).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "apply/repair.h"
#include "commands.h"
#include "core/error.h"
#include "core/file.h"
#include "core/names.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "eval/evaluate.h"
#include "models/sampler.h"

namespace gf::cli {
namespace {

struct ApplyOptions {
  std::string checkpoint, input, out, label, device = "cpu", evaluator, data_dir;
  bool no_ema = false;
  int64_t threads = 0;
  ProjectOptions project;
  // repair only
  std::string mask, method = "gan";
  std::vector<int64_t> box;
  int64_t hole = 0;
  bool score = false;
};

void add_common_flags(CLI::App* cmd, ApplyOptions& o) {
  cmd->add_option("checkpoint", o.checkpoint, "checkpoint file or run directory")->required();
  cmd->add_option("--input,-i", o.input, "IMAGE.png | DIR of images | FILE.idx[.gz]")->required();
  cmd->add_option("--label", o.label,
                  "conditional models: the class (index or name); default: searched");
  cmd->add_option("--steps", o.project.steps, "Adam steps per start")
      ->check(CLI::Range(int64_t{0}, int64_t{100000}));
  cmd->add_option("--restarts", o.project.restarts, "random starts (per class when searched)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  cmd->add_option("--lr", o.project.lr, "Adam's step size on the latent");
  cmd->add_option("--prior", o.project.prior, "weight of the latent prior (normal latents)");
  cmd->add_option("--seed", o.project.seed, "seed of the random starts (and of --hole)")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  cmd->add_option("--threads", o.threads, "intra-op threads (0: default)")
      ->check(CLI::Range(int64_t{0}, int64_t{1024}));
  cmd->add_option("--device", o.device, "cpu | cuda | cuda:N");
  cmd->add_flag("--no-ema", o.no_ema, "use the raw G even when the checkpoint has an EMA G");
}

// The labels to project with: --label for every image, else -1 (search).
torch::Tensor requested_labels(const ApplyOptions& o, const LoadedGenerator& model, int64_t n) {
  if (o.label.empty()) return torch::full({n}, -1, torch::kInt64);
  GF_CHECK(model.spec.is_conditional(), model.path,
           " holds an unconditional model; --label needs a conditional one");
  return torch::full({n}, model.spec.class_index(o.label, model.path), torch::kInt64);
}

void print_projection(const std::string& name, const Projection& p, const ProjectOptions& po,
                      const ModelSpec& spec) {
  nlohmann::json line = {
      {"image", name}, {"restart", p.restart}, {"seed", po.seed}, {"loss", p.loss}, {"mse", p.mse}};
  if (spec.is_conditional()) line["label"] = p.label;
  std::printf("%s\n", line.dump().c_str());
}

void run_project(const ApplyOptions& o) {
  set_threads(static_cast<int>(o.threads));
  const auto start = std::chrono::steady_clock::now();
  const LoadedGenerator model = load_generator(o.checkpoint, o.device, !o.no_ema);
  const ImageSet in = read_image_set(o.input, model.spec.out_shape);
  const int64_t n = in.images.size(0);
  const auto found =
      project_images(*model.g, model.spec, in.images, {}, requested_labels(o, model, n), o.project);
  write_file_atomic(o.out, latents_to_json(model.spec, found).dump() + "\n");
  double psnr_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    print_projection(in.names[static_cast<size_t>(i)], found[static_cast<size_t>(i)], o.project,
                     model.spec);
    psnr_sum += 10 * std::log10(4.0 / std::max(found[static_cast<size_t>(i)].mse, 1e-20));
  }
  std::fprintf(stderr, "wrote %lld latents to %s: mean PSNR %.2f dB over whole images (%.1f s)\n",
               static_cast<long long>(n), o.out.c_str(), psnr_sum / static_cast<double>(n),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

// The data the checkpoint was trained on (or --data), for the baselines and the evaluator.
DataOptions checkpoint_data(const ApplyOptions& o, const LoadedGenerator& model) {
  EvalRequest req;
  req.source = model.path;
  req.data_dir = o.data_dir;
  return eval_data_options(req);
}

nlohmann::json score_repair(const ApplyOptions& o, const LoadedGenerator& model, const ImageSet& in,
                            const torch::Tensor& known, const torch::Tensor& repaired) {
  nlohmann::json s = {{"n", in.images.size(0)},
                      {"psnr_hole", pooled_hole_psnr(repaired, in.images, known)}};
  if (in.labels.defined()) {
    const TrainedClassifier evaluator = ensure_evaluator(checkpoint_data(o, model), o.evaluator);
    const int64_t lo = in.labels.min().item<int64_t>(), hi = in.labels.max().item<int64_t>();
    GF_CHECK(lo >= 0 && hi < evaluator.info.classes, o.input, ": labels ", lo, "..", hi,
             " are outside the evaluator's classes 0..", evaluator.info.classes - 1);
    const auto correct = [&](const torch::Tensor& images) {
      const auto predicted = embed(*evaluator.model, images).probs.argmax(1);
      return predicted.eq(in.labels).to(torch::kFloat64).mean().item<double>();
    };
    s["accuracy"] = correct(repaired);
    s["accuracy_original"] = correct(in.images);
  }
  return s;
}

void run_repair(const ApplyOptions& o) {
  set_threads(static_cast<int>(o.threads));
  const auto start = std::chrono::steady_clock::now();
  check_name("--method", o.method, repair_methods());
  const int ways = (o.mask.empty() ? 0 : 1) + (o.box.empty() ? 0 : 1) + (o.hole > 0 ? 1 : 0);
  GF_CHECK(ways == 1, "give the hole one way: --mask, --box or --hole");
  const LoadedGenerator model = load_generator(o.checkpoint, o.device, !o.no_ema);
  const ImageSet in = read_image_set(o.input, model.spec.out_shape);
  const int64_t n = in.images.size(0), h = in.images.size(2), w = in.images.size(3);
  const torch::Tensor known = !o.mask.empty() ? read_masks(o.mask, in)
                              : !o.box.empty()
                                  ? box_mask(n, h, w, o.box)
                                  : random_square_masks(n, h, w, o.hole, o.project.seed);
  torch::Tensor train;
  if (o.method == "mean" || o.method == "nearest") {
    DataOptions d = checkpoint_data(o, model);
    train = load_dataset(d, 0).x;
    GF_CHECK(train.sizes().slice(1) == in.images.sizes().slice(1), "the training images of ",
             dataset_id(d), " are not the generator's shape");
  }
  RepairOptions ro;
  ro.method = o.method;
  ro.project = o.project;
  const RepairResult r = repair_images(*model.g, model.spec, in.images, known,
                                       requested_labels(o, model, n), train, ro);
  torch::Tensor labels;
  if (!r.projections.empty() && model.spec.is_conditional()) {
    std::vector<int64_t> chosen;
    for (const auto& p : r.projections) chosen.push_back(p.label);
    labels = torch::tensor(chosen, torch::kInt64);
  }
  write_image_set(o.out, in, r.images, labels.defined() ? labels : in.labels);
  for (size_t i = 0; i < r.projections.size(); ++i) {
    print_projection(in.names[i], r.projections[i], o.project, model.spec);
  }
  if (o.score) {
    std::printf("%s\n", nlohmann::json({{"method", o.method},
                                        {"score", score_repair(o, model, in, known, r.images)}})
                            .dump()
                            .c_str());
  }
  std::fprintf(stderr, "repaired %lld images (%s) into %s in %.1f s\n", static_cast<long long>(n),
               o.method.c_str(), o.out.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace

Action add_project(CLI::App& app) {
  auto o = std::make_shared<ApplyOptions>();
  auto* cmd = app.add_subcommand(
      "project", "find the latent (and class) that reproduces an image: LATENT.json for sample");
  add_common_flags(cmd, *o);
  cmd->add_option("--out,-o", o->out, "LATENT.json (read by sample --latent)")->required();
  return [o] { run_project(*o); };
}

Action add_repair(CLI::App& app) {
  auto o = std::make_shared<ApplyOptions>();
  auto* cmd = app.add_subcommand(
      "repair", "fill the masked part of images from the generator (or a classic fill)");
  add_common_flags(cmd, *o);
  cmd->add_option("--out,-o", o->out, "output in the input's format: .png | DIR | .idx[.gz]")
      ->required();
  cmd->add_option("--mask", o->mask,
                  "MASK.png (white: missing) for every image | DIR (one per image, same name) | "
                  "FILE.idx of N masks");
  cmd->add_option("--box", o->box, "the hole as x,y,w,h in pixels")->delimiter(',')->expected(4);
  cmd->add_option("--hole", o->hole, "a random square hole of this side per image (seeded)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--method", o->method, "gan | mean | nearest | harmonic");
  cmd->add_option("--data", o->data_dir, "training data for mean/nearest (default: the run's)");
  cmd->add_flag("--score", o->score,
                "the input is the truth: print PSNR inside the hole and, for labelled idx "
                "input, the evaluator's accuracy on the repaired images");
  cmd->add_option("--evaluator", o->evaluator, "evaluator file for --score (default: the data's)");
  return [o] { run_repair(*o); };
}

}  // namespace gf::cli
