#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "serve/api.h"
#include "serve/batcher.h"
#include "serve/prometheus.h"

namespace gf::serve {
namespace {

const std::vector<std::string> kModels = {"digits"};

// The status and code of the ApiError that parsing `body` throws (0 if none).
std::pair<int, std::string> refusal(const std::string& body,
                                    const std::vector<std::string>& models = kModels) {
  try {
    parse_generate_request(body, models, Limits{});
  } catch (const ApiError& e) {
    return {e.status(), e.code()};
  }
  return {0, ""};
}

TEST(ServeApi, ParsesAFullRequest) {
  auto r = parse_generate_request(
      R"({"model":"digits","n":3,"seed":42,"labels":[1,2,3],"truncation":0.7,"format":"json"})",
      kModels, Limits{});
  EXPECT_EQ(r.model, "digits");
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(r.seed, 42u);
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.labels, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(r.truncation, 0.7);
  EXPECT_EQ(r.format, Format::kJson);
  EXPECT_FALSE(r.walk_to.has_value());
}

TEST(ServeApi, DefaultsAndTheOnlyModel) {
  auto r = parse_generate_request("{}", kModels, Limits{});
  EXPECT_EQ(r.model, "digits");
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.seed_given);
  EXPECT_EQ(r.format, Format::kPng);
  auto w =
      parse_generate_request(R"({"n":8,"seed":1,"walk_to":9,"format":"grid"})", kModels, Limits{});
  ASSERT_TRUE(w.walk_to.has_value());
  EXPECT_EQ(*w.walk_to, 9u);
  // The largest seed is accepted exactly.
  auto big = parse_generate_request(R"({"seed":9223372036854775807})", kModels, Limits{});
  EXPECT_EQ(big.seed, 9223372036854775807u);
}

TEST(ServeApi, RefusesBadInputWith400) {
  using P = std::pair<int, std::string>;
  EXPECT_EQ(refusal("{"), P(400, "invalid_json"));
  EXPECT_EQ(refusal(""), P(400, "invalid_json"));
  EXPECT_EQ(refusal("[1,2]"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":"3"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":1.5})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":true})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":0})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":0,"format":"grid"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":1,"walk_to":-2,"format":"json"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":1000000000,"format":"grid"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":257,"format":"grid"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"seed":-1})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"seed":18446744073709551615})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"seed":1e30})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"truncation":0})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"truncation":1.01})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"truncation":"high"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"format":"gif"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":2,"format":"png"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":1,"walk_to":3,"format":"json"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"n":3,"labels":[1,2],"format":"json"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"labels":"7"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"labels":[1.5]})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"colour":"red"})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal(R"({"model":"faces"})"), P(400, "unknown_model"));
  EXPECT_EQ(refusal(R"({"model":7})"), P(400, "invalid_request"));
  EXPECT_EQ(refusal("{}", {"a", "b"}), P(400, "invalid_request"));  // which model?
}

TEST(ServeApi, LabelsMustSuitTheModel) {
  ModelSpec cond;
  cond.conditional = "cgan";
  cond.num_classes = 10;
  ModelSpec plain;
  auto r = parse_generate_request(R"({"labels":[9]})", kModels, Limits{});
  EXPECT_NO_THROW(check_request_labels(r, cond));
  EXPECT_THROW(check_request_labels(r, plain), ApiError);
  for (const char* body : {R"({"labels":[10]})", R"({"labels":[-1]})"}) {
    auto bad = parse_generate_request(body, kModels, Limits{});
    EXPECT_THROW(check_request_labels(bad, cond), ApiError) << body;
  }
}

