// Atomic file writes: data goes to a temporary file beside the target, is flushed to disk, then
// renamed over the target, so a crash leaves either the old file or the new one, never half.
#pragma once

#include <string>
#include <string_view>

namespace gf {

void write_file_atomic(const std::string& path, std::string_view bytes);
std::string read_file(const std::string& path);

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace gf
