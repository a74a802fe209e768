#include "io/torch_archive.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <string_view>

#include "core/error.h"
#include "io/pickle_check.h"

namespace gf {
namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50, kZip64Locator = 0x07064b50,
                   kZip64EndOfDirectory = 0x06064b50, kDirectoryEntry = 0x02014b50,
                   kLocalHeader = 0x04034b50;
constexpr uint64_t kMaxEntries = 1'000'000, kMaxDirectoryBytes = 64 << 20, kMaxCodeBytes = 1 << 20,
                   kMaxPickleBytes = 64 << 20, kMaxDeflateRatio = 1032;

struct Bad {
  std::string why;
};

uint64_t le(std::string_view b, size_t at, int bytes) {
  if (at + static_cast<size_t>(bytes) > b.size()) throw Bad{"truncated zip record"};
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

class File {
 public:
  explicit File(const std::string& path) : in_(path, std::ios::binary) {
    if (!in_) throw Bad{"cannot open the file"};
    in_.seekg(0, std::ios::end);
    size_ = static_cast<uint64_t>(in_.tellg());
  }
  uint64_t size() const { return size_; }
  std::string read(uint64_t at, uint64_t n) {
    if (at > size_ || n > size_ - at) throw Bad{"a zip record points past the end of the file"};
    std::string b(n, '\0');
    in_.seekg(static_cast<std::streamoff>(at));
    in_.read(b.data(), static_cast<std::streamsize>(n));
    if (!in_) throw Bad{"read error"};
    return b;
  }

 private:
  std::ifstream in_;
  uint64_t size_ = 0;
};

struct Directory {
  uint64_t offset = 0, size = 0, entries = 0;
};

Directory find_directory(File& f) {
  const uint64_t tail_n = std::min<uint64_t>(f.size(), 22 + 65535);
  const std::string tail = f.read(f.size() - tail_n, tail_n);
  if (tail.size() < 22) throw Bad{"too short for a zip"};
  size_t at = tail.size() - 22;
  while (le(tail, at, 4) != kEndOfDirectory) {
    if (at == 0) throw Bad{"no zip end-of-directory record"};
    --at;
  }
  Directory d{le(tail, at + 16, 4), le(tail, at + 12, 4), le(tail, at + 10, 2)};
  if (d.entries == 0xFFFF || d.offset == 0xFFFFFFFF || d.size == 0xFFFFFFFF) {
    if (at < 20 || le(tail, at - 20, 4) != kZip64Locator) throw Bad{"no zip64 locator"};
    const std::string rec = f.read(le(tail, at - 12, 8), 56);
    if (le(rec, 0, 4) != kZip64EndOfDirectory) throw Bad{"no zip64 end-of-directory record"};
    d = Directory{le(rec, 48, 8), le(rec, 40, 8), le(rec, 32, 8)};
  }
  if (d.entries > kMaxEntries || d.size > kMaxDirectoryBytes) throw Bad{"absurd zip directory"};
  return d;
}

std::string inflate_raw(const std::string& in, uint64_t out_size) {
  std::string out(out_size, '\0');
  z_stream s{};
  if (inflateInit2(&s, -MAX_WBITS) != Z_OK) throw Bad{"zlib failed"};
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&s, Z_FINISH);
  const uint64_t produced = s.total_out;
  inflateEnd(&s);
  if (rc != Z_STREAM_END || produced != out_size) throw Bad{"a compressed member is damaged"};
  return out;
}

// TYPE := NAME ('.' NAME)* ('[' TYPE (', ' TYPE)* ']')?
bool parse_type(std::string_view s, size_t& at, int depth) {
  auto name = [&] {
    const size_t start = at;
    while (at < s.size() && (std::isalnum(static_cast<unsigned char>(s[at])) || s[at] == '_')) {
      ++at;
    }
    return at > start && !std::isdigit(static_cast<unsigned char>(s[start]));
  };
  if (depth > 8 || !name()) return false;
  while (at < s.size() && s[at] == '.') {
    ++at;
    if (!name()) return false;
  }
  if (at < s.size() && s[at] == '[') {
    ++at;
    if (!parse_type(s, at, depth + 1)) return false;
    while (s.substr(at, 2) == ", ") {
      at += 2;
      if (!parse_type(s, at, depth + 1)) return false;
    }
    if (at >= s.size() || s[at] != ']') return false;
    ++at;
  }
  return true;
}

bool is_type(std::string_view s) {
  size_t at = 0;
  return parse_type(s, at, 0) && at == s.size();
}

// "name" with no quote, backslash or control character inside.
bool parse_quoted(std::string_view s, size_t& at) {
  if (at >= s.size() || s[at] != '"') return false;
  for (++at; at < s.size() && s[at] != '"'; ++at) {
    if (s[at] == '\\' || static_cast<unsigned char>(s[at]) < 0x20) return false;
  }
  if (at >= s.size()) return false;
  ++at;
  return true;
}

bool is_declaration(std::string_view line) {
  if (line.empty()) return true;
  if (line.substr(0, 6) == "class ") {  // class NAME(BASE):
    const size_t open = line.find('(');
    return open != std::string_view::npos && line.size() >= open + 3 &&
           line.substr(line.size() - 2) == "):" && is_type(line.substr(6, open - 6)) &&
           is_type(line.substr(open + 1, line.size() - 3 - open));
  }
  if (line.substr(0, 2) != "  ") return false;
  line.remove_prefix(2);
  for (std::string_view list : {"__parameters__ = [", "__buffers__ = [", "__annotations__ = ["}) {
    if (line.substr(0, list.size()) != list) continue;
    size_t at = list.size();
    while (at < line.size() && line[at] == '"') {
      if (!parse_quoted(line, at) || line.substr(at, 2) != ", ") return false;
      at += 2;
    }
    return line.substr(at) == "]";
  }
  constexpr std::string_view annotation = "__annotations__[";
  if (line.substr(0, annotation.size()) == annotation) {
    size_t at = annotation.size();
    return parse_quoted(line, at) && line.substr(at, 4) == "] = " && is_type(line.substr(at + 4));
  }
  const size_t colon = line.find(" : ");
  return colon != std::string_view::npos && is_type(line.substr(0, colon)) &&
         is_type(line.substr(colon + 3));
}

void check_code(const std::string& name, std::string_view text) {
  size_t start = 0, number = 1;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (!is_declaration(text.substr(start, end - start))) {
      throw Bad{
          concat("member ", name, " line ", number, " is not a class declaration ganforge writes")};
    }
    start = end + 1;
    ++number;
  }
}

