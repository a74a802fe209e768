#include "io/pickle_check.h"

#include <cstdint>

#include "core/error.h"

namespace gf {
namespace {

// How an opcode's argument is laid out.
enum class Arg { kNone, kFixed, kLine, kTwoLines, kCounted, kUnknown };

struct Layout {
  Arg arg = Arg::kUnknown;
  int bytes = 0;  // kFixed: the argument's size; kCounted: the size of its length prefix
};

// The opcodes of pickle protocols 0 to 5 (CPython's Lib/pickletools.py).
Layout layout(unsigned char op) {
  switch (op) {
    case '(':
    case '.':
    case '0':
    case '1':
    case '2':
    case 'N':
    case 'Q':
    case 'R':
    case 'a':
    case 'b':
    case 'd':
    case '}':
    case 'e':
    case 'l':
    case ']':
    case 'o':
    case 's':
    case 't':
    case ')':
    case 'u':
    case 0x81:
    case 0x85:
    case 0x86:
    case 0x87:
    case 0x88:
    case 0x89:
    case 0x8f:
    case 0x90:
    case 0x91:
    case 0x92:
    case 0x93:
    case 0x94:
    case 0x97:
    case 0x98:
      return {Arg::kNone, 0};
    case 'K':
    case 'h':
    case 'q':
    case 0x80:
    case 0x82:
      return {Arg::kFixed, 1};
    case 'M':
    case 0x83:
      return {Arg::kFixed, 2};
    case 'J':
    case 'j':
    case 'r':
    case 0x84:
      return {Arg::kFixed, 4};
    case 'G':
    case 0x95:
      return {Arg::kFixed, 8};
    case 'F':
    case 'I':
    case 'L':
    case 'S':
    case 'P':
    case 'V':
    case 'g':
    case 'p':
      return {Arg::kLine, 0};
    case 'c':
    case 'i':
      return {Arg::kTwoLines, 0};
    case 'U':
    case 'C':
    case 0x8c:
    case 0x8a:
      return {Arg::kCounted, 1};
    case 'T':
    case 'X':
    case 'B':
    case 0x8b:
      return {Arg::kCounted, 4};
    case 0x8d:
    case 0x8e:
    case 0x96:
      return {Arg::kCounted, 8};
    default:
      return {Arg::kUnknown, 0};
  }
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
