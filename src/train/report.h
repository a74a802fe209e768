// report.html for a run directory: loss curves, D(x)/D(G(z)), evaluation metrics over steps with
// the real-vs-real baseline as a dashed line, sample grids over time and the config. Self-contained
// (inline SVG and base64 PNGs), so it opens without a network.
#pragma once

#include <string>

namespace gf {

// Writes RUN_DIR/report.html (atomically) and returns its path. Evaluation charts cover the
// classifier's and the label-free feature space; the last evaluation's memorisation check and
// class histogram (by the config's model.class_names) get their own sections.
std::string write_report(const std::string& run_dir);

// Where training writes the last evaluation's memorisation pairs (Scorer::closest_pairs() as a
// grid, samples above training images), which the report embeds: RUN_DIR/eval/closest_pairs.png.
std::string closest_pairs_path(const std::string& run_dir);

// Text for HTML element content and quoted attributes.
std::string html_escape(const std::string& s);

}  // namespace gf
