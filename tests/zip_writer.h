// A zip of stored members with correct CRC-32s, written the way LibTorch writes its archives
// (PKWARE APPNOTE 4.3: local headers, central directory, end record), for tests that need a zip
// with chosen members: the checkpoint fuzz target and the archive check's unit test.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gf::test {

struct ZipMember {
  std::string name, data;
};

inline void put16(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>((v >> 8) & 0xff));
}
inline void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

inline std::string make_zip(const std::vector<ZipMember>& members) {
  std::string zip, dir;
  for (const auto& m : members) {
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(m.data.data()), static_cast<uInt>(m.data.size())));
    const uint32_t offset = static_cast<uint32_t>(zip.size());
    const auto size = static_cast<uint32_t>(m.data.size());
    const auto name_len = static_cast<uint32_t>(m.name.size() & 0xffff);
    put32(zip, 0x04034b50);
    put16(zip, 20), put16(zip, 0), put16(zip, 0), put16(zip, 0), put16(zip, 0);
    put32(zip, crc), put32(zip, size), put32(zip, size);
    put16(zip, name_len), put16(zip, 0);
    zip.append(m.name, 0, name_len);
    zip += m.data;
    put32(dir, 0x02014b50);
    put16(dir, 20), put16(dir, 20), put16(dir, 0), put16(dir, 0), put16(dir, 0), put16(dir, 0);
    put32(dir, crc), put32(dir, size), put32(dir, size);
    put16(dir, name_len), put16(dir, 0), put16(dir, 0), put16(dir, 0), put16(dir, 0);
    put32(dir, 0), put32(dir, offset);
    dir.append(m.name, 0, name_len);
  }
  const auto dir_offset = static_cast<uint32_t>(zip.size());
  zip += dir;
  put32(zip, 0x06054b50);
  put16(zip, 0), put16(zip, 0);
  put16(zip, static_cast<uint32_t>(members.size())),
      put16(zip, static_cast<uint32_t>(members.size()));
  put32(zip, static_cast<uint32_t>(dir.size())), put32(zip, dir_offset);
  put16(zip, 0);
  return zip;
}

}  // namespace gf::test
