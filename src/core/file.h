// Atomic file writes: data goes to a temporary file beside the target, is flushed to disk, then
// renamed over the target, so a crash leaves either the old file or the new one, never half.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace gf {

// Every failure (disk full, EFBIG under `ulimit -f`, no permission) is a gf::Error that names
// `path` and says why; the old file, if any, is untouched and no temporary file stays behind.
void write_file_atomic(const std::string& path, std::string_view bytes);
// Appends `bytes` (one record, e.g. a JSON line) to `path`, creating it: all or nothing. A write
// that fails half-way is undone (the file is cut back to its old length) before the gf::Error
// naming `path` is thrown, so a full disk never leaves a torn record.
void append_file(const std::string& path, std::string_view bytes);
std::string read_file(const std::string& path);

// "PATH: REASON" for a filesystem error on a path the user gave (a symbolic link loop, a name too
// long, a file where a folder must be): a user error, not an internal one.
std::string describe(const std::filesystem::filesystem_error& e);

// Deletes the temporary files write_file_atomic leaves in `dir` (not below it) when its process
// is killed mid-write (NAME.tmp.PID), unless process PID is still running. Returns how many.
int remove_stale_temp_files(const std::string& dir);

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace gf
