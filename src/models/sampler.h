// The sampler train, sample, eval and serve share: one latent per (seed, image index), drawn
// from its own generator, so the same seed and index give the same image whatever the batch.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "models/registry.h"

namespace gf {

// Latents for images start..start+n-1 of `seed`: [n, z_dim] float32 on the CPU.
torch::Tensor seeded_latents(const ModelSpec& spec, uint64_t seed, int64_t start, int64_t n);

// Draws a batch of latents from `gen` (training), on `device`.
torch::Tensor random_latents(const ModelSpec& spec, int64_t n, at::Generator& gen,
                             torch::Device device);

// The labels images start..start+n-1 get when none are asked for: (start + i) mod classes, so a
// grid with `num_classes` columns shows one class per column. Undefined for unconditional models.
torch::Tensor default_labels(const ModelSpec& spec, int64_t start, int64_t n);

// Generates images start..start+n-1 of `seed` in chunks of at most `batch`, in eval mode with
// no autograd; returns [n, out_shape...] float32 on the CPU. `labels` ([n] int64) picks classes
// for conditional models (default_labels() when undefined).
torch::Tensor generate(Generator& g, const ModelSpec& spec, uint64_t seed, int64_t n,
                       int64_t batch = 256, int64_t start = 0, torch::Tensor labels = {});

}  // namespace gf
