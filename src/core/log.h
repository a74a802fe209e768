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
// A progress line that overwrites itself on a terminal (\r) and is silent otherwise.
void progress_line(const std::string& line);
bool stderr_is_terminal();

template <typename... Parts>
void log_info(Parts&&... parts) {
  log_line(concat(std::forward<Parts>(parts)...));
}

}  // namespace gf
