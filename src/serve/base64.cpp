#include "serve/base64.h"

#include <openssl/evp.h>

#include <algorithm>

#include "core/error.h"
#include "serve/api.h"

namespace gf::serve {

std::string base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(const std::string& text, const std::string& what) {
  std::string in = text;
  if (in.rfind("data:", 0) == 0) {
    const auto comma = in.find(',');
    if (comma == std::string::npos || in.substr(0, comma).find(";base64") == std::string::npos)
      throw ApiError(400, "invalid_request", concat("'", what, "' is a data URL without base64"));
    in = in.substr(comma + 1);
  }
  in.erase(std::remove_if(in.begin(), in.end(), [](char c) { return c == '\n' || c == '\r'; }),
           in.end());
  if (in.empty() || in.size() % 4 != 0)
    throw ApiError(400, "invalid_request", concat("'", what, "' is not base64"));
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) throw ApiError(400, "invalid_request", concat("'", what, "' is not base64"));
  // EVP_DecodeBlock counts the padding's zero bytes: drop one per '='.
  const auto pad = static_cast<size_t>(std::count(in.end() - 2, in.end(), '='));
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace gf::serve
