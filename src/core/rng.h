// Seeding helpers. Every random stream in ganforge derives from the run seed through mix(), so
// streams are independent of each other and of batch sizes (one latent per seed and index, as
// StyleGAN2-ADA's generate.py does with seeds).
#pragma once

#include <cstdint>

namespace gf {

// SplitMix64 finaliser (Steele et al. 2014) over (a, b): a well-mixed 64-bit seed.
inline uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ULL + b + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Purposes of derived streams, so two uses of the run seed never share a stream.
enum class Stream : uint64_t {
  kInit = 1,
  kShuffle = 2,
  kTrain = 3,
  kSynthetic = 4,
  kFixedLatents = 5
};

inline uint64_t derive_seed(uint64_t seed, Stream stream) {
  return mix(seed, static_cast<uint64_t>(stream));
}

}  // namespace gf
