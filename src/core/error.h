// Errors: gf::Error carries one clear sentence for the user; the edges (CLI exit code, HTTP
// status) translate it. GF_CHECK throws gf::Error with the message parts concatenated.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace gf {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

// The first line of a message (LibTorch's errors append source locations on later lines).
inline std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

}  // namespace gf

#define GF_CHECK(cond, ...)                                    \
  do {                                                         \
    if (!(cond)) throw ::gf::Error(::gf::concat(__VA_ARGS__)); \
  } while (0)
