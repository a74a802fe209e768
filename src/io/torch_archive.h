// A check of a LibTorch archive (the zip that torch::serialize writes, and ganforge's checkpoints
// are) before LibTorch's loader opens it. The loader compiles the archive's `code/` members with
// TorchScript's parser, which crashes on some damaged sources (docs/reliability.md, defect 6:
// a segfault in ScriptTypeParser::parseClassConstant). ganforge's archives hold only class
// declarations there, so every `code/*.py` member is read (stored or deflated, CRC-32 checked)
// and must consist of the lines those declarations have:
//
//   class Module(Module):
//     __parameters__ = ["weight", "bias", ]      (also __buffers__, and __annotations__ = [])
//     __annotations__["name"] = TYPE
//     name : TYPE
//
// where TYPE is a dotted name with optional [TYPE, ...] arguments. Anything else, or a zip that
// does not parse, is one gf::Error naming the file. Only the central directory and the code
// members are read, not the weights.
#pragma once

#include <string>

namespace gf {

// Throws gf::Error("<path>: not a readable ganforge checkpoint (<why>)") unless `path` is a zip
// whose TorchScript members are plain class declarations.
void check_torch_archive(const std::string& path);

}  // namespace gf
