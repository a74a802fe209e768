#include "export/onnx_graph.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <stdexcept>

#include "core/error.h"

namespace gf {
namespace {

void set_shape(onnx::ValueInfoProto* v, int32_t type, int64_t batch,
               const std::vector<int64_t>& dims) {
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(type);
  auto* shape = tensor->mutable_shape();
  if (batch > 0) {
    shape->add_dim()->set_dim_value(batch);
  } else {
    shape->add_dim()->set_dim_param("N");
  }
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

void set_attr(onnx::AttributeProto* a, const OnnxAttr& attr) {
  a->set_name(attr.name);
  if (const auto* i = std::get_if<int64_t>(&attr.value)) {
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(*i);
  } else if (const auto* f = std::get_if<float>(&attr.value)) {
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(*f);
  } else if (const auto* s = std::get_if<std::string>(&attr.value)) {
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(*s);
  } else {
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : std::get<std::vector<int64_t>>(attr.value)) a->add_ints(v);
  }
}

}  // namespace

OnnxGraph::OnnxGraph(onnx::GraphProto* graph, int64_t batch) : graph_(graph), batch_(batch) {}

std::string OnnxGraph::input(const std::string& name, int32_t type,
                             const std::vector<int64_t>& dims, const std::string& doc) {
  auto* v = graph_->add_input();
  v->set_name(name);
  v->set_doc_string(doc);
  set_shape(v, type, batch_, dims);
  return name;
}

void OnnxGraph::output(const std::string& value, const std::string& name,
                       const std::vector<int64_t>& dims, const std::string& doc) {
  bool renamed = false;
  for (auto& n : *graph_->mutable_node()) {
    for (auto& out : *n.mutable_output()) {
      if (out == value) {
        out = name;
        renamed = true;
      }
    }
    for (auto& in : *n.mutable_input()) {
      if (in == value) in = name;
    }
  }
  if (!renamed) throw std::logic_error("ONNX export: the output '" + value + "' has no node");
  auto* v = graph_->add_output();
  v->set_name(name);
  v->set_doc_string(doc);
  set_shape(v, onnx::TensorProto::FLOAT, batch_, dims);
}

std::string OnnxGraph::fresh(const std::string& hint) {
  return hint + "_" + std::to_string(counter_++);
}

std::string OnnxGraph::constant(const std::string& hint, const torch::Tensor& t) {
  auto* init = graph_->add_initializer();
  init->set_name(fresh(hint));
  for (int64_t d : t.sizes()) init->add_dims(d);
  torch::Tensor data;
  if (t.is_floating_point()) {
    init->set_data_type(onnx::TensorProto::FLOAT);
    data = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  } else {
    init->set_data_type(onnx::TensorProto::INT64);
    data = t.detach().to(torch::kCPU, torch::kInt64).contiguous();
  }
  // raw_data is little-endian (onnx.proto); so is every machine LibTorch runs on here.
  init->set_raw_data(data.data_ptr(), static_cast<size_t>(data.nbytes()));
  return init->name();
}

std::string OnnxGraph::node(const std::string& op, const std::vector<std::string>& inputs,
                            const std::vector<OnnxAttr>& attrs) {
  auto* n = graph_->add_node();
  n->set_op_type(op);
  n->set_name(fresh(op));
  for (const auto& in : inputs) n->add_input(in);
  for (const auto& a : attrs) set_attr(n->add_attribute(), a);
  const std::string out = n->name() + "_out";
  n->add_output(out);
  return out;
}

void OnnxGraph::use(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) use(p);
  for (const auto& b : module.buffers()) use(b);
}

void OnnxGraph::use(const torch::Tensor& t) {
  if (t.defined()) used_.insert(t.unsafeGetTensorImpl());
}

bool OnnxGraph::used(const torch::Tensor& t) const {
  return used_.count(t.unsafeGetTensorImpl()) > 0;
}

void check_onnx_model(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true,
                                                                   /*strict_mode=*/1));
  } catch (const std::exception& e) {
    throw std::logic_error("ONNX export: ONNX's checker rejects the model: " +
                           first_line(e.what()));
  }
}

}  // namespace gf
