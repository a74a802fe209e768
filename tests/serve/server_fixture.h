// The server fixture the server tests share: two small models (an MLP "plain", a conditional
// DCGAN "digits") served on an ephemeral loopback port from a thread.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "io/image.h"
#include "models/sampler.h"
#include "serve/server.h"

namespace gf::serve::test {

using nlohmann::json;

inline LoadedGenerator small_model(bool conditional) {
  ModelSpec spec;
  spec.out_shape = {1, 28, 28};
  spec.latent = "normal";
  if (conditional) {
    spec.arch = "dcgan";
    spec.g_channels = 8;
    spec.d_channels = 8;
    spec.conditional = "cgan";
    spec.num_classes = 10;
  } else {
    spec.g_hidden = {32, 64};
    spec.d_hidden = {64, 32};
  }
  torch::manual_seed(conditional ? 1 : 2);
  LoadedGenerator m;
  m.path = conditional ? "digits.ckpt" : "plain.ckpt";
  m.spec = spec;
  m.g = build_generator(spec);
  m.g->eval();
  m.meta = {{"step", 1234}};
  return m;
}

// What the server should send for image `index` of `seed`: computed without the server.
inline std::string expected_png(LoadedGenerator& m, uint64_t seed, int64_t index,
                                int64_t label = -1) {
  torch::NoGradGuard no_grad;
  auto z = seeded_latents(m.spec, seed, index, 1);
  auto y = label >= 0 ? torch::full({1}, label, torch::kInt64) : torch::Tensor();
  return encode_png(make_grid(m.g->forward(z, y), 1, 0));
}

// A server with both models, listening on a thread until the fixture ends.
class ServerTest : public ::testing::Test {
 protected:
  void start(ServeOptions o = {}, bool ready = true) {
    o.port = 0;
    server_ = std::make_unique<Server>(o);
    port_ = server_->bind();
    plain_ = small_model(false);
    digits_ = small_model(true);
    server_->add_model("plain", plain_);
    server_->add_model("digits", digits_);
    if (ready) server_->set_ready();
    thread_ = std::thread([this] { server_->listen(); });
  }
  void TearDown() override {
    if (server_) stop();
  }
  void stop() {
    while (!server_->running() && thread_.joinable()) std::this_thread::yield();
    server_->stop();
    thread_.join();
    server_.reset();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60);
    return c;
  }
  httplib::Result post(const json& body, const std::string& key = "") const {
    auto c = client();
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    return c.Post("/v1/generate", h, body.dump(), "application/json");
  }
  // The /metrics page once it contains `line`, or the last page after 10 s. A request is counted
  // by the logger cpp-httplib calls after it has written the response, so a client can hold its
  // answer before the counter moves.
  std::string metrics_with(const std::string& line) const {
    std::string body;
    for (int i = 0; i < 200; ++i) {
      auto m = client().Get("/metrics");
      if (m && m->status == 200) body = m->body;
      if (body.find(line) != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return body;
  }
  // Asserts a JSON error answer with `status` and `code`.
  static void expect_error(const httplib::Result& r, int status, const std::string& code) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    auto j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
    EXPECT_EQ(j["error"]["code"], code) << r->body;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  }

  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
  LoadedGenerator plain_, digits_;
};

}  // namespace gf::serve::test
