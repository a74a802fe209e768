// Layers for discriminators with optional spectral normalisation (Miyato et al. 2018): the
// weight is divided by its largest singular value, estimated by one power iteration per forward
// pass in training mode, as torch.nn.utils.spectral_norm does. The u and v vectors are buffers,
// so they are saved in checkpoints and resume exactly.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <functional>

namespace gf {

// Same seed, same image, whatever the batch: BLAS rounds a row of a matrix product differently
// depending on how many rows come with it and where the row sits (tail kernels, small-matrix
// paths; measured here with OpenBLAS's Haswell kernels for every batch size tried), which can
// flip a pixel. Applies the row-wise `fn` (fully connected layers) to x [N, F] one row at a time
// when autograd is off and x is on the CPU, so every row is computed by the same [1, F] product
// in any batch. Convolutions are computed per sample already. Training is unchanged.
torch::Tensor forward_rows_invariant(const torch::Tensor& x,
                                     const std::function<torch::Tensor(const torch::Tensor&)>& fn);

// W / sigma(W) for W viewed as [out, rest]; updates u and v in place when `update` is true.
torch::Tensor spectral_normalize(const torch::Tensor& weight, torch::Tensor& u, torch::Tensor& v,
                                 bool update);

// Minibatch standard deviation (Karras et al. 2018, ProGAN section 3; StyleGAN2's
// MinibatchStdLayer with one channel): the batch is split into groups of `group_size` (the
// largest size up to it that divides the batch; sample i is in group i mod N/size), and the mean
// over features of each feature's standard deviation within the group is appended as one more
// channel ([N, C, H, W] -> [N, C+1, H, W]) or feature ([N, F] -> [N, F+1]). It lets D see how
// varied a batch is, so a generator that drops modes is easier to tell apart.
torch::Tensor minibatch_stddev(const torch::Tensor& x, int64_t group_size);

class DenseImpl : public torch::nn::Module {
 public:
  // Initialised as torch.nn.Linear (Kaiming-uniform weight, uniform bias).
  DenseImpl(int64_t in, int64_t out, bool spectral_norm, bool bias = true);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor effective_weight();

 private:
  bool sn_;
  torch::Tensor weight_, bias_, u_, v_;
};
TORCH_MODULE(Dense);

class ConvImpl : public torch::nn::Module {
 public:
  // Initialised as torch.nn.Conv2d.
  ConvImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
           bool spectral_norm, bool bias = true);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  bool sn_;
  int64_t stride_, padding_;
  torch::Tensor weight_, bias_, u_, v_;
};
TORCH_MODULE(Conv);

// A label embedding table [classes, dim] with optional spectral normalisation, as mimicry's
// SNEmbedding (torch.nn.utils.spectral_norm on nn.Embedding): the projection discriminator's class
// vectors are a linear layer applied to one-hot labels, so SN-GAN normalises them like any other
// layer of D (Miyato & Koyama 2018).
class EmbedImpl : public torch::nn::Module {
 public:
  // Initialised as torch.nn.Embedding (standard normal).
  EmbedImpl(int64_t classes, int64_t dim, bool spectral_norm);
  torch::Tensor forward(const torch::Tensor& labels);

 private:
  bool sn_;
  torch::Tensor weight_, u_, v_;
};
TORCH_MODULE(Embed);

// Conditional batch norm (de Vries et al. 2017, as BigGAN's generator uses it, Brock et al. 2019,
// appendix B): batch norm without its own affine, then a per-sample gain 1 + gain(e) and bias
// bias(e), both linear in the class embedding e [N, embed_dim] (PyTorch's Linear initialisation).
class ClassBatchNormImpl : public torch::nn::Module {
 public:
  ClassBatchNormImpl(int64_t channels, int64_t embed_dim);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& e);

 private:
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::Linear gain_{nullptr}, bias_{nullptr};
};
TORCH_MODULE(ClassBatchNorm);

}  // namespace gf
