// The applications over HTTP: images from given latents, walks to latents and classes, and
// POST /v1/repair with every input validated.
#include <gtest/gtest.h>
#include <stb/stb_image.h>

#include <string>
#include <vector>

#include "serve/base64.h"
#include "server_fixture.h"

namespace gf::serve {
namespace {

using nlohmann::json;
using test::expected_png;
using test::ServerTest;

std::vector<float> latent_of(const ModelSpec& spec, uint64_t seed) {
  const auto z = seeded_latents(spec, seed, 0, 1)[0].contiguous();
  return {z.data_ptr<float>(), z.data_ptr<float>() + z.numel()};
}

// uint8 [H, W, 1] pixels of a PNG.
torch::Tensor pixels_of(const std::string& png) {
  int w = 0, h = 0, c = 0;
  stbi_uc* px = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(png.data()),
                                      static_cast<int>(png.size()), &w, &h, &c, 1);
  EXPECT_NE(px, nullptr);
  if (px == nullptr) return torch::zeros({28, 28, 1}, torch::kUInt8);
  auto t = torch::from_blob(px, {h, w, 1}, torch::kUInt8).clone();
  stbi_image_free(px);
  return t;
}

TEST_F(ServerTest, GivenLatentsAndWalksToLatentsAndClasses) {
  start();
  // A latent given is the image its seed gives: the JSON round trip of float32 is exact.
  auto given = post({{"model", "plain"}, {"latent", latent_of(plain_.spec, 7)}});
  ASSERT_EQ(given->status, 200) << given->body;
  EXPECT_EQ(given->body, expected_png(plain_, 7, 0));
  auto two = json::parse(post({{"model", "plain"},
                               {"latent", {latent_of(plain_.spec, 7), latent_of(plain_.spec, 8)}},
                               {"format", "json"}})
                             ->body);
  ASSERT_EQ(two["images"].size(), 2u);
  EXPECT_EQ(base64_decode(two["images"][1]["png"], "png"), expected_png(plain_, 8, 0));
  // A walk to a latent ends on it; a walk to a class blends from the first label's class.
  auto walk = json::parse(post({{"model", "plain"},
                                {"seed", 3},
                                {"walk_to", {{"latent", latent_of(plain_.spec, 8)}}},
                                {"n", 4},
                                {"format", "json"}})
                              ->body);
  ASSERT_EQ(walk["images"].size(), 4u);
  EXPECT_EQ(base64_decode(walk["images"][0]["png"], "png"), expected_png(plain_, 3, 0));
  EXPECT_EQ(base64_decode(walk["images"][3]["png"], "png"), expected_png(plain_, 8, 0));
  auto classes = json::parse(post({{"model", "digits"},
                                   {"seed", 3},
                                   {"labels", {2}},
                                   {"walk_to", {{"label", 7}}},
                                   {"n", 5},
                                   {"format", "json"}})
                                 ->body);
  ASSERT_EQ(classes["images"].size(), 5u);
  EXPECT_EQ(base64_decode(classes["images"][0]["png"], "png"), expected_png(digits_, 3, 0, 2));
  EXPECT_EQ(base64_decode(classes["images"][4]["png"], "png"), expected_png(digits_, 3, 0, 7));
  EXPECT_NEAR(classes["images"][2]["class_weights"][2].get<double>(), 0.5, 1e-6);
  EXPECT_NEAR(classes["images"][2]["class_weights"][7].get<double>(), 0.5, 1e-6);

  expect_error(post({{"model", "plain"}, {"latent", {1.0, 2.0}}}), 400, "invalid_request");
  expect_error(post({{"model", "plain"}, {"latent", {"a"}}}), 400, "invalid_request");
  expect_error(post({{"model", "plain"}, {"latent", latent_of(plain_.spec, 1)}, {"n", 3}}), 400,
               "invalid_request");
  expect_error(post({{"model", "plain"}, {"walk_to", {{"label", 1}}}, {"n", 3}}), 400,
               "invalid_request");
  expect_error(post({{"model", "digits"}, {"walk_to", {{"label", 10}}}, {"n", 3}}), 400,
               "invalid_request");
  expect_error(post({{"model", "digits"}, {"walk_to", {{"colour", 1}}}, {"n", 3}}), 400,
               "invalid_request");
}

class RepairTest : public ServerTest {
 protected:
  httplib::Result repair(const json& body) const {
    return client().Post("/v1/repair", body.dump(), "application/json");
  }
};

TEST_F(RepairTest, RepairsTheHoleFromTheGeneratorAndKeepsTheRest) {
  start();
  // A digit G drew, with white garbage in a 12 x 12 box.
  auto picture = pixels_of(expected_png(digits_, 4, 0, 1));
  picture.narrow(0, 8, 12).narrow(1, 8, 12).fill_(255);
  const std::string damaged = encode_png(picture);
  auto r = repair({{"model", "digits"},
                   {"image", base64_encode(damaged)},
                   {"box", {8, 8, 12, 12}},
                   {"steps", 60},
                   {"restarts", 1},
                   {"format", "json"}});
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = json::parse(r->body);
  ASSERT_EQ(j["latent"].size(), static_cast<size_t>(digits_.spec.z_dim));
  ASSERT_TRUE(j.contains("label"));
  const auto repaired = pixels_of(base64_decode(j["png"], "png"));
  // Outside the box: the input's pixels, exactly. Inside: G's image for the latent found, which
  // /v1/generate gives back from the returned latent and label.
  auto outside = torch::ones({28, 28, 1}, torch::kBool);
  outside.narrow(0, 8, 12).narrow(1, 8, 12).fill_(false);
  EXPECT_TRUE(torch::equal(repaired.masked_select(outside), picture.masked_select(outside)));
  auto again = post({{"model", "digits"}, {"latent", j["latent"]}, {"labels", {j["label"]}}});
  ASSERT_EQ(again->status, 200) << again->body;
  const auto regenerated = pixels_of(again->body);
  EXPECT_EQ(base64_decode(j["generated_png"], "generated_png"), again->body);
  EXPECT_TRUE(torch::equal(repaired.narrow(0, 8, 12).narrow(1, 8, 12),
                           regenerated.narrow(0, 8, 12).narrow(1, 8, 12)));
  EXPECT_LT(repaired.narrow(0, 8, 12).narrow(1, 8, 12).to(torch::kFloat32).mean().item<float>(),
            250.0f);
  // A mask picture works the same; the PNG answer carries the label in a header.
  auto mask = torch::zeros({28, 28, 1}, torch::kUInt8);
  mask.narrow(0, 8, 12).narrow(1, 8, 12).fill_(255);
  auto png = repair({{"model", "digits"},
                     {"image", "data:image/png;base64," + base64_encode(damaged)},
                     {"mask", base64_encode(encode_png(mask))},
                     {"steps", 20},
                     {"restarts", 1}});
  ASSERT_EQ(png->status, 200) << png->body;
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  EXPECT_FALSE(png->get_header_value("X-Label").empty());
}

TEST_F(RepairTest, EveryBadInputIsA4xxJsonAnswer) {
  start();
  const std::string image = base64_encode(expected_png(digits_, 1, 0, 0));
  const json box = {2, 2, 5, 5};
  auto bad = [&](json body, int status = 400, const std::string& code = "invalid_request") {
    if (!body.contains("model")) body["model"] = "digits";
    expect_error(repair(body), status, code);
  };
  bad({{"box", box}});                                                     // no image
  bad({{"image", "***not base64***"}, {"box", box}});                      // not base64
  bad({{"image", base64_encode("GIF89a but not really")}, {"box", box}});  // not an image
  bad({{"image", base64_encode(encode_png(torch::zeros({8, 8, 1}, torch::kUInt8)))},
       {"box", box}});                                     // wrong size
  bad({{"image", image}});                                 // no hole
  bad({{"image", image}, {"box", box}, {"mask", image}});  // two holes
  bad({{"image", image}, {"box", {20, 20, 10, 10}}});      // box outside
  bad({{"image", image}, {"box", {1, 2, 3}}});             // box shape
  bad({{"image", image},
       {"mask", base64_encode(encode_png(torch::zeros({14, 14, 1}, torch::kUInt8)))}});
  bad({{"image", image}, {"box", box}, {"steps", 100000}});
  bad({{"image", image}, {"box", box}, {"restarts", 0}});
  bad({{"image", image}, {"box", box}, {"label", 10}});
  bad({{"image", image}, {"box", box}, {"format", "gif"}});
  bad({{"image", image}, {"box", box}, {"colour", "red"}});
  bad({{"model", "plain"}, {"image", image}, {"box", box}, {"label", 1}});  // unconditional
  bad({{"model", "nobody"}, {"image", image}, {"box", box}}, 400, "unknown_model");
  expect_error(client().Post("/v1/repair", "{oops", "application/json"), 400, "invalid_json");
  expect_error(client().Post("/v1/repair", "{}", "text/plain"), 415, "unsupported_media_type");
  expect_error(client().Post("/v1/repair", std::string(200 * 1024, 'x'), "application/json"), 413,
               "payload_too_large");
  expect_error(client().Get("/v1/repair"), 405, "method_not_allowed");
}

}  // namespace
}  // namespace gf::serve
