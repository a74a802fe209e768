#include "train/losses.h"

#include "core/error.h"
#include "core/names.h"

namespace gf {
namespace {

// Goodfellow et al. 2014, eq. 1, the seed's losses, with D = sigmoid(logit):
//   L_D = -E[log D(x)] - E[log(1 - D(G(z)))] = E[softplus(-l_real)] + E[softplus(l_fake)]
//   non-saturating L_G = -E[log D(G(z))] = E[softplus(-l_fake)]        (Goodfellow et al., sec. 3)
//   minimax        L_G =  E[log(1 - D(G(z)))] = -E[softplus(l_fake)]
// One-sided label smoothing (Salimans et al. 2016, sec. 3.4): the real target is t = 1 - s,
// -t log D(x) - (1 - t) log(1 - D(x)) = t softplus(-l) + (1 - t) softplus(l).
class BceLoss : public GanLoss {
 public:
  BceLoss(bool minimax, double smoothing) : minimax_(minimax), target_(1.0 - smoothing) {}
  torch::Tensor d_loss(const torch::Tensor& real, const torch::Tensor& fake) const override {
    auto real_term = torch::softplus(-real) * target_;
    if (target_ < 1.0) real_term = real_term + torch::softplus(real) * (1.0 - target_);
    return real_term.mean() + torch::softplus(fake).mean();
  }
  torch::Tensor g_loss(const torch::Tensor& fake) const override {
    return minimax_ ? -torch::softplus(fake).mean() : torch::softplus(-fake).mean();
  }

 private:
  bool minimax_;
  double target_;
};

// LSGAN (Mao et al. 2017, eq. 9 with a=0, b=c=1): L_D = 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2],
// L_G = 1/2 E[(D(G(z)) - 1)^2]; the real target is 1 - s with one-sided smoothing.
class LsganLoss : public GanLoss {
 public:
  explicit LsganLoss(double smoothing) : target_(1.0 - smoothing) {}
  torch::Tensor d_loss(const torch::Tensor& real, const torch::Tensor& fake) const override {
    return 0.5 * (real - target_).pow(2).mean() + 0.5 * fake.pow(2).mean();
  }
  torch::Tensor g_loss(const torch::Tensor& fake) const override {
    return 0.5 * (fake - 1.0).pow(2).mean();
  }

 private:
  double target_;
};

// Wasserstein critic loss (Arjovsky et al. 2017, alg. 1): L_D = E[D(G(z))] - E[D(x)],
// L_G = -E[D(G(z))]. wgan adds weight clipping, wgan-gp the gradient penalty (both in Trainer).
class WassersteinLoss : public GanLoss {
 public:
  torch::Tensor d_loss(const torch::Tensor& real, const torch::Tensor& fake) const override {
    return fake.mean() - real.mean();
  }
  torch::Tensor g_loss(const torch::Tensor& fake) const override { return -fake.mean(); }
  bool probabilistic() const override { return false; }
};

// Hinge loss (Lim & Ye 2017; Miyato et al. 2018, eq. 16): L_D = E[relu(1 - D(x))] +
// E[relu(1 + D(G(z)))], L_G = -E[D(G(z))].
class HingeLoss : public GanLoss {
 public:
  torch::Tensor d_loss(const torch::Tensor& real, const torch::Tensor& fake) const override {
    return torch::relu(1.0 - real).mean() + torch::relu(1.0 + fake).mean();
  }
  torch::Tensor g_loss(const torch::Tensor& fake) const override { return -fake.mean(); }
  bool probabilistic() const override { return false; }
};

}  // namespace

std::vector<std::string> loss_names() {
  return {"bce", "lsgan", "wgan", "wgan-gp", "hinge"};
}

void check_loss_name(const std::string& name) {
  check_name("train.loss", name, loss_names());
}

std::unique_ptr<GanLoss> make_loss(const LossOptions& o) {
  check_loss_name(o.name);
  check_name("train.g_loss", o.g_variant, {"nonsaturating", "minimax"});
  GF_CHECK(o.label_smoothing >= 0 && o.label_smoothing < 0.5,
           "train.label_smoothing must be in [0, 0.5)");
  if (o.name == "lsgan") return std::make_unique<LsganLoss>(o.label_smoothing);
  if (o.name == "wgan" || o.name == "wgan-gp") return std::make_unique<WassersteinLoss>();
  if (o.name == "hinge") return std::make_unique<HingeLoss>();
  return std::make_unique<BceLoss>(o.g_variant == "minimax", o.label_smoothing);
}

}  // namespace gf
