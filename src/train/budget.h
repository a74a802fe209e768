// Wall-clock training budgets (`train.time_budget`, `ganforge train --time 10m`). A budgeted run
// plans its length from the step time it measures after a warm-up and re-plans after every step,
// so the schedules that are laid out over the run (learning-rate decay, instance-noise decay)
// end when the budget does. The time used is kept in checkpoints: a resumed run gets what is
// left. Sampling, checkpoints and evaluations during training count; the final evaluation and
// the report after the last step do not.
#pragma once

#include <cstdint>
#include <string>

namespace gf {

// "90s", "10m", "1.5h", "1h30m", "45" (seconds); "" and "0" mean no budget. gf::Error naming
// `where` for anything else (negative, unknown unit, over a year).
double parse_duration(const std::string& text, const std::string& where);
// 600 -> "10m", 5400 -> "1h30m", 42.5 -> "42.5s".
std::string format_budget(double seconds);

class TimeBudget {
 public:
  // `used_s` is what earlier invocations of the run spent (from the checkpoint); `start_step`
  // the step this invocation starts at.
  TimeBudget(double budget_s, double used_s, int64_t start_step, int64_t warmup_steps = 20);

  bool enabled() const { return budget_s_ > 0; }
  // The plan before this invocation's first step: `fallback_total` (the configured length) for a
  // new run; a resumed one estimates from the earlier invocations' mean step time.
  int64_t start_plan(int64_t fallback_total) const;
  // The planned total after `step` finished `elapsed_s` seconds into this invocation: the steps
  // the remaining time holds at the step time measured since the warm-up (before that,
  // `fallback_total`, at least one more step). The run stops when the plan equals `step`.
  int64_t plan(int64_t step, double elapsed_s, int64_t fallback_total);
  // Seconds of budget used in all, after `elapsed_s` seconds of this invocation.
  double used(double elapsed_s) const { return used_s_ + elapsed_s; }
  double budget() const { return budget_s_; }

 private:
  double budget_s_, used_s_;
  int64_t start_step_, warmup_steps_;
  int64_t warm_step_ = -1;  // the step at which the warm-up ended, and its time
  double warm_s_ = 0;
};

}  // namespace gf
