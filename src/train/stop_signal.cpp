#include "train/stop_signal.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <utility>

#include "core/error.h"
#include "train/distributed.h"

namespace gf {
namespace {

// Written by the handler, read by the training loop: lock-free atomics are async-signal-safe.
std::atomic<int> g_signal{0};
std::atomic<int64_t> g_first_ns{0};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<int64_t>::is_always_lock_free);

int64_t monotonic_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);  // async-signal-safe (POSIX.1-2008)
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

void on_signal(int sig) {
  const int64_t now = monotonic_ns();
  int expected = 0;
  if (g_signal.compare_exchange_strong(expected, sig)) {
    g_first_ns = now;
    static const char msg[] =
        "\nganforge: stopping after this step and writing a checkpoint (send the signal again to "
        "stop at once)\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    return;
  }
  if (now - g_first_ns.load() < static_cast<int64_t>(StopSignal::kGraceSeconds * 1e9)) return;
  static const char msg[] =
      "\nganforge: second signal: stopping at once, without a checkpoint (the last one written is "
      "intact)\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  // The signal's default action (terminate), delivered when this handler returns.
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

StopSignal::StopSignal() {
  g_signal = 0;
  g_first_ns = 0;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  // System calls of other threads (Gloo's sockets, file writes) restart rather than fail.
  action.sa_flags = SA_RESTART;
  for (auto [sig, old] : {std::pair{SIGINT, &old_int_}, std::pair{SIGTERM, &old_term_}}) {
    GF_CHECK(sigaction(sig, nullptr, old) == 0, "cannot read the handler of signal ", sig);
    if (old->sa_handler == SIG_IGN) continue;
    GF_CHECK(sigaction(sig, &action, nullptr) == 0, "cannot handle signal ", sig);
  }
}

StopSignal::~StopSignal() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool StopSignal::should_stop(Distributed* dist, int64_t step, const torch::Device& device) {
  return agree(dist, g_signal.load() != 0, step, device);
}

bool StopSignal::agree(Distributed* dist, bool local, int64_t step, const torch::Device& device) {
  if (!dist) return local;
  if (step % kAgreeEvery != 0) return false;
  // The mean of the ranks' flags is positive when any rank's is.
  auto flag = torch::full({1}, local ? 1.0f : 0.0f, torch::TensorOptions().device(device));
  dist->average({flag});
  return flag.item<float>() > 0;
}

std::string StopSignal::reason() const {
  switch (g_signal.load()) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal on another rank";
  }
}

}  // namespace gf
