// Crash, signal and disk-full safety at the C++ level: all-or-nothing appends, temporary files of
// killed writers, the run directory that appears only complete, and the stop signal (with its
// agreement across data-parallel ranks). tests/integration/test_crash.sh drives the same
// through the CLI with real kills, signals and full disks.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "core/file.h"
#include "test_util.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/run_dir.h"
#include "train/stop_signal.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

// A file size limit of `bytes` for this process while in scope: writes past it fail with EFBIG
// (SIGXFSZ ignored), as under `ulimit -f`.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    handler_ = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old_;
    small.rlim_cur = bytes;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, handler_);
  }

 private:
  struct rlimit old_ {};
  void (*handler_)(int) = nullptr;
};

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(CrashSafety, AppendIsAllOrNothing) {
  test::TempDir dir;
  const std::string path = dir.file("metrics.jsonl");
  append_file(path, "{\"step\":1}\n");
  append_file(path, "{\"step\":2}\n");
  const std::string before = read_file(path);
  EXPECT_EQ(before, "{\"step\":1}\n{\"step\":2}\n");
  std::string msg;
  {
    // Room for half of the next line: the write stops half-way with EFBIG and must be undone.
    FileSizeLimit limit(before.size() + 8);
    msg = test::error_of([&] { append_file(path, std::string(64, 'x') + "\n"); });
  }
  EXPECT_NE(msg.find("cannot write " + path + ": File too large"), std::string::npos) << msg;
  EXPECT_EQ(read_file(path), before);   // no torn line
  append_file(path, "{\"step\":3}\n");  // space is back
  EXPECT_EQ(read_file(path), before + "{\"step\":3}\n");
}

TEST(CrashSafety, FailedAtomicWriteLeavesNoTemporaryFile) {
  test::TempDir dir;
  const std::string path = dir.file("samples.png");
  write_file_atomic(path, "old");
  std::string msg;
  {
    FileSizeLimit limit(100);
    msg = test::error_of([&] { write_file_atomic(path, std::string(1000, 'x')); });
  }
  EXPECT_NE(msg.find("cannot write " + path + ": File too large"), std::string::npos) << msg;
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"samples.png"});
}

TEST(CrashSafety, StaleTemporaryFilesOfDeadWritersAreRemoved) {
  test::TempDir dir;
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  waitpid(child, nullptr, 0);  // a writer that is gone
  const std::string dead = "step_000010.ckpt.tmp." + std::to_string(child);
  const std::string alive = "step_000020.ckpt.tmp." + std::to_string(getpid());
  for (const auto& name : {dead, alive, std::string("notes.tmp.x"), std::string("a.ckpt")}) {
    write_file_atomic(dir.file(name), "x");
  }
  EXPECT_EQ(remove_stale_temp_files(dir.path().string()), 1);
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"a.ckpt", "notes.tmp.x", alive}));
}

TEST(CrashSafety, NewRunDirectoryAppearsOnlyWhenCommitted) {
  test::TempDir dir;
  const std::string run = dir.file("run");
  RunConfig config;
  {
    RunDirectory d(run, config, /*resume=*/false, /*overwrite=*/false);
    EXPECT_FALSE(fs::exists(run));
    EXPECT_TRUE(fs::exists(d.path("config.json")));
    EXPECT_EQ(d.checkpoint_path(0), run + ".partial/checkpoints/step_000000.ckpt");
    write_file_atomic(d.checkpoint_path(0), "ckpt");
    d.commit();
    EXPECT_FALSE(fs::exists(run + ".partial"));
    EXPECT_EQ(read_file(run + "/checkpoints/step_000000.ckpt"), "ckpt");
    EXPECT_EQ(d.checkpoint_path(5), run + "/checkpoints/step_000005.ckpt");
  }
  // A start that fails before commit() leaves the old run as it was and no staging directory.
  {
    RunDirectory d(run, config, /*resume=*/false, /*overwrite=*/true);
    EXPECT_TRUE(fs::exists(run + "/checkpoints/step_000000.ckpt"));
  }
  EXPECT_TRUE(fs::exists(run + "/checkpoints/step_000000.ckpt"));
  EXPECT_FALSE(fs::exists(run + ".partial"));
  // Without --overwrite an existing run is refused; a trailing slash names the same directory.
  EXPECT_NE(test::error_of([&] {
              RunDirectory d(run + "/", config, false, false);
            }).find("already exists"),
            std::string::npos);
  {
    RunDirectory d(run + "/", config, /*resume=*/false, /*overwrite=*/true);
    EXPECT_TRUE(fs::exists(run + ".partial/config.json"));
    d.commit();
  }
  EXPECT_FALSE(fs::exists(run + "/checkpoints/step_000000.ckpt"));  // replaced at commit()
  EXPECT_TRUE(fs::exists(run + "/config.json"));
}