TEST(ServeMetrics, PrometheusTextCountsAndBuckets) {
  ServerMetrics m({"/v1/generate"});
  m.record_request("/v1/generate", 200, 0.003);
  m.record_request("/v1/generate", 200, 0.2);
  m.record_request("/v1/generate", 400, 0.0001);
  m.record_request("/../etc/passwd", 404, 0.0001);  // unknown paths share one label
  m.record_batch("digits", 3);
  m.record_batch("digits", 64);
  int depth = 5;
  m.add_gauge("ganforge_queue_depth", "waiting", "model=\"digits\"", [&] { return depth; });
  const std::string text = m.render();
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("ganforge_requests_total{route=\"/v1/generate\",status=\"200\"} 2"));
  EXPECT_TRUE(has("ganforge_requests_total{route=\"/v1/generate\",status=\"400\"} 1"));
  EXPECT_TRUE(has("ganforge_requests_total{route=\"other\",status=\"404\"} 1"));
  EXPECT_EQ(text.find("passwd"), std::string::npos);
  EXPECT_TRUE(has("ganforge_request_duration_seconds_bucket{le=\"0.001\"} 2"));
  EXPECT_TRUE(has("ganforge_request_duration_seconds_bucket{le=\"0.005\"} 3"));
  EXPECT_TRUE(has("ganforge_request_duration_seconds_bucket{le=\"+Inf\"} 4"));
  EXPECT_TRUE(has("ganforge_request_duration_seconds_count 4"));
  EXPECT_TRUE(has("ganforge_images_generated_total{model=\"digits\"} 67"));
  EXPECT_TRUE(has("ganforge_batch_size_bucket{model=\"digits\",le=\"4\"} 1"));
  EXPECT_TRUE(has("ganforge_batch_size_bucket{model=\"digits\",le=\"64\"} 2"));
  EXPECT_TRUE(has("ganforge_batch_size_sum{model=\"digits\"} 67"));
  EXPECT_TRUE(has("ganforge_queue_depth{model=\"digits\"} 5"));
  depth = 0;
  EXPECT_NE(m.render().find("ganforge_queue_depth{model=\"digits\"} 0\n"), std::string::npos);
}

}  // namespace
// A generator whose first forward pass waits until released, recording every batch size.
class GateGenerator : public Generator {
 public:
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor&) override {
    std::unique_lock<std::mutex> lock(mu);
    sizes.push_back(z.size(0));
    entered.notify_all();
    if (sizes.size() == 1) released.wait(lock, [&] { return open; });
    return z.narrow(1, 0, 1).reshape({z.size(0), 1, 1, 1}).clone();
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    released.notify_all();
  }
  std::mutex mu;
  std::condition_variable entered, released;
  std::vector<int64_t> sizes;
  bool open = false;
};

TEST(ServeBatcher, CoalescesWhatWaitsIntoOneForwardPass) {
  auto g = std::make_shared<GateGenerator>();
  serve::Batcher batcher("m", g, /*max_batch=*/10, /*max_queue=*/16, nullptr);
  auto first = batcher.submit(torch::full({2, 4}, 1.0f), {});
  {
    // The worker holds the first job inside forward(); the next ones queue up behind it.
    std::unique_lock<std::mutex> lock(g->mu);
    g->entered.wait(lock, [&] { return !g->sizes.empty(); });
  }
  std::vector<std::shared_ptr<serve::GenerationJob>> waiting;
  for (int i = 0; i < 5; ++i) waiting.push_back(batcher.submit(torch::full({3, 4}, 10.0f + i), {}));
  EXPECT_EQ(batcher.depth(), 5u);
  g->release();
  EXPECT_EQ(first->future.get().size(0), 2);
  // 3 + 3 + 3 fit in max_batch 10 together, the rest in the next pass: 2 passes for 5 requests.
  for (int i = 0; i < 5; ++i) {
    auto out = waiting[i]->future.get();
    ASSERT_EQ(out.size(0), 3);
    EXPECT_EQ(out[0].item<float>(), 10.0f + i) << "request " << i << " got another's images";
  }
  batcher.shutdown();
  EXPECT_EQ(g->sizes, (std::vector<int64_t>{2, 9, 6}));
}

}  // namespace gf::serve