bool ends_with(std::string_view s, std::string_view end) {
  return s.size() >= end.size() && s.substr(s.size() - end.size()) == end;
}

bool is_code_member(std::string_view name) {
  return name.find("/code/") != std::string_view::npos && ends_with(name, ".py");
}

void check(File& f) {
  const Directory dir = find_directory(f);
  const std::string cd = f.read(dir.offset, dir.size);
  size_t at = 0;
  for (uint64_t i = 0; i < dir.entries; ++i) {
    if (le(cd, at, 4) != kDirectoryEntry) throw Bad{"damaged zip directory"};
    const uint64_t method = le(cd, at + 10, 2), crc = le(cd, at + 16, 4);
    uint64_t packed = le(cd, at + 20, 4), size = le(cd, at + 24, 4), local = le(cd, at + 42, 4);
    const size_t name_n = le(cd, at + 28, 2), extra_n = le(cd, at + 30, 2),
                 comment_n = le(cd, at + 32, 2);
    if (at + 46 + name_n + extra_n > cd.size()) throw Bad{"damaged zip directory"};
    const std::string name = cd.substr(at + 46, name_n);
    // Zip64 sizes and offset, in this order, for the fields that are 0xFFFFFFFF.
    for (size_t e = at + 46 + name_n; e + 4 <= at + 46 + name_n + extra_n;) {
      const uint64_t id = le(cd, e, 2), n = le(cd, e + 2, 2);
      if (id == 1) {
        size_t v = e + 4;
        for (uint64_t* field : {&size, &packed, &local}) {
          if (*field == 0xFFFFFFFF) {
            *field = le(cd, v, 8);
            v += 8;
          }
        }
      }
      e += 4 + n;
    }
    at += 46 + name_n + extra_n + comment_n;
    // Every member's stated size must fit the file: LibTorch allocates a tensor record's size
    // before reading it.
    const bool code = is_code_member(name), pickle = ends_with(name, ".pkl");
    if (packed > f.size()) throw Bad{"member " + name + " runs past the end of the file"};
    if (method == 0 ? size != packed : size > packed * kMaxDeflateRatio + 1024) {
      throw Bad{"member " + name + " states a size its data cannot have"};
    }
    if (!code && !pickle) continue;
    if (size > (code ? kMaxCodeBytes : kMaxPickleBytes)) throw Bad{"absurd member " + name};
    if (method != 0 && method != 8) throw Bad{"unknown compression of " + name};
    const std::string header = f.read(local, 30);
    if (le(header, 0, 4) != kLocalHeader) throw Bad{"damaged zip header of " + name};
    const std::string raw = f.read(local + 30 + le(header, 26, 2) + le(header, 28, 2), packed);
    const std::string text = method == 0 ? raw : inflate_raw(raw, size);
    if (text.size() != size || crc32(0L, reinterpret_cast<const Bytef*>(text.data()),
                                     static_cast<uInt>(text.size())) != crc) {
      throw Bad{"member " + name + " fails its CRC-32"};
    }
    if (code) check_code(name, text);
    if (pickle) {
      if (const std::string why = pickle_problem(text); !why.empty()) {
        throw Bad{"member " + name + ": " + why};
      }
    }
  }
}

}  // namespace

void check_torch_archive(const std::string& path) {
  try {
    File f(path);
    check(f);
  } catch (const Bad& bad) {
    throw Error(concat(path, ": not a readable ganforge checkpoint (", bad.why, ")"));
  }
}

}  // namespace gf
