// Classic geometric augmentation for training classifiers: small random shifts and rotations of
// each image, the baseline that GAN data augmentation has to beat (Antoniou et al. 2017 compare
// against it; Simard et al. 2003 used such distortions on MNIST). Unlike DiffAugment (augment.h)
// it is not applied to a GAN's discriminator but to a classifier's training batches.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace gf {

struct ClassicAugment {
  bool shift = false;   // integer shifts in x and y, each uniform in [-max_shift, max_shift]
  bool rotate = false;  // rotation by an angle uniform in [-max_degrees, max_degrees]
  int64_t max_shift = 2;
  double max_degrees = 10.0;

  bool any() const { return shift || rotate; }
};

// "shift", "rotate", "shift,rotate" (any order); "" or "none" for no augmentation. gf::Error
// listing the valid names otherwise.
std::vector<std::string> classic_augment_names();
ClassicAugment parse_classic_augment(const std::string& policy);

// Images [N, C, H, W] rotated by `degrees` [N] about their centre and then moved by (dx, dy) [N]
// pixels (positive: right and down), with bilinear sampling; pixels that come from outside copy
// the nearest edge pixel (grid_sample's border padding: MNIST's black surround stays black). The
// geometry is torchvision's F.affine(angle, translate) (v0.14), checked against it in the tests.
torch::Tensor shift_rotate(const torch::Tensor& x, const torch::Tensor& dx, const torch::Tensor& dy,
                           const torch::Tensor& degrees);

// Draws one shift and one angle per image from `gen` (CPU) and applies them: the same generator
// state gives the same images. Returns `x` itself when `a` asks for nothing.
torch::Tensor classic_augment(const torch::Tensor& x, const ClassicAugment& a, at::Generator& gen);

}  // namespace gf
