// The checks a JPEG passes before stb_image decodes it (data/image_file.h's prepare_image).
//
// stb_image trusts a JPEG's structure more than it should: a file cut short is filled with grey
// instead of failing, and a scan that uses a Huffman or quantization table the file never
// defined is decoded with whatever that table's memory held before (stb allocates its decoder
// without clearing it). The first is a silently wrong sample; the second reads out of bounds
// and freed memory (docs/reliability.md, defect 7), and the result depends on earlier decodes.
// libjpeg refuses both ("Huffman table 0x.. was not defined"), and so does this check.
#pragma once

#include <string>

namespace gf {

// Walks the marker segments from SOI to the first EOI: every segment within the file, at most
// one frame (SOF0-2), every scan after the frame and using only tables defined before it, the
// entropy-coded data ending in a marker, and an EOI after the last scan (data after it, such as
// camera trailers, is allowed). Throws gf::Error("<name>: corrupt JPEG (...)" or "<name>:
// truncated JPEG (...)") otherwise.
void check_jpeg(const std::string& bytes, const std::string& name);

}  // namespace gf
