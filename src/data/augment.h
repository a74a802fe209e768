// Differentiable image augmentations, used on D's inputs (DiffAugment) and to train the evaluator.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace gf {

// DiffAugment (Zhao et al. 2020): differentiable augmentations applied to both real and fake
// inputs of D. Policies: "color" (random brightness, saturation and contrast, as DiffAugment's
// rand_brightness/rand_saturation/rand_contrast, in that order), "translation" (shift by up to
// 1/8 of the size, zero padding) and "cutout" (zero a random square of half the size),
// comma-separated and applied in the order given; "none" or "" for none.
std::vector<std::string> augment_policies();
void check_augment(const std::string& policy);
// `fill` is the value translation pads with (DiffAugment: 0; the evaluator uses the background).
torch::Tensor diff_augment(const torch::Tensor& x, const std::string& policy, at::Generator& gen,
                           double fill = 0.0);

}  // namespace gf
