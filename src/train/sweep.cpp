#include "train/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/file.h"
#include "core/json_config.h"
#include "core/log.h"
#include "eval/evaluate.h"
#include "io/checkpoint.h"
#include "train/config.h"
#include "train/report.h"
#include "train/run.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

// "a,[1,2],\"b,c\"" -> {"a", "[1,2]", "b,c"}: commas inside brackets or double quotes belong to
// the value; a value wholly in double quotes loses them (a string with commas, like
// train.augment's "translation,cutout").
std::vector<std::string> split_values(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == '[' || c == '{')) ++depth;
    if (!quoted && (c == ']' || c == '}')) --depth;
    if (c == ',' && depth == 0 && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  for (auto& v : out) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  }
  return out;
}

// The part of a value that is safe in a directory name.
std::string slug(const std::string& s) {
  std::string o;
  for (char c : s) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-' || c == '_';
    o += ok ? c : '_';
  }
  return o.substr(0, 40);
}

std::optional<double> number_at(const nlohmann::json& j, const std::vector<std::string>& path) {
  const nlohmann::json* cur = &j;
  for (const auto& k : path) {
    if (!cur->is_object() || !cur->contains(k)) return std::nullopt;
    cur = &(*cur)[k];
  }
  if (!cur->is_number()) return std::nullopt;
  return cur->get<double>();
}

std::string cell(const std::optional<double>& v, int digits) {
  if (!v) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, *v);
  return buf;
}

// The sweep's definition: a rerun must match it, so that finished settings mean the same thing.
nlohmann::json definition(const SweepRequest& r) {
  return {{"config", r.config_path}, {"grid", r.grid},          {"set", r.overrides},
          {"data", r.data_dir},      {"time", r.time},          {"steps", r.steps},
          {"eval_n", r.eval_n},      {"evaluator", r.evaluator}};
}

std::string result_path(const std::string& run_dir) {
  return (fs::path(run_dir) / "sweep_result.json").string();
}

// A setting's sweep_result.json, as an earlier run of this sweep wrote it. The tables read its
// values by type, so a damaged or hand-edited file is an error naming it.
nlohmann::json read_result(const std::string& path, const SweepSetting& s) {
  const nlohmann::json row = read_json_file(path);
  const auto string_or_absent = [&](const char* key) {
    return !row.contains(key) || row[key].is_string();
  };
  const bool ok = row.is_object() && row.value("id", nlohmann::json()) == s.id &&
                  row.value("assignments", nlohmann::json()) == nlohmann::json(s.assignments) &&
                  (row.value("status", nlohmann::json()) == "done" ||
                   row.value("status", nlohmann::json()) == "failed") &&
                  string_or_absent("samples") && string_or_absent("error");
  GF_CHECK(ok, path, ": not a result of setting ", s.id,
           " (an id, its assignments, a status of done or failed); remove it to train the ",
           "setting again");
  return row;
}

// Trains (or resumes) one setting and evaluates it; the row for the tables.
nlohmann::json train_and_evaluate(const SweepRequest& r, const SweepSetting& s,
                                  const std::string& run_dir) {
  nlohmann::json row = {{"id", s.id}, {"assignments", s.assignments}, {"run", run_dir}};
  TrainRequest t;
  const bool started = fs::is_directory(run_dir) && !list_checkpoints(run_dir).empty();
  if (started) {
    t.resume = run_dir;
  } else {
    t.config_path = r.config_path;
    t.out = run_dir;
    t.overwrite = true;  // a directory without checkpoints is a start that wrote nothing to keep
    t.data_dir = r.data_dir;
    t.overrides = r.overrides;
    t.overrides.insert(t.overrides.end(), s.assignments.begin(), s.assignments.end());
    t.overrides.push_back("name=" + s.id);
    // The sweep evaluates once at the end, with its own sample count.
    t.overrides.push_back("eval.every=0");
  }
  t.time = r.time;
  t.steps = r.steps;
  t.threads = r.threads;
  try {
    const TrainResult tr = run_training(t);
    // The last grid (a resumed setting that had nothing left to train wrote none this time).
    std::string grid = tr.samples;
    if (grid.empty()) {
      for (const auto& e : fs::directory_iterator(fs::path(run_dir) / "samples")) {
        if (e.path().extension() == ".png" && e.path().string() > grid) grid = e.path().string();
      }
    }
    if (!grid.empty()) {
      row["samples"] = fs::relative(grid, fs::path(run_dir).parent_path()).string();
    }
    const std::string metrics = (fs::path(run_dir) / "metrics.jsonl").string();
    const auto last = read_jsonl(metrics);
    read_json_values(metrics, [&] {
      row["steps"] = last.empty() ? 0 : last.back().value("step", int64_t{0});
      row["train_s"] = last.empty() ? 0.0 : last.back().value("time_s", 0.0);
      if (started) {
        // A resumed setting's training time: the budget's account, or this invocation's.
        row["train_s"] = last.empty() ? tr.seconds : last.back().value("budget_used_s", tr.seconds);
      }
    });
    row["ms_per_step"] = tr.ms_per_step;
    EvalRequest e;
    e.source = run_dir;
    e.n = r.eval_n;
    e.evaluator = r.evaluator;
    const nlohmann::json ev = evaluate(e);
    row["eval"] = {{"metrics", ev["metrics"]}, {"baseline", ev["baseline"]}};
    const auto fid = headline_fid(ev["metrics"]);
    row["fid"] = fid ? nlohmann::json(*fid) : nlohmann::json();
    row["status"] = "done";
  } catch (const Error& e) {
    log_info("sweep: setting ", s.id, " failed: ", e.what());
    row["status"] = "failed";
    row["error"] = e.what();
  }
  return row;
}

