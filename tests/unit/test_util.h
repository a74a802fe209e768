// Shared helpers for the unit tests.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_config.h"

namespace gf::test {

// A fresh directory under the build tree's temp area, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("gf_test_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Golden values made by the scripts in tests/golden/ with python3-torch.
inline nlohmann::json golden(const std::string& file = "golden.json") {
  return read_json_file(std::string(GF_GOLDEN_DIR) + "/" + file);
}

// A JSON list of numbers as a float64 vector, and a list of such lists as a matrix.
inline torch::Tensor vector_f64(const nlohmann::json& j) {
  return torch::tensor(j.get<std::vector<double>>(), torch::kFloat64);
}
inline torch::Tensor matrix_f64(const nlohmann::json& j) {
  std::vector<torch::Tensor> rows;
  for (const auto& r : j) rows.push_back(vector_f64(r));
  return torch::stack(rows);
}

// Runs `fn` and returns the gf::Error message it throws (fails the test if none).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a gf::Error";
  return "";
}

// A loopback port nobody listens on now (the kernel's choice). Another process can take it
// before the caller binds it: callers that must not fail then retry on a new one.
inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace gf::test
