#include "train/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"
#include "core/json_config.h"

namespace gf {

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else if (c == '\'')
      o += "&#39;";
    else
      o += c;
  }
  return o;
}

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
  const bool one_x = !(x1 > x0);  // a single evaluation: one point, one x label
  if (one_x) x1 = x0 + 1;
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
    if (one_x && v == x1) break;
    std::snprintf(buf, sizeof buf, "%.0f", v);
    o << "<text x='" << px(v) << "' y='" << h - 12 << "' text-anchor='"
      << (v == x0 ? "start" : "end") << "' font-size='10' font-family='sans-serif'>" << buf
      << "</text>";
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
    o << "'/>";
    if (s.points.size() <= 30) {  // few points (evaluations): mark each, so one point shows
      for (auto [x, y] : s.points) {
        if (std::isfinite(y)) {
          o << "<circle cx='" << px(x) << "' cy='" << py(y) << "' r='3' fill='" << s.color << "'/>";
        }
      }
    }
    o << "<text x='" << legend_x << "' y='32' font-size='11' fill='" << s.color
      << "' font-family='sans-serif'>" << html_escape(s.name) << "</text>";
    legend_x += 8.0 * static_cast<double>(s.name.size()) + 12;
  }
  o << "</svg>";
  return o.str();
}

using Json = nlohmann::json;

// The value at `path` inside `j` (null when any step is missing).
Json at_path(const Json& j, const std::vector<std::string>& path) {
  const Json* p = &j;
  for (const auto& key : path) {
    if (!p->is_object() || !p->contains(key)) return Json();
    p = &(*p)[key];
  }
  return *p;
}

std::string number(double v, const char* format = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// The run's metrics.jsonl lines and evaluation baseline, and the class names of its config.
struct RunRecords {
  std::vector<Json> lines;
  Json baseline;
  std::vector<std::string> class_names;  // from model.class_names, else "0", "1", ...
  int64_t classes = 0;                   // of a conditional model (one per grid column)

  Series series(const std::string& name, const std::vector<std::string>& path,
                const std::string& color) const {
    Series s{name, color, {}};
    for (const auto& l : lines) {
      const Json v = at_path(l, path);
      if (v.is_number()) s.points.emplace_back(l["step"].get<double>(), v.get<double>());
    }
    return s;
  }
  // The last line whose value at `path` exists.
  Json last(const std::vector<std::string>& path) const {
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      Json v = at_path(*it, path);
      if (!v.is_null()) return v;
    }
    return Json();
  }
};

RunRecords read_records(const fs::path& dir) {
  RunRecords r;
  for (auto& j : read_jsonl((dir / "metrics.jsonl").string())) {
    if (j.contains("step")) r.lines.push_back(std::move(j));
  }
  if (fs::exists(dir / "eval_baseline.json")) {
    r.baseline = Json::parse(read_file((dir / "eval_baseline.json").string()), nullptr, false);
  }
  const Json config = Json::parse(read_file((dir / "config.json").string()), nullptr, false);
  const Json model = at_path(config, {"model"});
  const Json names = at_path(model, {"class_names"});
  const Json n = at_path(model, {"num_classes"});
  const int64_t num_classes = n.is_number_integer() ? n.get<int64_t>() : 0;
  for (int64_t i = 0; i < num_classes; ++i) {
    const bool named = names.is_array() && static_cast<int64_t>(names.size()) == num_classes &&
                       names[i].is_string();
    r.class_names.push_back(named ? names[i].get<std::string>() : std::to_string(i));
  }
  const Json conditional = at_path(model, {"conditional"});
  if (conditional.is_string() && conditional.get<std::string>() != "none") r.classes = num_classes;
  return r;
}

