// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the
// raw little-endian tensor bytes. Written atomically; every field validated on read.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gf {

struct SafeTensors {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // read back sorted by name
  std::map<std::string, std::string> metadata;
};

void write_safetensors(const std::string& path, const SafeTensors& st);
// Throws gf::Error naming the file for a bad header, unknown dtype, or offsets outside the file.
SafeTensors read_safetensors(const std::string& path);

}  // namespace gf
