#include <gtest/gtest.h>

#include <filesystem>

#include "core/json_config.h"
#include "test_util.h"
#include "train/budget.h"
#include "train/run.h"

namespace gf {
namespace {

TEST(Budget, ParsesDurations) {
  EXPECT_DOUBLE_EQ(parse_duration("", "t"), 0);
  EXPECT_DOUBLE_EQ(parse_duration("0", "t"), 0);
  EXPECT_DOUBLE_EQ(parse_duration("45", "t"), 45);
  EXPECT_DOUBLE_EQ(parse_duration("90s", "t"), 90);
  EXPECT_DOUBLE_EQ(parse_duration("10m", "t"), 600);
  EXPECT_DOUBLE_EQ(parse_duration("1.5h", "t"), 5400);
  EXPECT_DOUBLE_EQ(parse_duration("1h30m", "t"), 5400);
  EXPECT_DOUBLE_EQ(parse_duration("2m30s", "t"), 150);
  for (const char* bad : {"ten", "10x", "-5m", "1h30", "m", "10m-", "inf", "nan", "400d"}) {
    const std::string e = test::error_of([&] { parse_duration(bad, "train.time_budget"); });
    EXPECT_NE(e.find("train.time_budget"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_EQ(format_budget(600), "10m");
  EXPECT_EQ(format_budget(5400), "1h30m");
  EXPECT_EQ(format_budget(7200), "2h");
  EXPECT_EQ(format_budget(42.5), "42.5s");
  EXPECT_EQ(format_budget(90), "90s");
}

TEST(Budget, PlansFromTheStepTimeAfterTheWarmUp) {
  // 10 s budget; the warm-up's 5 steps take 1 s each, then 0.1 s per step.
  TimeBudget b(10, 0, 0, 5);
  double t = 0;
  for (int64_t step = 1; step < 5; ++step) {
    t += 1;
    EXPECT_EQ(b.plan(step, t, 1000), 1000) << "the configured length until the warm-up ends";
  }
  t += 1;  // step 5 ends the warm-up at 5 s: its mean (1 s/step) is the first estimate
  EXPECT_EQ(b.plan(5, t, 1000), 10);
  for (int64_t step = 6; step <= 20; ++step) t += 0.1;
  // 15 steps of 0.1 s after the warm-up: 3.5 s left hold 35 more steps.
  EXPECT_EQ(b.plan(20, t, 10), 55);
  EXPECT_EQ(b.plan(54, 10.0, 55), 54) << "no time left: stop at this step";
  EXPECT_DOUBLE_EQ(b.used(10), 10);
  // Time used by earlier invocations counts.
  TimeBudget resumed(10, 9.5, 100, 5);
  EXPECT_EQ(resumed.start_plan(1000), 105) << "0.5 s left at the earlier 0.095 s per step";
  EXPECT_EQ(TimeBudget(10, 10, 100).start_plan(1000), 100) << "spent: nothing to do";
  EXPECT_EQ(TimeBudget(10, 0, 0).start_plan(1000), 1000);
  EXPECT_EQ(resumed.plan(101, 0.6, 200), 101);
  TimeBudget off(0, 0, 0);
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.plan(3, 100, 7), 7);
}

nlohmann::json last_line(const std::string& run) {
  const auto lines = read_jsonl(run + "/metrics.jsonl");
  return lines.back();
}

TEST(Budget, ARunStopsOnTimeWithItsScheduleEnded) {
  test::TempDir tmp;
  TrainRequest r;
  r.overrides = {"data.dataset=ring",
                 "data.synthetic_n=2000",
                 "model.z_dim=4",
                 "model.g_hidden=[32]",
                 "model.d_hidden=[32]",
                 "model.g_out=linear",
                 "train.batch=64",
                 "train.steps=10",
                 "train.lr_decay_start=0.5",
                 "train.instance_noise=0",
                 "log.every=10",
                 "log.sample_every=100000",
                 "log.checkpoint_every=100000",
                 "log.grid=8"};
  r.out = tmp.file("run");
  r.threads = 1;
  r.time = "2s";
  const TrainResult first = run_training(r);
  // The budget replaces the configured 10 steps and ends the run near its end.
  EXPECT_GT(first.steps, 10);
  EXPECT_EQ(first.total_steps, first.steps);
  EXPECT_LT(first.seconds, 2.0 + 1.5) << "stopped late";
  const nlohmann::json line = last_line(r.out);
  EXPECT_EQ(line["step"].get<int64_t>(), first.steps);
  EXPECT_EQ(line["planned_steps"].get<int64_t>(), first.steps);
  EXPECT_GE(line["budget_used_s"].get<double>(), 1.5);
  // The learning rate decayed to (almost) zero at the last step: the schedule spans the budget.
  EXPECT_LT(line["lr_g"].get<double>(), 0.05 * 2e-4);

  // Resume with the budget spent: nothing more to do.
  TrainRequest again;
  again.resume = r.out;
  again.threads = 1;
  EXPECT_EQ(run_training(again).steps, 0);
  // A larger budget on resume continues for what is left of it.
  again.time = "4s";
  const TrainResult more = run_training(again);
  EXPECT_GT(more.steps, 0);
  EXPECT_LT(more.seconds, 2.0 + 1.5);
  EXPECT_GE(last_line(r.out)["budget_used_s"].get<double>(), 3.5);
}

}  // namespace
}  // namespace gf
