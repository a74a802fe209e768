// SIGINT and SIGTERM during training: the first one asks the run to stop at the next step
// boundary, where it writes a checkpoint and exits 0, so Ctrl-C (or a scheduler's SIGTERM) loses
// no finished step. A second one, at least kGraceSeconds after the first, aborts at once (the
// default action of that signal): the last checkpoint written stays intact, since checkpoints
// are written atomically.
#pragma once

#include <signal.h>

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace gf {

class Distributed;

class StopSignal {
 public:
  // torchrun forwards the terminal's Ctrl-C to ranks that got it from the terminal already: two
  // signals this close together count as one.
  static constexpr double kGraceSeconds = 1.0;
  // Data-parallel runs compare their flags every this many steps (measured: docs/reliability.md).
  static constexpr int64_t kAgreeEvery = 1;

  // Installs the handlers; the destructor restores the ones before (the CLI's default: die). A
  // signal that is ignored when training starts (nohup, a script's background job for SIGINT)
  // stays ignored.
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // Whether to stop before step `step` + 1. With `dist`, every rank must stop at the same step
  // (a rank that left would leave the others waiting in the next step's all-reduce), but
  // torchrun's signals reach the ranks at different moments: the ranks all-reduce their flags
  // at the steps that are multiples of kAgreeEvery and stop together when any rank saw one.
  bool should_stop(Distributed* dist, int64_t step, const torch::Device& device);
  // The agreement itself: true on every rank when `local` is true on any (without `dist`:
  // `local`). Every rank must call it at the same steps.
  static bool agree(Distributed* dist, bool local, int64_t step, const torch::Device& device);
  // "SIGINT", "SIGTERM", or "a signal on another rank".
  std::string reason() const;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace gf
