// Checkpoint files (io/checkpoint.h) as `info`, `sample` and `serve` read them: CheckpointReader
// (the LibTorch archive, format tag, version, metadata), its sections, and, when the model spec
// in the metadata is small, load_generator (the spec validated, G built, its weights loaded).
//
// A checkpoint is a zip of stored members with CRC-32s, so most byte mutations of a whole file
// only test the CRC check. Two input forms therefore:
//   - a file as it is (anything that does not start with "@@ "), e.g. a real checkpoint;
//   - its members, "@@ <name>\n<bytes>" one after the other (tests/fuzz/make_corpus.sh unpacks
//     a real checkpoint so), which the harness packs into a zip with correct CRCs: mutations
//     then reach the pickled metadata, the TorchScript code and the tensor records.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/checkpoint.h"
#include "models/generator_file.h"

namespace {

struct Member {
  std::string name, data;
};

// "@@ name\n<data>" repeated; the data runs to the next "\n@@ " or the end.
std::vector<Member> split_members(const std::string& in) {
  std::vector<Member> out;
  size_t pos = 0;
  while (pos < in.size() && in.compare(pos, 3, "@@ ") == 0) {
    const size_t eol = in.find('\n', pos);
    if (eol == std::string::npos) break;
    Member m;
    m.name = in.substr(pos + 3, eol - pos - 3);
    const size_t next = in.find("\n@@ ", eol + 1);
    const size_t end = next == std::string::npos ? in.size() : next;
    m.data = in.substr(eol + 1, end - eol - 1);
    out.push_back(std::move(m));
    pos = next == std::string::npos ? in.size() : next + 1;
  }
  return out;
}

void put16(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>((v >> 8) & 0xff));
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

// A zip of stored (uncompressed) members (PKWARE APPNOTE 4.3: local headers, central directory,
// end record), as LibTorch writes its archives.
std::string make_zip(const std::vector<Member>& members) {
  std::string zip, dir;
  for (const auto& m : members) {
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(m.data.data()), static_cast<uInt>(m.data.size())));
    const uint32_t offset = static_cast<uint32_t>(zip.size());
    const auto size = static_cast<uint32_t>(m.data.size());
    const auto name_len = static_cast<uint32_t>(m.name.size() & 0xffff);
    put32(zip, 0x04034b50);
    put16(zip, 20), put16(zip, 0), put16(zip, 0), put16(zip, 0), put16(zip, 0);
    put32(zip, crc), put32(zip, size), put32(zip, size);
    put16(zip, name_len), put16(zip, 0);
    zip.append(m.name, 0, name_len);
    zip += m.data;
    put32(dir, 0x02014b50);
    put16(dir, 20), put16(dir, 20), put16(dir, 0), put16(dir, 0), put16(dir, 0), put16(dir, 0);
    put32(dir, crc), put32(dir, size), put32(dir, size);
    put16(dir, name_len), put16(dir, 0), put16(dir, 0), put16(dir, 0), put16(dir, 0);
    put32(dir, 0), put32(dir, offset);
    dir.append(m.name, 0, name_len);
  }
  const auto dir_offset = static_cast<uint32_t>(zip.size());
  zip += dir;
  put32(zip, 0x06054b50);
  put16(zip, 0), put16(zip, 0);
  put16(zip, static_cast<uint32_t>(members.size())),
      put16(zip, static_cast<uint32_t>(members.size()));
  put32(zip, static_cast<uint32_t>(dir.size())), put32(zip, dir_offset);
  put16(zip, 0);
  return zip;
}

void read_checkpoint(const std::string& path) {
  gf::CheckpointReader r(path);
  FUZZ_CHECK(r.meta().is_object() && r.meta().contains("model") && r.meta().contains("step"),
             "checkpoint: an accepted file has its metadata");
  for (const char* name : {"G", "D", "G_ema", "opt_G", "opt_D", "rng"}) r.has(name);
  gf::ModelSpec spec;
  try {
    spec = gf::ModelSpec::from_json(r.meta().at("model"));
    spec.validate();
  } catch (const nlohmann::json::exception& e) {
    gf::fuzz::refused(e);
    return;  // load_generator turns these into gf::Error ("bad model spec in checkpoint")
  }
  if (!gf::fuzz::small_model(spec)) return;
  const gf::LoadedGenerator g = gf::load_generator(path);
  FUZZ_CHECK(g.g != nullptr, "checkpoint: load_generator returns a generator");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gf::fuzz::ScratchFile file(".ckpt");
  const std::string in(reinterpret_cast<const char*>(data), size);
  if (in.compare(0, 3, "@@ ") == 0) {
    const std::string zip = make_zip(split_members(in));
    gf::fuzz::write_scratch(file.path, reinterpret_cast<const uint8_t*>(zip.data()), zip.size());
  } else {
    gf::fuzz::write_scratch(file.path, data, size);
  }
  try {
    read_checkpoint(file.path);
  } catch (const gf::Error& e) {
    gf::fuzz::refused(e);
  }
  return 0;
}
