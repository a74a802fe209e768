// Optimizers by name (Adam, RMSprop, SGD), with separate learning rates for G and D (TTUR).
#pragma once

#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "train/config.h"

namespace gf {

std::vector<std::string> optimizer_names();
void check_optimizer_name(const std::string& name);
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& options,
                                                        std::vector<torch::Tensor> params,
                                                        double lr);

}  // namespace gf