std::string assignments_text(const nlohmann::json& row) {
  std::string o;
  for (const auto& a : row["assignments"]) o += (o.empty() ? "" : ", ") + a.get<std::string>();
  return o.empty() ? "(the config as is)" : o;
}

// The classifier-space (or label-free) metric `key` and its baseline.
std::optional<double> metric(const nlohmann::json& row, const std::string& key) {
  if (!row.contains("eval")) return std::nullopt;
  if (auto v = number_at(row["eval"], {"metrics", key})) return v;
  return number_at(row["eval"], {"metrics", "label_free", key});
}

std::string write_tables(const std::string& dir, const nlohmann::json& rows,
                         const std::string& title, SweepSummary& summary) {
  std::ostringstream md;
  md << "# " << title << "\n\nRanked by FID (lower is better); the baseline is real test images"
     << " against real training images with the same evaluator and sample count.\n\n"
     << "| rank | setting | status | steps | train s | FID | FID / baseline | precision | "
        "recall | label-free FID | run |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  std::ostringstream html;
  html << "<!doctype html><meta charset='utf-8'><title>" << html_escape(title) << "</title>"
       << "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;"
          "padding:4px 8px;vertical-align:top}table{border-collapse:collapse}"
          "img{width:240px;image-rendering:pixelated}</style><h1>"
       << html_escape(title) << "</h1><table><tr><th>rank</th><th>setting</th><th>FID</th>"
       << "<th>baseline</th><th>precision / recall</th><th>label-free FID</th><th>steps</th>"
          "<th>samples</th></tr>";
  int rank = 0;
  for (const auto& row : rows) {
    const std::string status = row.value("status", "pending");
    const auto fid = row.contains("fid") && row["fid"].is_number()
                         ? std::optional<double>(row["fid"].get<double>())
                         : std::nullopt;
    const auto base = number_at(row, {"eval", "baseline", "fid"})
                          ? number_at(row, {"eval", "baseline", "fid"})
                          : number_at(row, {"eval", "baseline", "label_free", "fid"});
    const auto ratio =
        fid && base && *base > 0 ? std::optional<double>(*fid / *base) : std::nullopt;
    const auto lf = number_at(row, {"eval", "metrics", "label_free", "fid"});
    const std::string r = status == "done" ? std::to_string(++rank) : "-";
    const std::string steps = row.contains("steps") ? row["steps"].dump() : "-";
    md << "| " << r << " | " << assignments_text(row) << " | " << status << " | " << steps << " | "
       << cell(number_at(row, {"train_s"}), 0) << " | " << cell(fid, 2) << " | "
       << (ratio ? cell(ratio, 2) + "x" : "-") << " | " << cell(metric(row, "precision"), 2)
       << " | " << cell(metric(row, "recall"), 2) << " | " << cell(lf, 2) << " | "
       << row.value("id", "") << " |\n";
    html << "<tr><td>" << r << "</td><td>" << html_escape(assignments_text(row)) << "<br><small>"
         << html_escape(row.value("id", "")) << " " << html_escape(status) << " "
         << html_escape(row.value("error", "")) << "</small></td><td>" << cell(fid, 2)
         << "</td><td>" << cell(base, 2) << "</td><td>" << cell(metric(row, "precision"), 2)
         << " / " << cell(metric(row, "recall"), 2) << "</td><td>" << cell(lf, 2) << "</td><td>"
         << html_escape(steps) << "</td><td>";
    if (row.contains("samples")) {
      html << "<img src=\"" << html_escape(row["samples"].get<std::string>()) << "\" alt=\"\">";
    }
    html << "</td></tr>";
  }
  html << "</table>";
  summary.markdown = (fs::path(dir) / "results.md").string();
  summary.json = (fs::path(dir) / "results.json").string();
  summary.page = (fs::path(dir) / "index.html").string();
  write_file_atomic(summary.markdown, md.str());
  write_file_atomic(summary.json, nlohmann::json{{"rows", rows}}.dump(2) + "\n");
  write_file_atomic(summary.page, html.str());
  return md.str();
}

}  // namespace

