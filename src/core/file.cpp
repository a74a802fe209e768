#include "core/file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/error.h"

namespace gf {
namespace {

// Writes all of `bytes` to `fd`; false (errno set) when the disk is full, the file size limit
// (`ulimit -f`, EFBIG) is reached, or any other write error.
bool write_all(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = ENOSPC;  // a regular file that takes nothing is full
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    GF_CHECK(!ec, "cannot create directory ", target.parent_path().string(), ": ", ec.message());
  }
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  GF_CHECK(fd >= 0, "cannot write ", path, ": ", std::strerror(errno));
  if (!write_all(fd, bytes)) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(concat("cannot write ", path, ": ", why));
  }
  // The data reaches the disk before the rename makes it the file (close reports late errors of
  // network file systems).
  const bool synced = ::fsync(fd) == 0;
  const int sync_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (!synced) errno = sync_errno;
  if (!synced || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(concat("cannot write ", path, ": ", why));
  }
}

void append_file(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  GF_CHECK(fd >= 0, "cannot write ", path, ": ", std::strerror(errno));
  struct stat st {};
  const off_t before = ::fstat(fd, &st) == 0 ? st.st_size : -1;
  if (!write_all(fd, bytes)) {
    const std::string why = std::strerror(errno);
    // Cutting a file shorter is allowed at any size limit and frees space on a full disk.
    const bool undone = before >= 0 && ::ftruncate(fd, before) == 0;
    ::close(fd);
    throw Error(concat("cannot write ", path, ": ", why,
                       undone ? "" : " (and the partial record could not be removed)"));
  }
  GF_CHECK(::close(fd) == 0, "cannot write ", path, ": ", std::strerror(errno));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GF_CHECK(in.good(), "cannot open ", path, ": ", std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  GF_CHECK(!in.bad(), "cannot read ", path);
  return out.str();
}

int remove_stale_temp_files(const std::string& dir) {
  namespace fs = std::filesystem;
  static const std::regex pattern(R"(.+\.tmp\.([0-9]{1,9}))");
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !std::regex_match(name, m, pattern)) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(m[1].str()));
    // Alive (or not ours to signal): its writer may still rename it into place.
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno == EPERM) continue;
    if (fs::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

std::string describe(const std::filesystem::filesystem_error& e) {
  std::string paths = e.path1().string();
  if (!e.path2().empty()) paths += " -> " + e.path2().string();
  return concat(paths.empty() ? "a path" : paths, ": ", e.code().message());
}

}  // namespace gf
