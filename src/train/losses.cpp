#include "train/losses.h"

#include "core/error.h"
#include "core/names.h"

namespace gf {
namespace {

// Goodfellow et al. 2014, eq. 1, the seed's losses, with D = sigmoid(logit):
//   L_D = -E[log D(x)] - E[log(1 - D(G(z)))] = E[softplus(-l_real)] + E[softplus(l_fake)]
//   non-saturating L_G = -E[log D(G(z))] = E[softplus(-l_fake)]        (Goodfellow et al., sec. 3)
//   minimax        L_G =  E[log(1 - D(G(z)))] = -E[softplus(l_fake)]
class BceLoss : public GanLoss {
 public:
  explicit BceLoss(bool minimax) : minimax_(minimax) {}
  torch::Tensor d_loss(const torch::Tensor& real, const torch::Tensor& fake) const override {
    return torch::softplus(-real).mean() + torch::softplus(fake).mean();
  }
  torch::Tensor g_loss(const torch::Tensor& fake) const override {
    return minimax_ ? -torch::softplus(fake).mean() : torch::softplus(-fake).mean();
  }

 private:
  bool minimax_;
};

}  // namespace

std::vector<std::string> loss_names() {
  return {"bce"};
}

void check_loss_name(const std::string& name) {
  check_name("train.loss", name, loss_names());
}

std::unique_ptr<GanLoss> make_loss(const std::string& name, const std::string& g_variant) {
  check_loss_name(name);
  GF_CHECK(g_variant == "nonsaturating" || g_variant == "minimax", "unknown train.g_loss '",
           g_variant, "'; valid: nonsaturating, minimax");
  return std::make_unique<BceLoss>(g_variant == "minimax");
}

}  // namespace gf
