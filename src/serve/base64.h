// Base64 (RFC 4648) for PNGs in JSON bodies, by OpenSSL's EVP block coder.
#pragma once

#include <string>

namespace gf::serve {

std::string base64_encode(const std::string& bytes);
// Decodes standard base64, with or without a data URL prefix ("data:image/png;base64,", as a
// browser canvas gives) and line breaks; ApiError(400) naming `what` for anything else.
std::string base64_decode(const std::string& text, const std::string& what);

}  // namespace gf::serve
