#include "train/budget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace gf {

double parse_duration(const std::string& text, const std::string& where) {
  auto bad = [&]() {
    return Error(
        concat(where, ": '", text, "' is not a duration (like 90s, 10m, 1.5h, 1h30m, or seconds)"));
  };
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    const char* begin = text.c_str() + i;
    char* end = nullptr;
    const double v = std::strtod(begin, &end);
    if (end == begin || !std::isfinite(v) || v < 0 || *begin == '+' || *begin == '-') throw bad();
    i += static_cast<size_t>(end - begin);
    double unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          throw bad();
      }
      ++i;
    } else if (any) {
      throw bad();  // "1h30": a unit is needed after the first part
    }
    total += v * unit;
    any = true;
  }
  GF_CHECK(total <= 366.0 * 86400, where, ": '", text, "' is longer than a year");
  return total;
}

std::string format_budget(double seconds) {
  char buf[64];
  const long s = std::lround(seconds);
  if (std::fabs(seconds - static_cast<double>(s)) > 1e-9 || s < 60) {
    std::snprintf(buf, sizeof buf, "%gs", seconds);
  } else if (s % 3600 == 0) {
    std::snprintf(buf, sizeof buf, "%ldh", s / 3600);
  } else if (s >= 3600 && s % 60 == 0) {
    std::snprintf(buf, sizeof buf, "%ldh%ldm", s / 3600, (s / 60) % 60);
  } else if (s % 60 == 0) {
    std::snprintf(buf, sizeof buf, "%ldm", s / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", s);
  }
  return buf;
}

TimeBudget::TimeBudget(double budget_s, double used_s, int64_t start_step, int64_t warmup_steps)
    : budget_s_(budget_s),
      used_s_(used_s),
      start_step_(start_step),
      warmup_steps_(std::max<int64_t>(1, warmup_steps)) {}

int64_t TimeBudget::start_plan(int64_t fallback_total) const {
  if (!enabled()) return fallback_total;
  const double remaining = budget_s_ - used_s_;
  if (remaining <= 0) return start_step_;
  if (used_s_ > 0 && start_step_ > 0) {
    const double per_step = used_s_ / static_cast<double>(start_step_);
    return start_step_ + static_cast<int64_t>(remaining / per_step);
  }
  return std::max(fallback_total, start_step_ + 1);
}

int64_t TimeBudget::plan(int64_t step, double elapsed_s, int64_t fallback_total) {
  if (!enabled()) return fallback_total;
  const double remaining = budget_s_ - used(elapsed_s);
  if (remaining <= 0) return step;
  if (warm_step_ < 0) {
    if (step - start_step_ < warmup_steps_) return std::max(fallback_total, step + 1);
    warm_step_ = step;
    warm_s_ = elapsed_s;
    // The warm-up's own steps (allocations, first-touch pages) are slower: measure from here,
    // with the warm-up's mean as the first estimate.
    const double per_step = elapsed_s / static_cast<double>(step - start_step_);
    return step + static_cast<int64_t>(remaining / std::max(per_step, 1e-9));
  }
  if (step == warm_step_) return std::max(fallback_total, step);
  const double per_step = (elapsed_s - warm_s_) / static_cast<double>(step - warm_step_);
  return step + static_cast<int64_t>(remaining / std::max(per_step, 1e-9));
}

}  // namespace gf
