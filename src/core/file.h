// Atomic file writes: data goes to a temporary file beside the target, is flushed to disk, then
// renamed over the target, so a crash leaves either the old file or the new one, never half.
#pragma once

#include <string>
#include <string_view>

namespace gf {

void write_file_atomic(const std::string& path, std::string_view bytes);
std::string read_file(const std::string& path);

}  // namespace gf