// Charts of the evaluation metrics over steps, each with its real-vs-real baseline dashed:
// the classifier's space, then the label-free space (eval.label_free).
void write_evaluation(std::ostringstream& html, const RunRecords& r) {
  bool any_eval = false;
  for (const auto& l : r.lines) any_eval = any_eval || l.contains("eval");
  if (!any_eval) return;
  html << "<h2>Evaluation</h2>";
  auto charts = [&](const std::vector<std::string>& prefix, const std::vector<const char*>& keys,
                    const std::string& suffix) {
    for (const char* key : keys) {
      std::vector<std::string> path = prefix;
      path.push_back(key);
      Series s = r.series(key, path, "#333");
      if (s.points.empty()) continue;
      path.erase(path.begin());  // the baseline file mirrors the "eval" object
      const Json base = at_path(r.baseline, path);
      html << svg_chart(key + suffix, {s}, base.is_number() ? base.get<double>() : NAN);
    }
  };
  charts({"eval"},
         {"fid", "kid_mean", "is_mean", "precision", "recall", "density", "coverage",
          "classes_covered", "cond_acc"},
         "");
  if (!r.last({"eval", "label_free"}).is_null()) {
    html << "<h3>Label-free feature space (random CNN)</h3>";
    charts({"eval", "label_free"},
           {"fid", "kid_mean", "precision", "recall", "density", "coverage"}, " (label-free)");
  }
}

// The last evaluation's memorisation check: its share and threshold, and the closest pairs as a
// picture (closest_pairs_path) or, without one, as indices.
void write_memorisation(std::ostringstream& html, const RunRecords& r, const fs::path& dir) {
  const Json m = r.last({"eval", "memorisation"});
  if (!m.is_object()) return;
  html << "<h2>Memorisation</h2><p>" << number(100.0 * m.value("share", 0.0), "%.2f")
       << " % of the generated samples lie closer to a training image than "
       << number(100.0 * (1.0 - m.value("quantile", 0.0)), "%.0f")
       << " % of real test images do (threshold: pixel distance "
       << number(m.value("threshold", 0.0)) << "; real held-out images score about "
       << number(100.0 * m.value("quantile", 0.0), "%.0f") << " %). ";
  if (m.value("flagged", false)) {
    html << "<b style='color:#c33'>Flagged: the generator may be copying its training set.</b>";
  } else {
    html << "Not flagged.";
  }
  html << "</p>";
  const fs::path picture = closest_pairs_path(dir.string());
  if (fs::exists(picture)) {
    html << "<figure><img width='512' src='data:image/png;base64,"
         << base64(read_file(picture.string()))
         << "'><figcaption>closest pairs: generated samples (top) and their nearest training "
            "images (bottom)</figcaption></figure>";
  }
  if (m.contains("closest") && m["closest"].is_array() && !m["closest"].empty()) {
    html << "<table><tr><th>sample</th><th>training image</th><th>distance</th></tr>";
    for (const auto& c : m["closest"]) {
      html << "<tr><td>" << c.value("sample_index", -1) << "</td><td>" << c.value("train_index", -1)
           << "</td><td>" << number(c.value("distance", 0.0)) << "</td></tr>";
    }
    html << "</table>";
  }
}

// The last evaluation's predicted-class histogram beside the real test split's, by class name.
void write_classes(std::ostringstream& html, const RunRecords& r) {
  const Json hist = r.last({"eval", "class_histogram"});
  if (!hist.is_array() || hist.empty()) return;
  const Json real = at_path(r.baseline, {"class_histogram"});
  html << "<h2>Classes (last evaluation)</h2><table><tr><th>class</th><th>generated</th>"
       << "<th>real baseline</th></tr>";
  for (size_t i = 0; i < hist.size(); ++i) {
    const std::string name =
        i < r.class_names.size() ? r.class_names[i] : std::to_string(static_cast<int64_t>(i));
    html << "<tr><td>" << html_escape(name) << "</td><td>" << number(hist[i].get<double>(), "%.3f")
         << "</td><td>"
         << (real.is_array() && i < real.size() ? number(real[i].get<double>(), "%.3f") : "-")
         << "</td></tr>";
  }
  html << "</table>";
}

