#include "data/jpeg_check.h"

#include <cstdint>
#include <vector>

#include "core/error.h"

namespace gf {
namespace {

struct Component {
  int id = 0;
  int quant = 0;  // its quantization table
};

// Which tables the segments so far defined, and the frame.
struct Tables {
  bool quant[4] = {}, dc[4] = {}, ac[4] = {};
  std::vector<Component> frame;
  bool have_frame = false, progressive = false;
};

bool restart_marker(unsigned char m) {
  return m >= 0xd0 && m <= 0xd7;
}

void read_quant_tables(const unsigned char* s, size_t n, Tables& t, const std::string& name) {
  for (size_t i = 0; i < n;) {
    const int precision = s[i] >> 4, id = s[i] & 15;
    GF_CHECK(precision <= 1 && id < 4, name, ": corrupt JPEG (quantization table ", id,
             " with precision ", precision, ")");
    const size_t size = 1 + 64 * static_cast<size_t>(precision + 1);
    GF_CHECK(i + size <= n, name, ": corrupt JPEG (a quantization table runs past its segment)");
    t.quant[id] = true;
    i += size;
  }
}

void read_huffman_tables(const unsigned char* s, size_t n, Tables& t, const std::string& name) {
  for (size_t i = 0; i < n;) {
    const int cls = s[i] >> 4, id = s[i] & 15;
    GF_CHECK(cls <= 1 && id < 4, name, ": corrupt JPEG (Huffman table class ", cls, " id ", id,
             ")");
    GF_CHECK(i + 17 <= n, name, ": corrupt JPEG (a Huffman table runs past its segment)");
    size_t symbols = 0;
    for (size_t k = 1; k <= 16; ++k) symbols += s[i + k];
    GF_CHECK(i + 17 + symbols <= n, name, ": corrupt JPEG (a Huffman table runs past its segment)");
    (cls == 0 ? t.dc : t.ac)[id] = true;
    i += 17 + symbols;
  }
}

void read_frame(const unsigned char* s, size_t n, bool progressive, Tables& t,
                const std::string& name) {
  GF_CHECK(!t.have_frame, name, ": corrupt JPEG (a second frame header)");
  GF_CHECK(n >= 6 && n >= 6 + 3 * size_t{s[5]}, name, ": corrupt JPEG (short frame header)");
  for (size_t k = 0; k < s[5]; ++k) {
    const int quant = s[6 + 3 * k + 2];
    GF_CHECK(quant < 4, name, ": corrupt JPEG (quantization table ", quant, ")");
    t.frame.push_back({s[6 + 3 * k], quant});
  }
  t.have_frame = true;
  t.progressive = progressive;
}

// A scan's header: each of its components is in the frame, and every table it decodes with was
// defined before it. Progressive scans use the DC tables for the first DC pass only, and the AC
// tables for the AC passes (as stb_image and libjpeg do).
void check_scan(const unsigned char* s, size_t n, const Tables& t, const std::string& name) {
  GF_CHECK(t.have_frame, name, ": corrupt JPEG (image data before the frame header)");
  GF_CHECK(n >= 1 && n >= 1 + 2 * size_t{s[0]} + 3, name, ": corrupt JPEG (short scan header)");
  const size_t count = s[0];
  const int spectral_start = s[1 + 2 * count], approx_high = s[3 + 2 * count] >> 4;
  const bool dc = !t.progressive || (spectral_start == 0 && approx_high == 0);
  const bool ac = !t.progressive || spectral_start > 0;
  for (size_t k = 0; k < count; ++k) {
    const int id = s[1 + 2 * k], dc_id = s[2 + 2 * k] >> 4, ac_id = s[2 + 2 * k] & 15;
    const Component* c = nullptr;
    for (const auto& f : t.frame) {
      if (f.id == id) c = &f;
    }
    GF_CHECK(c != nullptr, name, ": corrupt JPEG (a scan names component ", id,
             ", which the frame does not have)");
    GF_CHECK(t.quant[c->quant], name, ": corrupt JPEG (component ", id, " uses quantization table ",
             c->quant, ", which the file does not define)");
    GF_CHECK(!dc || (dc_id < 4 && t.dc[dc_id]), name, ": corrupt JPEG (component ", id,
             " uses DC Huffman table ", dc_id, ", which the file does not define before the scan)");
    GF_CHECK(!ac || (ac_id < 4 && t.ac[ac_id]), name, ": corrupt JPEG (component ", id,
             " uses AC Huffman table ", ac_id, ", which the file does not define before the scan)");
  }
}

}  // namespace

void check_jpeg(const std::string& bytes, const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t size = bytes.size();
  const std::string truncated = concat(name, ": truncated JPEG (");
  Tables tables;
  bool scanned = false;
  size_t pos = 2;  // after SOI
  while (true) {
    GF_CHECK(pos < size, truncated, "no end-of-image marker after the image data)");
    GF_CHECK(p[pos] == 0xff, name, ": corrupt JPEG (no marker at byte ", pos, ")");
    while (pos + 1 < size && p[pos + 1] == 0xff) ++pos;  // fill bytes
    GF_CHECK(pos + 1 < size, truncated, "no end-of-image marker after the image data)");
    const unsigned char marker = p[pos + 1];
    if (marker == 0xd9) {
      GF_CHECK(scanned, name, ": corrupt JPEG (it ends before any image data)");
      return;
    }
    if (restart_marker(marker) || marker == 0x01) {  // markers without a segment
      pos += 2;
      continue;
    }
    GF_CHECK(pos + 4 <= size, truncated, "ends inside a marker)");
    const size_t len = (size_t{p[pos + 2]} << 8) | p[pos + 3];
    GF_CHECK(len >= 2 && pos + 2 + len <= size, truncated, "a segment runs past the end)");
    const unsigned char* s = p + pos + 4;
    const size_t n = len - 2;
    pos += 2 + len;
    switch (marker) {
      case 0xdb:
        read_quant_tables(s, n, tables, name);
        break;
      case 0xc4:
        read_huffman_tables(s, n, tables, name);
        break;
      case 0xc0:
      case 0xc1:
      case 0xc2:
        read_frame(s, n, marker == 0xc2, tables, name);
        break;
      case 0xda:
        check_scan(s, n, tables, name);
        scanned = true;
        // The entropy-coded data: FF in it is followed by 00 (a stuffed byte) or a restart
        // marker, so the next other marker ends it.
        while (pos + 1 < size &&
               !(p[pos] == 0xff && p[pos + 1] != 0 && !restart_marker(p[pos + 1]))) {
          ++pos;
        }
        GF_CHECK(pos + 1 < size, truncated, "no end-of-image marker after the image data)");
        break;
      default:
        break;  // APPn (EXIF, JFIF, ICC), COM, DRI, DNL: skipped by their lengths
    }
  }
}

}  // namespace gf
