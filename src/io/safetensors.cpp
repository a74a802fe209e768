#include "io/safetensors.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"

namespace gf {
namespace {

const std::vector<std::pair<std::string, torch::ScalarType>>& dtypes() {
  static const std::vector<std::pair<std::string, torch::ScalarType>> table = {
      {"F32", torch::kFloat32},   {"F64", torch::kFloat64}, {"F16", torch::kFloat16},
      {"BF16", torch::kBFloat16}, {"I64", torch::kInt64},   {"I32", torch::kInt32},
      {"U8", torch::kUInt8}};
  return table;
}

std::string dtype_name(torch::ScalarType t) {
  for (const auto& [name, type] : dtypes()) {
    if (type == t) return name;
  }
  throw Error(concat("safetensors: unsupported tensor type ", c10::toString(t)));
}

constexpr uint64_t kMaxHeader = 100 << 20;

}  // namespace

void write_safetensors(const std::string& path, const SafeTensors& st) {
  nlohmann::json header = nlohmann::json::object();
  if (!st.metadata.empty()) header["__metadata__"] = st.metadata;
  uint64_t offset = 0;
  std::vector<torch::Tensor> blobs;
  for (const auto& [name, t] : st.tensors) {
    auto c = t.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(c.numel()) * c.element_size();
    header[name] = {{"dtype", dtype_name(c.scalar_type())},
                    {"shape", c.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    blobs.push_back(c);
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // align the data to 8 bytes
  std::string out(8, '\0');
  const uint64_t n = head.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += head;
  for (const auto& c : blobs) {
    out.append(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  }
  write_file_atomic(path, out);
}

SafeTensors read_safetensors(const std::string& path) {
  const std::string bytes = read_file(path);
  GF_CHECK(bytes.size() >= 8, path, ": not a safetensors file (shorter than 8 bytes)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  GF_CHECK(n <= kMaxHeader && n <= bytes.size() - 8, path, ": safetensors header length ", n,
           " is larger than the file or the 100 MiB limit");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, n));
  } catch (const nlohmann::json::exception& e) {
    throw Error(concat(path, ": safetensors header is not valid JSON (", e.what(), ")"));
  }
  GF_CHECK(header.is_object(), path, ": safetensors header is not a JSON object");
  const uint64_t data_size = bytes.size() - 8 - n;
  SafeTensors st;
  for (const auto& item : header.items()) {
    const auto& v = item.value();
    if (item.key() == "__metadata__") {
      GF_CHECK(v.is_object(), path, ": __metadata__ must be an object of strings");
      for (const auto& m : v.items()) {
        GF_CHECK(m.value().is_string(), path, ": __metadata__ values must be strings");
        st.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    GF_CHECK(v.is_object() && v.contains("dtype") && v.contains("shape") &&
                 v.contains("data_offsets") && v["dtype"].is_string() && v["shape"].is_array() &&
                 v["data_offsets"].is_array() && v["data_offsets"].size() == 2,
             path, ": tensor '", item.key(), "' lacks dtype, shape or data_offsets");
    torch::ScalarType type = torch::kFloat32;
    bool known = false;
    for (const auto& [name, t] : dtypes()) {
      if (name == v["dtype"].get<std::string>()) type = t, known = true;
    }
    GF_CHECK(known, path, ": tensor '", item.key(), "' has unsupported dtype ", v["dtype"]);
    std::vector<int64_t> shape;
    // The product of the non-zero sizes is bounded before each multiplication: [2^40, 2^24]
    // wrapped to 0 in uint64 and passed, and LibTorch then refused the shape (an internal error).
    uint64_t nonzero = 1;
    bool empty = false;
    for (const auto& d : v["shape"]) {
      GF_CHECK(d.is_number_unsigned() && d.get<uint64_t>() <= (1ULL << 40), path, ": tensor '",
               item.key(), "' has a bad shape");
      const uint64_t size = d.get<uint64_t>();
      shape.push_back(static_cast<int64_t>(size));
      if (size == 0) {
        empty = true;
        continue;
      }
      GF_CHECK(nonzero <= (1ULL << 40) / size, path, ": tensor '", item.key(), "' is too large");
      nonzero *= size;
    }
    const uint64_t numel = empty ? 0 : nonzero;
    const auto& off = v["data_offsets"];
    GF_CHECK(off[0].is_number_unsigned() && off[1].is_number_unsigned(), path, ": tensor '",
             item.key(), "' has bad data_offsets");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    const uint64_t want = numel * c10::elementSize(type);
    GF_CHECK(begin <= end && end <= data_size && end - begin == want, path, ": tensor '",
             item.key(), "' data [", begin, ", ", end, ") does not fit its shape or the file");
    auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
    if (want > 0) std::memcpy(t.data_ptr(), bytes.data() + 8 + n + begin, want);
    st.tensors.emplace_back(item.key(), t);
  }
  return st;
}

}  // namespace gf
