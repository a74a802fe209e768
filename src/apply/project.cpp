#include "apply/project.h"

#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "core/error.h"
#include "core/json_config.h"
#include "models/conditioning.h"
#include "models/sampler.h"

namespace gf {
namespace {

// G's parameters need no gradients while z is optimised; restored on scope exit.
class FrozenParameters {
 public:
  explicit FrozenParameters(torch::nn::Module& m) : module_(m), was_training_(m.is_training()) {
    for (auto& p : m.parameters()) {
      saved_.emplace_back(p, p.requires_grad());
      p.set_requires_grad(false);
    }
    m.eval();  // batch norm on its running statistics: each image its own problem
  }
  ~FrozenParameters() {
    for (auto& [p, requires_grad] : saved_) p.set_requires_grad(requires_grad);
    module_.train(was_training_);
  }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
  std::vector<std::pair<torch::Tensor, bool>> saved_;
};

// One candidate per (image, class, start), optimised together: their losses are independent, so
// the sum's gradient with respect to each z is that candidate's own.
struct Candidates {
  std::vector<int64_t> image, label, restart;
};

Candidates candidates_for(const ModelSpec& spec, const torch::Tensor& labels, int64_t first,
                          int64_t count, int64_t restarts) {
  Candidates c;
  for (int64_t i = first; i < first + count; ++i) {
    std::vector<int64_t> classes = {-1};
    if (spec.is_conditional()) {
      const int64_t given = labels.defined() ? labels[i].item<int64_t>() : -1;
      classes.clear();
      if (given >= 0) {
        classes.push_back(given);
      } else {
        for (int64_t k = 0; k < spec.num_classes; ++k) classes.push_back(k);
      }
    }
    for (int64_t k : classes) {
      for (int64_t r = 0; r < restarts; ++r) {
        c.image.push_back(i);
        c.label.push_back(k);
        c.restart.push_back(r);
      }
    }
  }
  return c;
}

// Per candidate: the mean squared error over its known pixels, [M].
torch::Tensor masked_mse(const torch::Tensor& out, const torch::Tensor& target,
                         const torch::Tensor& known) {
  const auto k = known.expand_as(target);
  const auto count = k.flatten(1).sum(1).clamp_min(1.0);
  return ((out - target) * k).pow(2).flatten(1).sum(1) / count;
}

torch::Tensor prior_term(const ModelSpec& spec, const torch::Tensor& z, double weight) {
  if (spec.latent != "normal" || weight == 0.0) return torch::zeros({z.size(0)}, z.options());
  return weight * z.pow(2).mean(1);
}

// The candidates still in the race, with their Adam state (Kingma & Ba 2015, algorithm 1).
struct Search {
  Candidates kept;
  torch::Tensor z, m, v, y, target, mask;
};

Search start_search(const Candidates& c, const torch::Tensor& targets, const torch::Tensor& known,
                    const torch::Tensor& starts, torch::Device device, const ModelSpec& spec) {
  Search s;
  s.kept = c;
  const auto index = torch::tensor(c.image, torch::kInt64);
  s.target = targets.index_select(0, index).to(device);
  s.mask = known.index_select(0, index).to(device);
  if (spec.is_conditional()) s.y = torch::tensor(c.label, torch::kInt64).to(device);
  s.z = starts.index_select(0, torch::tensor(c.restart, torch::kInt64)).to(device);
  s.m = torch::zeros_like(s.z);
  s.v = torch::zeros_like(s.z);
  return s;
}

// Successive halving (Jamieson & Talwalkar 2016): every image keeps its best quarter of
// candidates after the first 15% of the steps and its best one after 35%, so searching 10 classes
// x 4 starts costs about 9 full runs instead of 40.
void prune(Search& s, const torch::Tensor& loss, double keep_share) {
  std::map<int64_t, std::vector<std::pair<double, int64_t>>> by_image;
  const auto l = loss.to(torch::kCPU, torch::kFloat64);
  for (size_t m = 0; m < s.kept.image.size(); ++m) {
    by_image[s.kept.image[m]].emplace_back(l[static_cast<int64_t>(m)].item<double>(),
                                           static_cast<int64_t>(m));
  }
  std::vector<int64_t> rows;
  Candidates kept;
  for (auto& [image, list] : by_image) {
    std::sort(list.begin(), list.end());
    const auto keep = std::max<size_t>(
        1, static_cast<size_t>(std::ceil(keep_share * static_cast<double>(list.size()))));
    for (size_t i = 0; i < keep; ++i) {
      const auto m = static_cast<size_t>(list[i].second);
      rows.push_back(list[i].second);
      kept.image.push_back(s.kept.image[m]);
      kept.label.push_back(s.kept.label[m]);
      kept.restart.push_back(s.kept.restart[m]);
    }
  }
  const auto index = torch::tensor(rows, torch::kInt64).to(s.z.device());
  for (auto* t : {&s.z, &s.m, &s.v, &s.target, &s.mask}) *t = t->index_select(0, index);
  if (s.y.defined()) s.y = s.y.index_select(0, index);
  s.kept = std::move(kept);
}

void optimise(Generator& g, const ModelSpec& spec, const ProjectOptions& o, Search& s) {
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  const auto first_cut = static_cast<int64_t>(0.15 * static_cast<double>(o.steps));
  const auto second_cut = static_cast<int64_t>(0.35 * static_cast<double>(o.steps));
  for (int64_t step = 0; step < o.steps; ++step) {
    auto z = s.z.detach().requires_grad_(true);
    const auto loss =
        masked_mse(g.forward(z, s.y), s.target, s.mask) + prior_term(spec, z, o.prior);
    const auto grad = torch::autograd::grad({loss.sum()}, {z})[0];
    torch::NoGradGuard no_grad;
    const auto t = static_cast<double>(step + 1);
    s.m.mul_(beta1).add_(grad, 1 - beta1);
    s.v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    const auto m_hat = s.m / (1 - std::pow(beta1, t));
    const auto v_hat = s.v / (1 - std::pow(beta2, t));
    s.z = s.z - o.lr * m_hat / (v_hat.sqrt() + eps);
    if (spec.latent == "uniform") s.z.clamp_(-1.0, 1.0);
    if (step + 1 == first_cut) prune(s, loss.detach(), 0.25);
    if (step + 1 == second_cut) prune(s, loss.detach(), 0.0);
  }
}

}  // namespace

void ProjectOptions::validate() const {
  GF_CHECK(steps >= 0 && steps <= 100000, "projection steps must be in [0, 100000], got ", steps);
  GF_CHECK(restarts >= 1 && restarts <= 1000, "restarts must be in [1, 1000], got ", restarts);
  GF_CHECK(std::isfinite(lr) && lr > 0 && lr <= 10, "projection lr must be in (0, 10], got ", lr);
  GF_CHECK(std::isfinite(prior) && prior >= 0 && prior <= 1000,
           "the latent prior's weight must be in [0, 1000], got ", prior);
  GF_CHECK(batch >= 1 && batch <= 65536, "projection batch must be in [1, 65536], got ", batch);
}

std::vector<Projection> project_images(Generator& g, const ModelSpec& spec,
                                       const torch::Tensor& targets, const torch::Tensor& known,
                                       const torch::Tensor& labels, const ProjectOptions& options) {
  options.validate();
  std::vector<int64_t> shape = {targets.size(0)};
  shape.insert(shape.end(), spec.out_shape.begin(), spec.out_shape.end());
  GF_CHECK(targets.sizes().vec() == shape, "images to project must be ", torch::IntArrayRef(shape),
           " for this generator, got ", targets.sizes());
  const int64_t n = targets.size(0);
  GF_CHECK(!known.defined() || (known.dim() == targets.dim() && known.size(0) == n &&
                                (known.size(1) == 1 || known.size(1) == targets.size(1)) &&
                                known.sizes().slice(2) == targets.sizes().slice(2)),
           "the mask must be [", n, ", 1 or ", targets.size(1), ", ", targets.sizes().slice(2),
           "], got ", known.defined() ? known.sizes() : torch::IntArrayRef{});
  GF_CHECK(!labels.defined() || (labels.dim() == 1 && labels.size(0) == n),
           "one label per image to project");
  if (spec.is_conditional() && labels.defined() && n > 0) {
    GF_CHECK(labels.max().item<int64_t>() < spec.num_classes && labels.min().item<int64_t>() >= -1,
             "labels must be in [0, ", spec.num_classes, ") or -1 to search");
  }
  const torch::Device device = module_device(g);
  const auto full = known.defined() ? known.to(torch::kFloat32) : torch::ones_like(targets);
  const auto starts = seeded_latents(spec, options.seed, 0, options.restarts);
  const int64_t per_image =
      options.restarts *
      (spec.is_conditional() && (!labels.defined() || (labels < 0).any().item<bool>())
           ? spec.num_classes
           : 1);
  const int64_t chunk = std::max<int64_t>(1, options.batch / per_image);

  std::vector<Projection> best(static_cast<size_t>(n));
  for (auto& b : best) b.loss = std::numeric_limits<double>::infinity();
  FrozenParameters frozen(g);
  for (int64_t first = 0; first < n; first += chunk) {
    const Candidates c =
        candidates_for(spec, labels, first, std::min(chunk, n - first), options.restarts);
    Search search = start_search(c, targets, full, starts, device, spec);
    optimise(g, spec, options, search);
    const Candidates& k = search.kept;
    const auto& y = search.y;
    const auto& z = search.z;
    const auto& target = search.target;
    const auto& mask = search.mask;
    // Scored on the image generate_from_latents makes, which `sample --latent` reproduces.
    const auto zf = z.to(torch::kCPU);
    const auto yc = y.defined() ? y.to(torch::kCPU) : y;
    const auto out = generate_from_latents(g, spec, zf, yc).to(device);
    torch::NoGradGuard no_grad;
    const auto mse = masked_mse(out, target, mask).to(torch::kCPU, torch::kFloat64);
    const auto loss = mse + prior_term(spec, zf, options.prior).to(torch::kFloat64);
    for (size_t m = 0; m < k.image.size(); ++m) {
      Projection& b = best[static_cast<size_t>(k.image[m])];
      const double l = loss[static_cast<int64_t>(m)].item<double>();
      if (l < b.loss) {
        b = {zf[static_cast<int64_t>(m)].clone(), k.label[m], k.restart[m], l,
             mse[static_cast<int64_t>(m)].item<double>()};
      }
    }
  }
  return best;
}

nlohmann::json latents_to_json(const ModelSpec& spec, const std::vector<Projection>& projections) {
  nlohmann::json z = nlohmann::json::array(), labels = nlohmann::json::array(),
                 losses = nlohmann::json::array();
  for (const auto& p : projections) {
    const auto v = p.z.to(torch::kFloat32).contiguous();
    z.push_back(std::vector<float>(v.data_ptr<float>(), v.data_ptr<float>() + v.numel()));
    labels.push_back(p.label);
    losses.push_back(p.loss);
  }
  nlohmann::json j = {{"format", "ganforge-latents"}, {"version", 1}, {"z_dim", spec.z_dim},
                      {"latent", spec.latent},        {"z", z},       {"losses", losses}};
  if (spec.is_conditional()) j["labels"] = labels;
  return j;
}

LatentSet latents_from_json(const nlohmann::json& j, const ModelSpec& spec) {
  const nlohmann::json* rows = &j;
  if (j.is_object()) {
    GF_CHECK(j.contains("z"), "a latents object needs \"z\"");
    rows = &j.at("z");
  }
  GF_CHECK(rows->is_array() && !rows->empty(), "latents must be a non-empty list");
  nlohmann::json list = rows->at(0).is_array() ? *rows : nlohmann::json::array({*rows});
  GF_CHECK(list.size() <= 100000, "at most 100000 latents, got ", list.size());
  LatentSet set;
  set.z = torch::empty({static_cast<int64_t>(list.size()), spec.z_dim}, torch::kFloat32);
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& row = list[i];
    GF_CHECK(row.is_array() && static_cast<int64_t>(row.size()) == spec.z_dim, "latent ", i,
             " must be a list of ", spec.z_dim, " numbers (the model's z_dim)");
    for (size_t k = 0; k < row.size(); ++k) {
      GF_CHECK(row[k].is_number() &&
                   std::fabs(row[k].get<double>()) <= std::numeric_limits<float>::max(),
               "latent ", i, " holds a value that is not a finite float32 number");
      set.z[static_cast<int64_t>(i)][static_cast<int64_t>(k)] = row[k].get<float>();
    }
  }
  if (!spec.is_conditional()) return set;
  GF_CHECK(j.is_object() && j.contains("labels") && j.at("labels").is_array() &&
               j.at("labels").size() == list.size(),
           "a conditional model's latents need \"labels\", one per latent");
  std::vector<int64_t> labels;
  for (const auto& l : j.at("labels")) {
    GF_CHECK(l.is_number_integer() || l.is_string(), "labels must be class indices or names");
    labels.push_back(spec.class_index(l.is_string() ? l.get<std::string>() : l.dump(), "latents"));
  }
  set.labels = torch::tensor(labels, torch::kInt64);
  return set;
}

LatentSet read_latents(const std::string& path, const ModelSpec& spec) {
  const nlohmann::json j = read_json_file(path);
  try {
    return latents_from_json(j, spec);
  } catch (const Error& e) {
    throw Error(concat(path, ": ", e.what()));
  }
}

}  // namespace gf
