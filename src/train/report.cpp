#include "train/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"
#include "core/json_config.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else
      o += c;
  }
  return o;
}

struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> points;
};

// One line chart as inline SVG; `baseline` (if finite) is drawn dashed.
std::string svg_chart(const std::string& title, const std::vector<Series>& series,
                      double baseline = NAN) {
  const double w = 460, h = 230, l = 55, r = 10, t = 40, b = 30;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series) {
    for (auto [x, y] : s.points) {
      if (!std::isfinite(y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  if (std::isfinite(baseline)) y0 = std::min(y0, baseline), y1 = std::max(y1, baseline);
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h
    << "' style='background:#fff;border:1px solid #ddd;margin:4px'>";
  o << "<text x='" << l << "' y='16' font-size='13' font-family='sans-serif'>" << html_escape(title)
    << "</text>";
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) y1 = y0 + 1;
  auto px = [&](double x) { return l + (x - x0) / (x1 - x0) * (w - l - r); };
  auto py = [&](double y) { return h - b - (y - y0) / (y1 - y0) * (h - t - b); };
  o << "<line x1='" << l << "' y1='" << h - b << "' x2='" << w - r << "' y2='" << h - b
    << "' stroke='#999'/><line x1='" << l << "' y1='" << t << "' x2='" << l << "' y2='" << h - b
    << "' stroke='#999'/>";
  char buf[64];
  for (double v : {y0, y1}) {
    std::snprintf(buf, sizeof buf, "%.4g", v);
    o << "<text x='2' y='" << py(v) + 4 << "' font-size='10' font-family='sans-serif'>" << buf
      << "</text>";
  }
  for (double v : {x0, x1}) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    o << "<text x='" << px(v) - 10 << "' y='" << h - 12
      << "' font-size='10' font-family='sans-serif'>" << buf << "</text>";
  }
  if (std::isfinite(baseline)) {
    o << "<line x1='" << l << "' y1='" << py(baseline) << "' x2='" << w - r << "' y2='"
      << py(baseline) << "' stroke='#2a2' stroke-dasharray='5,4'/>";
    o << "<text x='" << w - r - 90 << "' y='" << py(baseline) - 4
      << "' font-size='10' fill='#2a2' font-family='sans-serif'>real baseline</text>";
  }
  double legend_x = l;
  for (const auto& s : series) {
    o << "<polyline fill='none' stroke='" << s.color << "' stroke-width='1.5' points='";
    for (auto [x, y] : s.points) {
      if (std::isfinite(y)) o << px(x) << "," << py(y) << " ";
    }
    o << "'/><text x='" << legend_x << "' y='32' font-size='11' fill='" << s.color
      << "' font-family='sans-serif'>" << html_escape(s.name) << "</text>";
    legend_x += 8.0 * static_cast<double>(s.name.size()) + 12;
  }
  o << "</svg>";
  return o.str();
}

}  // namespace

std::string write_report(const std::string& run_dir) {
  const fs::path dir(run_dir);
  GF_CHECK(fs::is_regular_file(dir / "config.json"), run_dir,
           ": not a run directory (no config.json)");
  std::vector<nlohmann::json> lines;
  for (auto& j : read_jsonl((dir / "metrics.jsonl").string())) {
    if (j.contains("step")) lines.push_back(std::move(j));
  }
  auto series = [&](const std::string& key, const std::string& color, const std::string& sub = "") {
    Series s{key, color, {}};
    for (const auto& l : lines) {
      const auto& src = sub.empty() ? l : (l.contains(sub) ? l[sub] : nlohmann::json());
      if (src.is_object() && src.contains(key) && src[key].is_number()) {
        s.points.emplace_back(l["step"].get<double>(), src[key].get<double>());
      }
    }
    return s;
  };
  nlohmann::json baseline;
  if (fs::exists(dir / "eval_baseline.json")) {
    baseline =
        nlohmann::json::parse(read_file((dir / "eval_baseline.json").string()), nullptr, false);
  }
  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset='utf-8'><title>ganforge report: "
       << html_escape(run_dir) << "</title><style>body{font-family:sans-serif;margin:20px;"
       << "background:#fafafa}h2{margin-top:28px}img{image-rendering:pixelated;border:1px solid "
          "#ccc;"
       << "margin:4px}figure{display:inline-block;margin:4px;text-align:center;font-size:12px}"
       << "pre{background:#fff;border:1px solid "
          "#ddd;padding:8px;font-size:11px}</style></head><body>";
  html << "<h1>ganforge run: " << html_escape(fs::path(run_dir).filename().string()) << "</h1>";
  if (!lines.empty()) {
    const auto& last = lines.back();
    html << "<p>" << last["step"] << " steps, epoch " << last.value("epoch", 0) << ", "
         << last.value("time_s", 0.0) << " s of training.</p>";
  }
  html << "<h2>Losses</h2>"
       << svg_chart("loss", {series("loss_d", "#c33"), series("loss_g", "#33c")})
       << svg_chart("D(x) and D(G(z))", {series("d_real", "#c33"), series("d_fake", "#33c")})
       << svg_chart("gradient norms",
                    {series("grad_norm_d", "#c33"), series("grad_norm_g", "#33c")})
       << svg_chart("sample diversity (1 = real data)", {series("diversity", "#939")}, 1.0);
  bool any_eval = false;
  for (const auto& l : lines) any_eval = any_eval || l.contains("eval");
  if (any_eval) {
    html << "<h2>Evaluation</h2>";
    for (const char* key : {"fid", "kid_mean", "is_mean", "precision", "recall", "density",
                            "coverage", "classes_covered", "cond_acc"}) {
      Series s = series(key, "#333", "eval");
      if (s.points.empty()) continue;
      const double base =
          baseline.is_object() && baseline.contains(key) && baseline[key].is_number()
              ? baseline[key].get<double>()
              : NAN;
      html << svg_chart(key, {s}, base);
    }
  }
  std::vector<nlohmann::json> warnings;
  for (const auto& l : lines) {
    if (l.contains("warnings")) {
      for (const auto& w : l["warnings"]) warnings.push_back(w);
    }
  }
  if (!warnings.empty()) {
    html << "<h2>Warnings</h2><ul>";
    for (const auto& w : warnings) html << "<li>" << html_escape(w.get<std::string>()) << "</li>";
    html << "</ul>";
  }
  html << "<h2>Samples over time</h2>";
  std::vector<fs::path> grids;
  if (fs::is_directory(dir / "samples")) {
    for (const auto& e : fs::directory_iterator(dir / "samples")) {
      if (e.path().extension() == ".png") grids.push_back(e.path());
    }
  }
  std::sort(grids.begin(), grids.end());
  // At most 8 frames, always including the first and the last.
  const size_t frames = std::min<size_t>(8, grids.size());
  for (size_t i = 0; i < frames; ++i) {
    const size_t k = frames == 1 ? 0 : i * (grids.size() - 1) / (frames - 1);
    html << "<figure><img width='256' src='data:image/png;base64,"
         << base64(read_file(grids[k].string())) << "'><figcaption>"
         << html_escape(grids[k].stem().string()) << "</figcaption></figure>";
  }
  html << "<h2>Config</h2><pre>" << html_escape(read_file((dir / "config.json").string()))
       << "</pre></body></html>\n";
  const std::string path = (dir / "report.html").string();
  write_file_atomic(path, html.str());
  return path;
}

}  // namespace gf