// Sample grids over time (PNG files, grey or colour, embedded as they are): at most 8 frames,
// always including the first and the last.
void write_samples(std::ostringstream& html, const RunRecords& r, const fs::path& dir) {
  html << "<h2>Samples over time</h2>";
  if (r.classes > 0) {
    html << "<p>One class per column, left to right: ";
    for (int64_t i = 0; i < r.classes; ++i) {
      html << (i > 0 ? ", " : "") << html_escape(r.class_names[i]);
    }
    html << ".</p>";
  }
  std::vector<fs::path> grids;
  if (fs::is_directory(dir / "samples")) {
    for (const auto& e : fs::directory_iterator(dir / "samples")) {
      if (e.path().extension() == ".png") grids.push_back(e.path());
    }
  }
  std::sort(grids.begin(), grids.end());
  const size_t frames = std::min<size_t>(8, grids.size());
  for (size_t i = 0; i < frames; ++i) {
    const size_t k = frames == 1 ? 0 : i * (grids.size() - 1) / (frames - 1);
    html << "<figure><img width='256' src='data:image/png;base64,"
         << base64(read_file(grids[k].string())) << "'><figcaption>"
         << html_escape(grids[k].stem().string()) << "</figcaption></figure>";
  }
}

// The page of the run in `dir`, whose metrics were read into `r`.
std::string report_page(const std::string& run_dir, const fs::path& dir, const RunRecords& r) {
  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset='utf-8'><title>ganforge report: "
       << html_escape(run_dir) << "</title><style>body{font-family:sans-serif;margin:20px;"
       << "background:#fafafa}h2{margin-top:28px}img{image-rendering:pixelated;border:1px solid "
          "#ccc;"
       << "margin:4px}figure{display:inline-block;margin:4px;text-align:center;font-size:12px}"
       << "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;"
       << "padding:2px 8px;text-align:right}"
       << "pre{background:#fff;border:1px solid "
          "#ddd;padding:8px;font-size:11px}</style></head><body>";
  html << "<h1>ganforge run: " << html_escape(fs::path(run_dir).filename().string()) << "</h1>";
  if (!r.lines.empty()) {
    const auto& last = r.lines.back();
    html << "<p>" << last["step"] << " steps, epoch " << last.value("epoch", 0) << ", "
         << last.value("time_s", 0.0) << " s of training.</p>";
  }
  html << "<h2>Losses</h2>"
       << svg_chart("loss", {r.series("loss_d", {"loss_d"}, "#c33"),
                             r.series("loss_g", {"loss_g"}, "#33c")})
       << svg_chart("D(x) and D(G(z))", {r.series("d_real", {"d_real"}, "#c33"),
                                         r.series("d_fake", {"d_fake"}, "#33c")})
       << svg_chart("gradient norms", {r.series("grad_norm_d", {"grad_norm_d"}, "#c33"),
                                       r.series("grad_norm_g", {"grad_norm_g"}, "#33c")})
       << svg_chart("sample diversity (1 = real data)",
                    {r.series("diversity", {"diversity"}, "#939")}, 1.0);
  write_evaluation(html, r);
  write_memorisation(html, r, dir);
  write_classes(html, r);
  std::vector<Json> warnings;
  for (const auto& l : r.lines) {
    if (l.contains("warnings")) {
      for (const auto& w : l["warnings"]) warnings.push_back(w);
    }
  }
  if (!warnings.empty()) {
    html << "<h2>Warnings</h2><ul>";
    for (const auto& w : warnings) html << "<li>" << html_escape(w.get<std::string>()) << "</li>";
    html << "</ul>";
  }
  write_samples(html, r, dir);
  html << "<h2>Config</h2><pre>" << html_escape(read_file((dir / "config.json").string()))
       << "</pre></body></html>\n";
  return html.str();
}

}  // namespace

std::string closest_pairs_path(const std::string& run_dir) {
  return (fs::path(run_dir) / "eval" / "closest_pairs.png").string();
}

std::string write_report(const std::string& run_dir) {
  const fs::path dir(run_dir);
  GF_CHECK(fs::is_regular_file(dir / "config.json"), run_dir,
           ": not a run directory (no config.json)");
  const RunRecords r = read_records(dir);
  // metrics.jsonl is the run's own file, but a line whose values have other types (a damaged or
  // hand-edited file) is an error naming it, not an "internal error".
  const std::string page =
      read_json_values((dir / "metrics.jsonl").string() + " or eval_baseline.json",
                       [&] { return report_page(run_dir, dir, r); });
  const std::string path = (dir / "report.html").string();
  write_file_atomic(path, page);
  return path;
}

}  // namespace gf
