#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>

namespace gf {
namespace {

std::mutex& log_mutex() {
  static std::mutex m;
  return m;
}
std::unique_ptr<std::ofstream>& log_file() {
  static std::unique_ptr<std::ofstream> f;
  return f;
}
std::atomic<bool>& muted() {
  static std::atomic<bool> m{false};
  return m;
}
bool& progress_pending() {
  static bool pending = false;
  return pending;
}

std::string timestamp() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

bool stderr_is_terminal() {
  static const bool tty = isatty(STDERR_FILENO) == 1;
  return tty;
}

void log_to_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(log_mutex());
  if (path.empty()) {
    log_file().reset();
    return;
  }
  auto f = std::make_unique<std::ofstream>(path, std::ios::app);
  GF_CHECK(f->good(), "cannot open log file ", path, " for writing");
  log_file() = std::move(f);
}

void log_mute(bool on) {
  muted() = on;
}

void log_line(const std::string& line) {
  if (muted()) return;
  std::lock_guard<std::mutex> lock(log_mutex());
  if (progress_pending()) {
    std::fputs("\r\033[K", stderr);
    progress_pending() = false;
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  if (log_file()) {
    *log_file() << timestamp() << ' ' << line << '\n';
    log_file()->flush();
  }
}

void progress_line(const std::string& line) {
  if (!stderr_is_terminal()) return;
  std::lock_guard<std::mutex> lock(log_mutex());
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  progress_pending() = true;
}

}  // namespace gf
