// The member form of a zip input, shared by the checkpoint and archive targets: a zip of stored
// members with CRC-32s mostly tests its CRC check under byte mutations, so an input may instead
// be its members, "@@ <name>\n<bytes>" one after the other (tests/fuzz/make_corpus.sh unpacks a
// real checkpoint so), which the harness packs into a zip with correct CRCs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../zip_writer.h"
#include "fuzz_util.h"

namespace gf::fuzz {

// "@@ name\n<data>" repeated; the data runs to the next "\n@@ " or the end.
inline std::vector<gf::test::ZipMember> split_members(const std::string& in) {
  std::vector<gf::test::ZipMember> out;
  size_t pos = 0;
  while (pos < in.size() && in.compare(pos, 3, "@@ ") == 0) {
    const size_t eol = in.find('\n', pos);
    if (eol == std::string::npos) break;
    gf::test::ZipMember m;
    m.name = in.substr(pos + 3, eol - pos - 3);
    const size_t next = in.find("\n@@ ", eol + 1);
    const size_t end = next == std::string::npos ? in.size() : next;
    m.data = in.substr(eol + 1, end - eol - 1);
    out.push_back(std::move(m));
    pos = next == std::string::npos ? in.size() : next + 1;
  }
  return out;
}

// Writes the input to `path`: packed into a zip when it is in the member form, as it is
// otherwise.
inline void write_zip_input(const std::string& path, const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  if (in.compare(0, 3, "@@ ") == 0) {
    const std::string zip = gf::test::make_zip(split_members(in));
    write_scratch(path, reinterpret_cast<const uint8_t*>(zip.data()), zip.size());
  } else {
    write_scratch(path, data, size);
  }
}

}  // namespace gf::fuzz
