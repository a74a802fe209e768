#include "io/pickle_check.h"

#include <cstdint>
#include <string_view>

#include "core/error.h"

namespace gf {
namespace {

// How an opcode's argument is laid out.
enum class Arg { kNone, kFixed, kLine, kTwoLines, kCounted, kUnknown };

struct Layout {
  Arg arg = Arg::kUnknown;
  int bytes = 0;  // kFixed: the argument's size; kCounted: the size of its length prefix
};

// The opcodes of pickle protocols 0 to 5 (CPython's Lib/pickletools.py), by argument layout.
Layout layout(unsigned char op) {
  struct Group {
    std::string_view ops;
    Layout layout;
  };
  static const Group kGroups[] = {
      {"(.012NQRabd}el]ost)u\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98",
       {Arg::kNone, 0}},
      {"Khq\x80\x82", {Arg::kFixed, 1}},
      {"M\x83", {Arg::kFixed, 2}},
      {"Jjr\x84", {Arg::kFixed, 4}},
      {"G\x95", {Arg::kFixed, 8}},
      {"FILSPVgp", {Arg::kLine, 0}},
      {"ci", {Arg::kTwoLines, 0}},
      {"UC\x8c\x8a", {Arg::kCounted, 1}},
      {"TXB\x8b", {Arg::kCounted, 4}},
      {"\x8d\x8e\x96", {Arg::kCounted, 8}},
  };
  for (const Group& g : kGroups) {
    if (g.ops.find(static_cast<char>(op)) != std::string_view::npos) return g.layout;
  }
  return {Arg::kUnknown, 0};
}

}  // namespace

std::string pickle_problem(std::string_view p) {
  size_t at = 0;
  while (at < p.size()) {
    const size_t op_at = at;
    const unsigned char op = static_cast<unsigned char>(p[at++]);
    if (op == '.') return at == p.size() ? "" : concat("data after STOP at byte ", op_at);
    const Layout l = layout(op);
    const size_t left = p.size() - at;
    switch (l.arg) {
      case Arg::kNone:
        break;
      case Arg::kFixed:
        if (left < static_cast<size_t>(l.bytes)) return concat("truncated at byte ", op_at);
        at += static_cast<size_t>(l.bytes);
        break;
      case Arg::kLine:
      case Arg::kTwoLines:
        for (int line = 0; line < (l.arg == Arg::kLine ? 1 : 2); ++line) {
          const size_t end = p.find('\n', at);
          if (end == std::string_view::npos) return concat("truncated at byte ", op_at);
          at = end + 1;
        }
        break;
      case Arg::kCounted: {
        if (left < static_cast<size_t>(l.bytes)) return concat("truncated at byte ", op_at);
        uint64_t n = 0;
        for (int i = l.bytes - 1; i >= 0; --i) {
          n = (n << 8) | static_cast<unsigned char>(p[at + static_cast<size_t>(i)]);
        }
        at += static_cast<size_t>(l.bytes);
        if (n > p.size() - at) {
          return concat("opcode at byte ", op_at, " claims ", n, " bytes; ", p.size() - at,
                        " are left");
        }
        at += static_cast<size_t>(n);
        break;
      }
      case Arg::kUnknown:
        return concat("unknown opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15],
                      " at byte ", op_at);
    }
  }
  return "no STOP opcode at its end";
}

}  // namespace gf