std::vector<SweepSetting> expand_grid(const std::vector<std::string>& grid) {
  std::vector<std::pair<std::string, std::vector<std::string>>> axes;
  std::set<std::string> keys;
  for (const auto& g : grid) {
    const auto eq = g.find('=');
    GF_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < g.size(), "--grid '", g,
             "': expected key=value1,value2,... (like train.lr_g=1e-4,2e-4)");
    const std::string key = g.substr(0, eq);
    GF_CHECK(keys.insert(key).second, "--grid: ", key, " is given twice");
    auto values = split_values(g.substr(eq + 1));
    for (const auto& v : values) GF_CHECK(!v.empty(), "--grid '", g, "': an empty value");
    axes.emplace_back(key, std::move(values));
  }
  std::vector<SweepSetting> out(1);
  for (const auto& [key, values] : axes) {
    std::vector<SweepSetting> next;
    for (const auto& s : out) {
      for (const auto& v : values) {
        SweepSetting t = s;
        t.assignments.push_back(key + "=" + v);
        next.push_back(std::move(t));
      }
    }
    out = std::move(next);
  }
  GF_CHECK(out.size() <= 10000, "--grid: ", out.size(), " settings is more than 10,000");
  for (size_t i = 0; i < out.size(); ++i) {
    char num[32];
    std::snprintf(num, sizeof num, "%02zu", i + 1);
    std::string id = num;
    for (const auto& a : out[i].assignments) {
      const auto eq = a.find('=');
      const auto dot = a.rfind('.', eq);
      id += "-" + a.substr(dot == std::string::npos ? 0 : dot + 1, eq - (dot + 1)) + "=" +
            slug(a.substr(eq + 1));
    }
    out[i].id = id;
  }
  return out;
}

std::vector<SweepSetting> checked_settings(const SweepRequest& request, std::string* name) {
  const auto settings = expand_grid(request.grid);
  for (const auto& s : settings) {
    std::vector<std::string> o = request.overrides;
    o.insert(o.end(), s.assignments.begin(), s.assignments.end());
    const std::string config_name = load_run_config(request.config_path, o).name;
    if (name) *name = config_name;
  }
  for (const auto& id : request.only) {
    const bool known = std::any_of(settings.begin(), settings.end(),
                                   [&](const SweepSetting& s) { return s.id == id; });
    GF_CHECK(known, "--only ", id, ": no such setting (`ganforge sweep ... --list` shows them)");
  }
  return settings;
}

SweepSummary run_sweep(const SweepRequest& request) {
  GF_CHECK(request.eval_n >= 20, "--eval-n must be at least 20");
  std::string name = "sweep";
  const auto settings = checked_settings(request, &name);
  std::set<std::string> only(request.only.begin(), request.only.end());

  SweepSummary summary;
  summary.dir = request.out.empty() ? "runs/sweep-" + name : request.out;
  fs::create_directories(summary.dir);
  const std::string def_path = (fs::path(summary.dir) / "sweep.json").string();
  if (fs::exists(def_path)) {
    GF_CHECK(read_json_file(def_path) == definition(request), summary.dir,
             " holds a different sweep (see its sweep.json); use another --out");
  } else {
    write_file_atomic(def_path, definition(request).dump(2) + "\n");
  }

  nlohmann::json rows = nlohmann::json::array();
  for (const auto& s : settings) {
    const std::string run_dir = (fs::path(summary.dir) / s.id).string();
    const std::string done = result_path(run_dir);
    nlohmann::json row;
    if (fs::exists(done)) {
      row = read_result(done, s);
      ++summary.skipped;
      log_info("sweep: ", s.id, " finished earlier (", row.value("status", "?"), "), skipped");
    } else if (!only.empty() && only.count(s.id) == 0) {
      row = {{"id", s.id}, {"assignments", s.assignments}, {"status", "pending"}};
      ++summary.pending;
    } else {
      log_info("sweep: setting ", s.id, " (", rows.size() + 1, " of ", settings.size(), ")");
      row = train_and_evaluate(request, s, run_dir);
      write_file_atomic(done, row.dump(2) + "\n");
      ++(row["status"] == "done" ? summary.trained : summary.failed);
    }
    rows.push_back(row);
  }
  // Best first: finished settings by FID, then failed and pending ones in grid order.
  auto key = [](const nlohmann::json& r) {
    const bool ok = r.value("status", "") == "done" && r.contains("fid") && r["fid"].is_number();
    return std::make_pair(ok ? 0 : 1,
                          ok ? r["fid"].get<double>() : std::numeric_limits<double>::infinity());
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const nlohmann::json& a, const nlohmann::json& b) {
    return key(a) < key(b);
  });
  summary.rows = rows;
  write_tables(summary.dir, rows,
               "Sweep of " + (request.config_path.empty() ? "the defaults" : request.config_path),
               summary);
  return summary;
}

}  // namespace gf
