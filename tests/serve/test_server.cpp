// The server on an ephemeral loopback port, driven by an HTTP client: images and determinism,
// every error answer, the queue's 429, timeouts, parallel clients and graceful shutdown.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stb/stb_image.h>

#include <atomic>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/image.h"
#include "models/sampler.h"
#include "serve/server.h"
#include "server_fixture.h"

namespace gf::serve {
namespace {

using nlohmann::json;
using test::expected_png;
using test::ServerTest;

TEST_F(ServerTest, HealthModelsAndPage) {
  start();
  auto c = client();
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200);
  auto j = json::parse(models->body);
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][0]["name"], "plain");
  EXPECT_EQ(j["models"][0]["conditional"], false);
  EXPECT_EQ(j["models"][1]["name"], "digits");
  EXPECT_EQ(j["models"][1]["conditional"], true);
  EXPECT_EQ(j["models"][1]["num_classes"], 10);
  EXPECT_EQ(j["models"][1]["architecture"], "dcgan");
  EXPECT_EQ(j["models"][1]["step"], 1234);
  EXPECT_EQ(j["models"][1]["output_shape"], json::array({1, 28, 28}));
  EXPECT_EQ(j["limits"]["max_n"], 256);
  EXPECT_EQ(j["limits"]["max_body_bytes"], 64 * 1024);
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(page->body.find("/v1/generate"), std::string::npos);
}

TEST_F(ServerTest, NotReadyAnswers503) {
  start({}, /*ready=*/false);
  auto c = client();
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  expect_error(post({{"model", "plain"}}), 503, "loading");
  server_->set_ready();
  EXPECT_EQ(c.Get("/health")->status, 200);
}

