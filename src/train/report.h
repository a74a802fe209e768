// report.html for a run directory: loss curves, D(x)/D(G(z)), evaluation metrics over steps with
// the real-vs-real baseline as a dashed line, sample grids over time and the config. Self-contained
// (inline SVG and base64 PNGs), so it opens without a network.
#pragma once

#include <string>

namespace gf {

// Writes RUN_DIR/report.html (atomically) and returns its path.
std::string write_report(const std::string& run_dir);

}  // namespace gf