TEST(CrashSafety, ResumeDropsTornMetricsAndStaleTemporaryFiles) {
  test::TempDir dir;
  const std::string run = dir.file("run");
  RunConfig config;
  {
    RunDirectory d(run, config, false, false);
    d.commit();
    d.append_metrics({{"step", 5}});
    d.append_metrics({{"step", 10}});
    d.append_metrics({{"step", 15}});
  }
  // A line cut by a crash, and a checkpoint whose writer was killed.
  std::string text = read_file(run + "/metrics.jsonl") + "{\"step\": 2";
  write_file_atomic(run + "/metrics.jsonl", text);
  write_file_atomic(run + "/checkpoints/step_000020.ckpt.tmp.999999999", "half");
  RunDirectory d(run, config, /*resume=*/true, false);
  d.truncate_metrics(10);
  EXPECT_EQ(read_file(run + "/metrics.jsonl"), "{\"step\":5}\n{\"step\":10}\n");
  EXPECT_TRUE(fs::is_empty(run + "/checkpoints"));
}

// SIGINT and SIGTERM with their default action while in scope (a test runner started in the
// background of a script has SIGINT ignored).
class DefaultSignals {
 public:
  DefaultSignals() : int_(std::signal(SIGINT, SIG_DFL)), term_(std::signal(SIGTERM, SIG_DFL)) {}
  ~DefaultSignals() {
    std::signal(SIGINT, int_);
    std::signal(SIGTERM, term_);
  }

 private:
  void (*int_)(int);
  void (*term_)(int);
};

TEST(CrashSafety, FirstSignalAsksToStopAndIsNotFatal) {
  const DefaultSignals defaults;
  const torch::Device cpu(torch::kCPU);
  {
    StopSignal stop;
    EXPECT_FALSE(stop.should_stop(nullptr, 0, cpu));
    std::raise(SIGTERM);
    EXPECT_TRUE(stop.should_stop(nullptr, 1, cpu));
    EXPECT_EQ(stop.reason(), "SIGTERM");
    std::raise(SIGINT);  // within the grace period: the same request (torchrun's forwarded copy)
    EXPECT_EQ(stop.reason(), "SIGTERM");
  }
  // The handlers before are back (the default: terminate).
  struct sigaction now {};
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  // A new run starts without a pending request.
  StopSignal again;
  EXPECT_FALSE(again.should_stop(nullptr, 0, cpu));
}

TEST(CrashSafety, IgnoredSignalStaysIgnored) {
  const DefaultSignals defaults;
  const auto before = std::signal(SIGINT, SIG_IGN);  // as nohup or a background job has it
  {
    StopSignal stop;
    std::raise(SIGINT);
    EXPECT_FALSE(stop.should_stop(nullptr, 0, torch::kCPU));
  }
  EXPECT_EQ(std::signal(SIGINT, before), SIG_IGN);
}

TEST(CrashSafetyDeathTest, SecondSignalStopsAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const DefaultSignals defaults;
        StopSignal stop;
        std::raise(SIGINT);
        std::this_thread::sleep_for(std::chrono::duration<double>(StopSignal::kGraceSeconds + 0.2));
        std::raise(SIGINT);
        std::_Exit(0);  // not reached
      },
      testing::KilledBySignal(SIGINT), "second signal: stopping at once");
}

TEST(CrashSafety, RanksAgreeToStopAtTheSameStep) {
#ifndef GF_WITH_C10D
  GTEST_SKIP() << "built without c10d (no Gloo headers)";
#else
  // Rank 1 alone sees the signal (before step 7); both ranks must stop there. The mean time of
  // one agreement is the cost added to every step of a data-parallel run.
  const int port = test::free_port();
  const int64_t steps = 200, signal_at = 7;
  int64_t stopped[2] = {-1, -1};
  double seconds[2] = {0, 0};
  std::string errors[2];
  std::vector<std::thread> ranks;
  for (int r = 0; r < 2; ++r) {
    ranks.emplace_back([&, r] {
      try {
        DistributedEnv env;
        env.rank = r;
        env.world_size = 2;
        env.master_port = port;
        Distributed dist(env, std::chrono::seconds(60), torch::kCPU);
        const auto start = std::chrono::steady_clock::now();
        for (int64_t step = 0; step < steps; ++step) {
          const bool local = r == 1 && step >= signal_at;
          if (StopSignal::agree(&dist, local, step, torch::kCPU) && stopped[r] < 0) {
            stopped[r] = step;
          }
        }
        seconds[r] =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  }
  for (auto& t : ranks) t.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  const int64_t expected =
      (signal_at + StopSignal::kAgreeEvery - 1) / StopSignal::kAgreeEvery * StopSignal::kAgreeEvery;
  EXPECT_EQ(stopped[0], expected);
  EXPECT_EQ(stopped[1], expected);
  std::printf("[ stop signal ] 2 ranks (Gloo, loopback): %.1f us per agreement\n",
              1e6 * std::max(seconds[0], seconds[1]) / static_cast<double>(steps));
#endif
}

}  // namespace
}  // namespace gf
