#include "models/conditioning.h"

#include "core/error.h"

namespace gf {

void check_labels(const ModelSpec& spec, const torch::Tensor& labels, int64_t n) {
  if (!spec.is_conditional()) return;
  if (labels.defined() && labels.is_floating_point()) {
    GF_CHECK(labels.dim() == 2 && labels.size(0) == n && labels.size(1) == spec.num_classes,
             "class weights must be one row of ", spec.num_classes, " per sample");
    GF_CHECK(n == 0 || (labels.isfinite().all().item<bool>() && labels.min().item<double>() >= 0 &&
                        (labels.sum(1) - 1).abs().max().item<double>() < 1e-4),
             "class weights must be non-negative and sum to 1 per sample");
    return;
  }
  GF_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == n,
           "a conditional model needs one label per sample");
  GF_CHECK(n == 0 || (labels.min().item<int64_t>() >= 0 &&
                      labels.max().item<int64_t>() < spec.num_classes),
           "labels must be in [0, ", spec.num_classes, ")");
}

torch::Tensor embed_classes(torch::nn::Embedding& embed, const torch::Tensor& labels) {
  if (!labels.is_floating_point()) return embed->forward(labels);
  return labels.to(embed->weight.dtype()).matmul(embed->weight);
}

GeneratorInput::GeneratorInput(const ModelSpec& spec) : size_(spec.z_dim) {
  if (spec.is_conditional()) {
    embed_ = register_module("embed", torch::nn::Embedding(spec.num_classes, spec.embed_dim));
    size_ += spec.embed_dim;
  }
}

torch::Tensor GeneratorInput::forward(const torch::Tensor& z, const torch::Tensor& labels) {
  if (!embed_) return z;
  return torch::cat({z, embed_classes(embed_, labels)}, 1);
}

DiscriminatorHead::DiscriminatorHead(const ModelSpec& spec, int64_t features)
    : mode_(spec.conditional) {
  out_ = register_module("out", Dense(features, 1, spec.spectral_norm));
  if (mode_ == "acgan") {
    aux_ = register_module("aux", Dense(features, spec.num_classes, spec.spectral_norm));
  } else if (mode_ == "projection") {
    project_ = register_module("project", torch::nn::Embedding(spec.num_classes, features));
  }
}

DOutput DiscriminatorHead::forward(const torch::Tensor& h, const torch::Tensor& labels) {
  DOutput r;
  r.logits = out_->forward(h).view({h.size(0)});
  if (aux_) r.class_logits = aux_->forward(h);
  if (project_) r.logits = r.logits + (project_->forward(labels) * h).sum(1);
  return r;
}

DiscriminatorLabelInput::DiscriminatorLabelInput(const ModelSpec& spec) {
  if (spec.conditional == "cgan") {
    embed_ = register_module("embed", torch::nn::Embedding(spec.num_classes, spec.embed_dim));
    size_ = spec.embed_dim;
  }
}

torch::Tensor DiscriminatorLabelInput::forward(const torch::Tensor& x,
                                               const torch::Tensor& labels) {
  if (!embed_) return x;
  auto e = embed_->forward(labels);
  if (x.dim() == 4) e = e.view({x.size(0), -1, 1, 1}).expand({-1, -1, x.size(2), x.size(3)});
  return torch::cat({x, e}, 1);
}

}  // namespace gf
