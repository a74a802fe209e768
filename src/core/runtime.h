// Process-wide runtime set-up: the BLAS kernel, thread counts and the device.
#pragma once

#include <torch/types.h>

#include <string>

namespace gf {

// OpenBLAS reads OPENBLAS_CORETYPE when the library loads, before main(); on CPUs its runtime
// detection does not recognise it falls back to slow generic kernels (DESIGN.md, "Performance
// facts"). Call first thing in main(): when the variable is unset, it picks the core type from the
// CPU's features and re-executes the program once with it set. A user's own setting is kept.
// Set GF_NO_REEXEC=1 to skip. Returns normally when nothing needs to change.
void ensure_fast_blas(int argc, char** argv);

// LibTorch's CPU tensors come from glibc malloc, which by default hands blocks above its mmap
// threshold back to the OS when freed and trims the heap top: every training step then faults
// its activations' pages in again (measured: ~1,400 minor page faults per step of the seed MLP,
// ~5,700 for the DCGAN, each page zeroed by the kernel). This keeps freed memory in the
// process for reuse instead. Call once at start-up; a user's MALLOC_MMAP_THRESHOLD_ /
// MALLOC_TRIM_THRESHOLD_ settings are kept.
void keep_freed_memory();

// The OpenBLAS core type ensure_fast_blas() chooses for this CPU ("" when it leaves the default).
std::string preferred_blas_coretype();

// Intra-op threads for ATen and OpenBLAS; 0 picks the default (1: measured fastest for the small
// models here, see BENCHMARKS.md). Inter-op threads are set once per process.
void set_threads(int threads);
int current_threads();

// "cpu", "cuda" or "cuda:N"; an unknown or unavailable device is a gf::Error.
torch::Device parse_device(const std::string& name);

// Training precision: "fp32", or "bf16" for mixed precision (autocast); else a gf::Error.
void check_precision(const std::string& precision);

// Mixed precision while alive (PyTorch autocast on `device`): with "bf16", matrix products and
// convolutions run in bfloat16 (AMX / AVX512-BF16 on the CPU, tensor cores on GPUs) on bf16
// copies of the fp32 weights; the ops autocast keeps in fp32 stay fp32, and the weights, their
// gradients and the optimizer state stay fp32. "fp32" does nothing. Run backward() after the
// scope ends, as PyTorch recommends.
class AutocastScope {
 public:
  AutocastScope(const std::string& precision, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kBFloat16;
};

}  // namespace gf
