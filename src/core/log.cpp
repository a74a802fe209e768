#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
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
std::string& log_path() {
  static std::string p;
  return p;
}
std::string& write_error() {
  static std::string e;
  return e;
}

// Under log_mutex(): remembers the first failed write.
void note_failure(const std::string& file, int err) {
  if (write_error().empty())
    write_error() = concat("cannot write ", file, ": ", std::strerror(err));
}

// What standard error is (a file's path when it is redirected to one).
std::string stderr_name() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/fd/2", buf, sizeof buf - 1);
  return n > 0 && buf[0] == '/' ? concat("standard error (", std::string(buf, size_t(n)), ")")
                                : "standard error";
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
    log_path().clear();
    return;
  }
  auto f = std::make_unique<std::ofstream>(path, std::ios::app);
  GF_CHECK(f->good(), "cannot open log file ", path, " for writing");
  log_file() = std::move(f);
  log_path() = path;
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
  if (std::fprintf(stderr, "%s\n", line.c_str()) < 0) note_failure(stderr_name(), errno);
  if (log_file()) {
    *log_file() << timestamp() << ' ' << line << '\n';
    log_file()->flush();
    if (!log_file()->good()) {
      note_failure(log_path(), errno);
      log_file().reset();  // a torn line at most; nothing more is appended
    }
  }
}

std::string log_write_error() {
  std::lock_guard<std::mutex> lock(log_mutex());
  return write_error();
}

void progress_line(const std::string& line) {
  if (!stderr_is_terminal()) return;
  std::lock_guard<std::mutex> lock(log_mutex());
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  progress_pending() = true;
}

}  // namespace gf
