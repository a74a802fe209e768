// The sampler train, sample, eval and serve share: one latent per (seed, image index), drawn
// from its own generator, so the same seed and index give the same image whatever the batch.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "models/registry.h"

namespace gf {

// Latents for images start..start+n-1 of `seed`: [n, z_dim] float32 on the CPU.
torch::Tensor seeded_latents(const ModelSpec& spec, uint64_t seed, int64_t start, int64_t n);

// The truncation trick: pulls latents toward the prior's mean (zero) by psi in (0, 1], as
// StyleGAN's psi pulls w toward its average (Karras et al. 2019, sec. 5.1); psi = 1 is no change.
// Lower psi trades variety for typical, cleaner images. Works on z in place and returns it.
torch::Tensor truncate_latents(torch::Tensor z, double psi);

// A latent walk: `steps` latents from image 0 of `seed_a` to image 0 of `seed_b` (both ends
// included), along the great circle for a normal prior (slerp, White 2016) and the straight line
// for a uniform one. [steps, z_dim] float32 on the CPU.
torch::Tensor walk_latents(const ModelSpec& spec, uint64_t seed_a, uint64_t seed_b, int64_t steps);
// The same walk between two given latents [z_dim] (projections of real images, say).
torch::Tensor walk_between(const ModelSpec& spec, const torch::Tensor& a, const torch::Tensor& b,
                           int64_t steps);
// Class weights [steps, num_classes] going linearly from class `from` to class `to` (both ends
// included): with walk_between or a fixed z, a 3 that turns into an 8 (check_labels' weights).
torch::Tensor class_blend(const ModelSpec& spec, int64_t from, int64_t to, int64_t steps);

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

// The same from given latents z [n, z_dim] (a projection's, a walk's): the images generate()
// makes for those latents, bit for bit. `labels`: int64 [n] or class weights [n, classes]
// (check_labels), required for conditional models.
torch::Tensor generate_from_latents(Generator& g, const ModelSpec& spec, const torch::Tensor& z,
                                    const torch::Tensor& labels, int64_t batch = 256);

}  // namespace gf
