// A small builder over the ONNX project's own protobuf classes (libonnx-dev, onnx/onnx_pb.h):
// constants from LibTorch tensors, nodes with attributes, unique value names, and the record of
// which of the generator's tensors the graph used, so that a parameter no exported layer took is
// an error rather than a silently different model.
#pragma once

#include <onnx/onnx_pb.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace gf {

// One node attribute: an int, a float, a string or a list of ints.
struct OnnxAttr {
  std::string name;
  std::variant<int64_t, float, std::string, std::vector<int64_t>> value;
};

class OnnxGraph {
 public:
  // Builds into `graph` (owned by its ModelProto). `batch`: the batch dimension of the inputs
  // and the output, 0 for a symbolic one ("N").
  OnnxGraph(onnx::GraphProto* graph, int64_t batch);

  // A graph input [batch, dims...] of `type` (onnx::TensorProto::FLOAT, INT64, ...); `doc`
  // describes it to the model's users.
  std::string input(const std::string& name, int32_t type, const std::vector<int64_t>& dims,
                    const std::string& doc);
  // Names the value `value` as the graph output `name` [batch, dims...] (float32); `value` must be
  // the output of a node of this graph.
  void output(const std::string& value, const std::string& name, const std::vector<int64_t>& dims,
              const std::string& doc);

  // A constant (an initializer): floating tensors are stored as float32, integer ones as int64.
  // `hint` becomes part of its name. Returns the value's name.
  std::string constant(const std::string& hint, const torch::Tensor& t);
  // One node with one output; returns the output's name.
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<OnnxAttr>& attrs = {});

  // Records that the graph carries `module`'s parameters and buffers (all of them, recursively).
  void use(const torch::nn::Module& module);
  void use(const torch::Tensor& t);
  bool used(const torch::Tensor& t) const;

 private:
  std::string fresh(const std::string& hint);
  onnx::GraphProto* graph_;
  int64_t batch_;
  int64_t counter_ = 0;
  std::set<const void*> used_;
};

// ONNX's checker and its strict shape inference (which must reproduce the declared output shape);
// a failure is the exporter's bug, so it throws std::logic_error, not gf::Error.
void check_onnx_model(const onnx::ModelProto& model);

}  // namespace gf
