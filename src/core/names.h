// Registries choose parts by name; an unknown name is an error that lists the valid ones.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"

namespace gf {

inline std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// `what` names the setting, e.g. "train.loss".
inline void check_name(const std::string& what, const std::string& name,
                       const std::vector<std::string>& valid) {
  GF_CHECK(std::find(valid.begin(), valid.end(), name) != valid.end(), "unknown ", what, " '", name,
           "'; valid: ", join_names(valid));
}

}  // namespace gf
