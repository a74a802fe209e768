#include "core/runtime.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <regex>

#include "core/error.h"

namespace gf {

std::string preferred_blas_coretype() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bf16")) return "Cooperlake";
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return "SkylakeX";
  if (__builtin_cpu_supports("avx2")) return "Haswell";
#endif
  return "";
}

void ensure_fast_blas(int /*argc*/, char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || std::getenv("GF_NO_REEXEC") != nullptr) return;
  const std::string core = preferred_blas_coretype();
  if (core.empty()) return;
  setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  setenv("GF_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc): carry on with the default kernel; only speed is affected.
  unsetenv("GF_NO_REEXEC");
}

void set_threads(int threads) {
  GF_CHECK(threads >= 0 && threads <= 1024, "threads must be between 0 and 1024, got ", threads);
  const int n = threads == 0 ? 1 : threads;
  at::set_num_threads(n);
  static bool interop_set = false;
  if (!interop_set) {
    at::set_num_interop_threads(n);
    interop_set = true;
  }
  // OpenBLAS keeps its own pool; size it too when the loaded BLAS is OpenBLAS.
  using SetFn = void (*)(int);
  if (auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
}

int current_threads() {
  return at::get_num_threads();
}

torch::Device parse_device(const std::string& name) {
  // LibTorch takes an index of at most 3 digits without leading zeros ("cuda:007" throws).
  static const std::regex pattern("cpu|cuda(:(0|[1-9][0-9]{0,2}))?");
  GF_CHECK(std::regex_match(name, pattern), "unknown device '", name,
           "'; valid: cpu, cuda, cuda:N");
  torch::Device device(name);
  if (device.is_cuda()) {
    GF_CHECK(torch::cuda::is_available(), "device '", name,
             "' requested but this LibTorch build or machine has no CUDA device");
    GF_CHECK(device.index() < static_cast<int>(torch::cuda::device_count()), "device '", name,
             "' does not exist; this machine has ", torch::cuda::device_count(), " CUDA device(s)");
  }
  return device;
}

void keep_freed_memory() {
  // 1 GiB: tensors larger than that are rare here and may go straight to mmap.
  if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 1 << 30);
  if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

void check_precision(const std::string& precision) {
  GF_CHECK(precision == "fp32" || precision == "bf16", "unknown precision '", precision,
           "'; valid: fp32, bf16");
}

// LibTorch 2 names the autocast switches by device type; 1.13 has one pair per device.
AutocastScope::AutocastScope(const std::string& precision, const torch::Device& device) {
  check_precision(precision);
  on_ = precision == "bf16";
  if (!on_) return;
  cuda_ = device.is_cuda();
#if TORCH_VERSION_MAJOR >= 2
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  was_enabled_ = at::autocast::is_autocast_enabled(type);
  was_dtype_ = at::autocast::get_autocast_dtype(type);
  at::autocast::set_autocast_enabled(type, true);
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
#else
  was_enabled_ = cuda_ ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
  was_dtype_ =
      cuda_ ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
  if (cuda_) {
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  } else {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
#endif
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!on_) return;
  // The bf16 copies of the weights are cached for the scope; a new step casts them afresh.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR >= 2
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, was_enabled_);
  at::autocast::set_autocast_dtype(type, was_dtype_);
#else
  if (cuda_) {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(was_dtype_);
  } else {
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(was_dtype_);
  }
#endif
}

}  // namespace gf