TEST_F(ServerTest, ImagesAreTheSeedsImagesAloneOrInAnyBatch) {
  start();
  // One PNG: the right size, and exactly what the generator makes for (seed, 0).
  auto one = post({{"model", "digits"}, {"seed", 42}, {"labels", {7}}});
  ASSERT_TRUE(one);
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(one->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(one->get_header_value("X-Seed"), "42");
  EXPECT_EQ(one->get_header_value("X-Label"), "7");
  int w = 0, h = 0, c = 0;
  stbi_uc* px = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(one->body.data()),
                                      static_cast<int>(one->body.size()), &w, &h, &c, 0);
  ASSERT_NE(px, nullptr);
  stbi_image_free(px);
  EXPECT_EQ(w, 28);
  EXPECT_EQ(h, 28);
  EXPECT_EQ(one->body, expected_png(digits_, 42, 0, 7));

  // JSON: image i of seed s is the same whether asked for alone, in a larger n, or coalesced
  // with other clients' requests.
  auto many = post({{"model", "plain"}, {"seed", 5}, {"n", 6}, {"format", "json"}});
  ASSERT_EQ(many->status, 200) << many->body;
  auto j = json::parse(many->body);
  ASSERT_EQ(j["images"].size(), 6u);
  EXPECT_EQ(j["seed"], 5);
  std::vector<std::string> want;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(j["images"][i]["index"], i);
    EXPECT_EQ(j["images"][i]["seed"], 5);
    want.push_back(j["images"][i]["png"].get<std::string>());
  }
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 12; ++t) {
    clients.emplace_back([&, t] {
      const int n = 1 + t % 6;
      auto r = post({{"model", "plain"}, {"seed", 5}, {"n", n}, {"format", "json"}});
      if (!r || r->status != 200) {
        ++failures;
        return;
      }
      auto images = json::parse(r->body)["images"];
      for (int i = 0; i < n; ++i) mismatches += images[i]["png"] != want[i];
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(mismatches, 0);

  // Conditional defaults: image i gets class i mod 10; one label applies to every image.
  auto cls =
      json::parse(post({{"model", "digits"}, {"seed", 1}, {"n", 12}, {"format", "json"}})->body);
  EXPECT_EQ(cls["images"][11]["label"], 1);
  auto three = json::parse(
      post({{"model", "digits"}, {"seed", 1}, {"n", 4}, {"labels", {3}}, {"format", "json"}})
          ->body);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(three["images"][i]["label"], 3);

  // A grid of 64 is one PNG of 8 x 8 tiles with 2-pixel gaps.
  auto grid = post({{"model", "plain"}, {"seed", 5}, {"n", 64}, {"format", "grid"}});
  ASSERT_EQ(grid->status, 200);
  px = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(grid->body.data()),
                             static_cast<int>(grid->body.size()), &w, &h, &c, 0);
  ASSERT_NE(px, nullptr);
  stbi_image_free(px);
  EXPECT_EQ(w, 8 * 30 + 2);
  EXPECT_EQ(h, 8 * 30 + 2);

  // Truncation changes the image; a walk starts at the first seed's image 0.
  auto trunc = post({{"model", "plain"}, {"seed", 5}, {"truncation", 0.5}});
  EXPECT_NE(trunc->body, expected_png(plain_, 5, 0));
  auto walk = json::parse(
      post({{"model", "plain"}, {"seed", 5}, {"walk_to", 9}, {"n", 5}, {"format", "json"}})->body);
  ASSERT_EQ(walk["images"].size(), 5u);
  EXPECT_EQ(walk["images"][0]["png"], want[0]);
  EXPECT_EQ(walk["images"][4]["t"], 1.0);
  // Without a seed the server picks one and says which.
  auto any = post({{"model", "plain"}});
  ASSERT_EQ(any->status, 200);
  const uint64_t seed = std::stoull(any->get_header_value("X-Seed"));
  EXPECT_EQ(any->body, expected_png(plain_, seed, 0));
}

TEST_F(ServerTest, EveryErrorIsAJsonAnswer) {
  start();
  auto c = client();
  auto raw = [&](const std::string& body, const std::string& type) {
    return c.Post("/v1/generate", body, type.c_str());
  };
  expect_error(raw("{not json", "application/json"), 400, "invalid_json");
  expect_error(raw(R"({"model":"plain","n":"4","format":"json"})", "application/json"), 400,
               "invalid_request");
  expect_error(post({{"model", "plain"}, {"n", 1000000000}, {"format", "grid"}}), 400,
               "invalid_request");
  expect_error(post({{"model", "plain"}, {"seed", -1}}), 400, "invalid_request");
  expect_error(post({{"model", "digits"}, {"labels", {10}}}), 400, "invalid_request");
  expect_error(post({{"model", "digits"}, {"labels", {-3}}}), 400, "invalid_request");
  expect_error(post({{"model", "plain"}, {"labels", {1}}}), 400, "invalid_request");
  json many_labels = json::array();
  for (int i = 0; i < 100000; ++i) many_labels.push_back(1);
  // 100,000 labels are more than the body limit allows: refused before parsing.
  expect_error(post({{"model", "digits"}, {"n", 4}, {"labels", many_labels}}), 413,
               "payload_too_large");
  expect_error(post({{"model", "digits"}, {"n", 4}, {"labels", {1, 2}}, {"format", "json"}}), 400,
               "invalid_request");
  expect_error(post({{"model", "faces"}}), 400, "unknown_model");
  expect_error(post({{"seed", 1}}), 400, "invalid_request");  // two models: which?
  expect_error(raw(R"({"model":"plain"})", "text/plain"), 415, "unsupported_media_type");
  expect_error(raw(std::string(10 * 1024 * 1024, 'x'), "application/json"), 413,
               "payload_too_large");
  expect_error(c.Get("/v1/nothing"), 404, "not_found");
  auto wrong = c.Get("/v1/generate");
  expect_error(wrong, 405, "method_not_allowed");
  EXPECT_EQ(wrong->get_header_value("Allow"), "POST");
  expect_error(c.Delete("/v1/models"), 405, "method_not_allowed");
  // After all that the server still serves.
  EXPECT_EQ(post({{"model", "plain"}})->status, 200);
}

TEST_F(ServerTest, ApiKey) {
  ServeOptions o;
  o.api_key = "s3cret";
  start(o);
  auto missing = post({{"model", "plain"}});
  expect_error(missing, 401, "unauthorized");
  EXPECT_EQ(missing->get_header_value("WWW-Authenticate"), "Bearer");
  expect_error(post({{"model", "plain"}}, "s3cre"), 401, "unauthorized");
  expect_error(post({{"model", "plain"}}, "s3cret!"), 401, "unauthorized");
  EXPECT_EQ(post({{"model", "plain"}}, "s3cret")->status, 200);
  auto c = client();
  expect_error(c.Get("/v1/models"), 401, "unauthorized");
  expect_error(c.Get("/metrics"), 401, "unauthorized");
  EXPECT_EQ(c.Get("/v1/models", {{"X-API-Key", "s3cret"}})->status, 200);
  // The page and the health probe stay open: the page asks for the key itself.
  EXPECT_EQ(c.Get("/")->status, 200);
  EXPECT_EQ(c.Get("/health")->status, 200);
}

TEST_F(ServerTest, FullQueueAnswers429AndTimeouts503) {
  ServeOptions o;
  o.queue = 1;
  o.http_threads = 32;
  start(o);
  std::atomic<int> ok{0}, busy{0}, other{0}, retry_after{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < 32; ++t) {
    flood.emplace_back([&] {
      auto r = post({{"model", "digits"}, {"n", 256}, {"format", "grid"}});
      if (r && r->status == 200) {
        ++ok;
      } else if (r && r->status == 429) {
        ++busy;
        retry_after += r->get_header_value("Retry-After") == "1";
      } else {
        ++other;
      }
    });
  }
  for (auto& t : flood) t.join();
  EXPECT_GT(ok, 0);
  EXPECT_GT(busy, 0);
  EXPECT_EQ(busy, retry_after);
  EXPECT_EQ(other, 0);
  stop();

  o.queue = 64;
  o.timeout_s = 1e-6;  // no batch of 256 convolutions is ready in a microsecond
  start(o);
  expect_error(post({{"model", "digits"}, {"n", 256}, {"format", "grid"}}), 503, "timeout");
  stop();
}

TEST_F(ServerTest, TwoHundredParallelRequestsAllAnsweredCorrectly) {
  ServeOptions o;
  o.http_threads = 16;
  start(o);
  std::vector<std::string> expected(200);
  for (int i = 0; i < 200; ++i) expected[i] = expected_png(plain_, 1000 + i, 0);
  std::atomic<int> next{0}, right{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      auto c = client();
      for (int i = next++; i < 200; i = next++) {
        auto r = c.Post("/v1/generate", json{{"model", "plain"}, {"seed", 1000 + i}}.dump(),
                        "application/json");
        if (r && r->status == 200 && r->body == expected[i]) {
          ++right;
        } else {
          ++wrong;
          ADD_FAILURE() << "seed " << 1000 + i << ": " << (r ? r->status : -1);
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(right, 200);
  EXPECT_EQ(wrong, 0);
  // The metrics saw them, batched (whether they were coalesced is ServeBatcher's test).
  const std::string counted =
      "ganforge_requests_total{route=\"/v1/generate\",status=\"200\"} 200\n";
  const std::string m = metrics_with(counted);
  EXPECT_NE(m.find(counted), std::string::npos) << m;
  EXPECT_NE(m.find("ganforge_images_generated_total{model=\"plain\"} 200\n"), std::string::npos);
  EXPECT_NE(m.find("ganforge_queue_depth{model=\"plain\"} 0\n"), std::string::npos);
  EXPECT_NE(m.find("ganforge_batch_size_count{model=\"plain\"}"), std::string::npos);
}

TEST_F(ServerTest, StopFinishesRequestsInFlight) {
  start();
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&] {
      auto r = post({{"model", "digits"}, {"n", 256}, {"format", "grid"}});
      (r && r->status == 200 ? ok : failed)++;
    });
  }
  // Wait until the server has requests (queued or answered; no fixed sleep, which a loaded
  // machine can outlast), then stop while they are being generated.
  const std::string gauge = "ganforge_queue_depth{model=\"digits\"} ";
  int seen = 0;
  for (int i = 0; i < 3000 && seen == 0; ++i) {
    auto m = client().Get("/metrics");
    ASSERT_TRUE(m);
    const size_t at = m->body.find(gauge);
    ASSERT_NE(at, std::string::npos);
    seen = std::stoi(m->body.substr(at + gauge.size())) + ok;
    if (seen == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(seen, 0) << "no request reached the server in 30 s";
  stop();
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok + failed, 6);
  EXPECT_GE(ok, seen);  // every request the server had taken was answered, none dropped
  // And the port is closed now.
  httplib::Client c("127.0.0.1", port_);
  c.set_connection_timeout(1);
  EXPECT_FALSE(c.Get("/health"));
}

TEST(ServeNames, ModelNamesFromPaths) {
  std::string path;
  EXPECT_EQ(model_name_for("faces=/x/y.ckpt", &path), "faces");
  EXPECT_EQ(path, "/x/y.ckpt");
  EXPECT_EQ(model_name_for("runs/demo/checkpoints/step_000100.ckpt", &path), "demo");
  EXPECT_EQ(model_name_for("exports/G.safetensors", &path), "G");
  EXPECT_THROW(model_name_for("bad name=x.ckpt", &path), gf::Error);
}

}  // namespace
}  // namespace gf::serve
