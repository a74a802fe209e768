#include "train/optim.h"

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include "core/names.h"
#include "train/fused_optim.h"

namespace gf {

std::vector<std::string> optimizer_names() {
  return {"adam", "rmsprop", "sgd"};
}

void check_optimizer_name(const std::string& name) {
  check_name("train.optimizer", name, optimizer_names());
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& o,
                                                        std::vector<torch::Tensor> params,
                                                        double lr) {
  check_optimizer_name(o.optimizer);
  if (o.optimizer == "rmsprop") {
    return std::make_unique<FusedRmsprop>(
        std::move(params), torch::optim::RMSpropOptions(lr).alpha(o.alpha).momentum(o.momentum));
  }
  if (o.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(std::move(params),
                                               torch::optim::SGDOptions(lr).momentum(o.momentum));
  }
  return std::make_unique<FusedAdam>(std::move(params),
                                     torch::optim::AdamOptions(lr).betas({o.beta1, o.beta2}));
}

}  // namespace gf
