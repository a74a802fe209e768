// A labelled set as an idx pair, the way MNIST ships its splits and `ganforge sample` writes a
// conditional model's samples: images in FILE.idx[.gz] (N x H x W for one channel, idx3 as MNIST;
// N x H x W x C channels last, idx4, for colour) and labels beside them in FILE.labels.idx[.gz]
// (N unsigned bytes). Any MNIST reader opens both files.
#pragma once

#include <torch/types.h>

#include <string>

#include "data/idx.h"
#include "data/idx_dir.h"

namespace gf {

// True for a path ending in ".idx" or ".idx.gz".
bool is_idx_pair_path(const std::string& path);

// The labels file beside an images file: x.idx -> x.labels.idx, x.idx.gz -> x.labels.idx.gz.
std::string idx_labels_path(const std::string& images_path);

// A uint8 tensor as an idx array (its sizes become the idx dimensions).
IdxArray idx_array_of(const torch::Tensor& bytes);

// Writes uint8 pixels [N, H, W, C] (idx3 when C is 1, else idx4) and, when `labels` ([N] int64,
// each 0..255) is defined, the labels file beside them. Each file is written atomically.
void write_idx_pair(const std::string& images_path, const torch::Tensor& pixels,
                    const torch::Tensor& labels);

// Reads an idx pair; `pixels` comes back as uint8 [N, H, W, C] and `labels` as int64 [N]
// (undefined when there is no labels file and `labels_required` is false). gf::Error naming the
// file for a missing file, a count mismatch or a layout other than images.
IdxSplit read_idx_pair(const std::string& images_path, bool labels_required);

}  // namespace gf
