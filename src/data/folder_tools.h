// What `ganforge dataset inspect` and `ganforge dataset pack` do with a folder of images.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "data/dataset.h"

namespace gf {

// Reads every image of the folder (header and full decode) and reports what a user needs before
// training: {"root", "images", "labelled", "classes": [{"name", "images"}], "formats",
// "modes", "sizes" (the 12 most common), "ignored" (other files by extension), "bad":
// [{"file", "reason"}]}.
nlohmann::json inspect_image_folder(const std::string& dir);

// Writes the folder's train and test splits, prepared as `options` say, as an idx directory
// (docs/data.md): {train,t10k}-images-idx4-ubyte, -labels-idx1-ubyte when labelled, classes.txt
// and pack.json (the options and counts). `out` must not exist or be empty; it appears whole
// (written beside it and renamed). Returns pack.json's content.
nlohmann::json pack_image_folder(const DataOptions& options, const std::string& out);

}  // namespace gf
