// Logging: lines go to stderr and, once a run directory is open, to its log.txt as well.
#pragma once

#include <string>

#include "core/error.h"

namespace gf {

// Appends every later log line to `path` too (empty path: stop). Throws gf::Error if unwritable.
void log_to_file(const std::string& path);
void log_line(const std::string& line);
// Drops every later log line (progress lines too) until unmuted: ranks other than 0 of a
// data-parallel run stay silent. Errors are reported by the caller, not through the log.
void log_mute(bool muted);
// The first write of a log line that failed (standard error or the log file: a full disk, a file
// size limit, a closed pipe) as "cannot write FILE: why"; empty while every write succeeded.
// Long-running commands check it at safe points and stop with it (train before each step, serve
// on its watcher's tick), so a full disk never loses the log silently.
std::string log_write_error();
// A progress line that overwrites itself on a terminal (\r) and is silent otherwise.
void progress_line(const std::string& line);
bool stderr_is_terminal();

template <typename... Parts>
void log_info(Parts&&... parts) {
  log_line(concat(std::forward<Parts>(parts)...));
}

}  // namespace gf
