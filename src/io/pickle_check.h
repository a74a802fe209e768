// A walk over a pickle's opcodes (protocol 0-5), for io/torch_archive.h: LibTorch's unpickler
// trusts the lengths a pickle states, so a 40 KB checkpoint whose data.pkl claims a 4 GB string
// makes it allocate and fill 4 GB before it notices the member ends (docs/reliability.md,
// defect 9). Every opcode's argument, and every length-prefixed string, bytes or long, must lie
// within the member, and the pickle must end with STOP.
#pragma once

#include <string>
#include <string_view>

namespace gf {

// Empty when the pickle's structure holds; otherwise what is wrong and where.
std::string pickle_problem(std::string_view pickle);

}  // namespace gf
