//===- MoEOps.cpp - moe operation verifiers -------------------------------===//
//
// Every invariant an op's description states is checked here. Dimensions are
// compared only when both sides are static.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::moe;

#define GET_OP_CLASSES
#include "moe/Dialect/MoE/IR/MoEOps.cpp.inc"

namespace {

RankedTensorType tensorType(Value v) {
  return v ? cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

/// True when two dimension sizes are known to differ.
bool differ(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

std::string dimString(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

LogicalResult expectRank(Operation *op, Value v, StringRef name,
                         int64_t rank) {
  if (tensorType(v).getRank() != rank)
    return op->emitOpError() << name << " must have rank " << rank
                             << ", got " << tensorType(v).getRank();
  return success();
}

/// Checks `name`'s dimension `dim` against `expected` (what it should equal).
LogicalResult expectDim(Operation *op, Value v, StringRef name, int64_t dim,
                        int64_t expected, StringRef what) {
  int64_t actual = tensorType(v).getDimSize(dim);
  if (differ(actual, expected))
    return op->emitOpError()
           << name << " dimension " << dim << " must equal " << what << " ("
           << dimString(expected) << "), got " << dimString(actual);
  return success();
}

LogicalResult expectSameElementType(Operation *op, Value a, StringRef aName,
                                    Value b, StringRef bName) {
  if (tensorType(a).getElementType() != tensorType(b).getElementType())
    return op->emitOpError() << aName << " and " << bName
                             << " must have the same element type";
  return success();
}

/// The weights of FFN experts, with `lead` leading expert dimensions (1 for
/// grouped experts [E, ...], 0 for a shared expert).
struct FFNOperands {
  Value fc1, fc1Bias, fc2, fc2Bias, fc3, fc3Bias;
};

/// Verifies fc1 [E, f*I, H], fc2 [E, H, I], fc3 [E, I, H] and their biases
/// against the hidden size and the activation. Returns the expert count.
FailureOr<int64_t> verifyFFN(Operation *op, const FFNOperands &w,
                             ActivationConfigAttr act, int64_t hidden,
                             int64_t lead) {
  int64_t rank = lead + 2;
  if (failed(expectRank(op, w.fc1, "fc1 weights", rank)) ||
      failed(expectRank(op, w.fc2, "fc2 weights", rank)))
    return failure();
  if (w.fc3 && failed(expectRank(op, w.fc3, "fc3 weights", rank)))
    return failure();
  if (!w.fc3 && w.fc3Bias)
    return op->emitOpError("fc3 bias requires fc3 weights");
  if (w.fc3 && act.getKind() == Activation::swiglu)
    return op->emitOpError(
        "the fused swiglu activation cannot be combined with fc3 weights");

  for (auto [v, name] : {std::pair{w.fc2, "fc2 weights"},
                         std::pair{w.fc3, "fc3 weights"}})
    if (v && failed(expectSameElementType(op, w.fc1, "fc1 weights", v, name)))
      return failure();

  auto fc1 = tensorType(w.fc1), fc2 = tensorType(w.fc2);
  int64_t experts = lead ? fc1.getDimSize(0) : 1;
  int64_t inter = fc2.getDimSize(lead + 1);
  int64_t f = act.fc1RowsPerUnit();
  int64_t fc1Rows = ShapedType::isDynamic(inter) ? inter : f * inter;

  if (lead && failed(expectDim(op, w.fc2, "fc2 weights", 0, experts,
                               "the number of experts of fc1")))
    return failure();
  if (failed(expectDim(op, w.fc1, "fc1 weights", lead + 1, hidden,
                       "the hidden size")) ||
      failed(expectDim(op, w.fc2, "fc2 weights", lead, hidden,
                       "the hidden size")) ||
      failed(expectDim(op, w.fc1, "fc1 weights", lead, fc1Rows,
                       f == 2 ? "2 x the fc2 inner size (swiglu)"
                              : "the fc2 inner size")))
    return failure();
  if (w.fc3) {
    if ((lead && failed(expectDim(op, w.fc3, "fc3 weights", 0, experts,
                                  "the number of experts of fc1"))) ||
        failed(expectDim(op, w.fc3, "fc3 weights", lead, inter,
                         "the fc2 inner size")) ||
        failed(expectDim(op, w.fc3, "fc3 weights", lead + 1, hidden,
                         "the hidden size")))
      return failure();
  }

  // Biases: [E, rows of the matching weight].
  for (auto [bias, weight, name] :
       {std::tuple{w.fc1Bias, w.fc1, "fc1 bias"},
        std::tuple{w.fc2Bias, w.fc2, "fc2 bias"},
        std::tuple{w.fc3Bias, w.fc3, "fc3 bias"}}) {
    if (!bias)
      continue;
    if (failed(expectRank(op, bias, name, lead + 1)) ||
        failed(expectSameElementType(op, w.fc1, "fc1 weights", bias, name)))
      return failure();
    if (lead && failed(expectDim(op, bias, name, 0, experts,
                                 "the number of experts of fc1")))
      return failure();
    if (failed(expectDim(op, bias, name, lead,
                         tensorType(weight).getDimSize(lead),
                         "the rows of its weights")))
      return failure();
  }
  return experts;
}

/// Verifies the three tensors of the ragged layout: [N] tokens, [N] weights.
LogicalResult verifyRowVectors(Operation *op, Value rowToken,
                               Value rowWeight) {
  if (failed(expectRank(op, rowToken, "row_token", 1)) ||
      failed(expectRank(op, rowWeight, "row_weight", 1)) ||
      failed(expectDim(op, rowWeight, "row_weight", 0,
                       tensorType(rowToken).getDimSize(0),
                       "the number of rows of row_token")))
    return failure();
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// LayerOp
//===----------------------------------------------------------------------===//

LogicalResult LayerOp::verify() {
  auto input = getInput().getType();
  if (input.getRank() != 2 && input.getRank() != 3)
    return emitOpError() << "input must be [T, H] or [B, S, H], got rank "
                         << input.getRank();
  if (getOutput().getType() != input)
    return emitOpError("result type must equal the input type");
  if (failed(expectRank(*this, getRouterLogits(), "router_logits", 2)))
    return failure();

  int64_t tokens = input.getRank() == 2
                       ? input.getDimSize(0)
                       : (input.isDynamicDim(0) || input.isDynamicDim(1)
                              ? ShapedType::kDynamic
                              : input.getDimSize(0) * input.getDimSize(1));
  if (failed(expectDim(*this, getRouterLogits(), "router_logits", 0, tokens,
                       "the number of tokens of the input")))
    return failure();

  FailureOr<int64_t> experts =
      verifyFFN(*this,
                {getFc1Weights(), getFc1Bias(), getFc2Weights(), getFc2Bias(),
                 getFc3Weights(), getFc3Bias()},
                getActivation(), input.getDimSize(input.getRank() - 1),
                /*lead=*/1);
  if (failed(experts))
    return failure();
  if (failed(expectDim(*this, getRouterLogits(), "router_logits", 1,
                       *experts, "the number of experts of the weights")))
    return failure();

  int64_t numExperts = getRouterLogits().getType().getDimSize(1);
  if (ShapedType::isDynamic(numExperts))
    numExperts = *experts;
  if (!ShapedType::isDynamic(numExperts) &&
      getRouting().getK() > numExperts)
    return emitOpError() << "routing k (" << getRouting().getK()
                         << ") must not exceed the number of experts ("
                         << numExperts << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// RouteOp
//===----------------------------------------------------------------------===//

/// Checks the routing attribute against the expert count (when static).
static LogicalResult verifyRoutingForExperts(Operation *op, RoutingAttr r,
                                             int64_t experts) {
  if (ShapedType::isDynamic(experts))
    return success();
  if (r.getK() > experts)
    return op->emitOpError() << "routing k (" << r.getK()
                             << ") must not exceed the number of experts ("
                             << experts << ")";
  if (experts % r.getNGroups() != 0)
    return op->emitOpError() << "the number of experts (" << experts
                             << ") must be divisible by n_groups ("
                             << r.getNGroups() << ")";
  int64_t perGroup = experts / r.getNGroups();
  if (r.getNGroups() > 1 && r.getGroupScore() == GroupScore::top2_sum &&
      perGroup < 2)
    return op->emitOpError("group_score top2_sum needs at least 2 experts "
                           "per group");
  if (r.getK() > r.getTopGroups() * perGroup)
    return op->emitOpError() << "routing k (" << r.getK()
                             << ") exceeds the experts in the kept groups ("
                             << r.getTopGroups() * perGroup << ")";
  return success();
}

LogicalResult RouteOp::verify() {
  if (failed(expectRank(*this, getLogits(), "logits", 2)))
    return failure();
  auto logits = getLogits().getType();
  int64_t tokens = logits.getDimSize(0), experts = logits.getDimSize(1);
  RoutingAttr routing = getRouting();
  if (failed(verifyRoutingForExperts(*this, routing, experts)))
    return failure();

  for (auto [v, name] : {std::pair{getCorrectionBias(), "correction_bias"},
                         std::pair{getExpertMask(), "expert_mask"},
                         std::pair{getLogitOffsets(), "logit_offsets"}}) {
    if (!v)
      continue;
    if (failed(expectRank(*this, v, name, 1)) ||
        failed(expectDim(*this, v, name, 0, experts,
                         "the number of experts")))
      return failure();
  }
  for (auto [v, name] : {std::pair{getCorrectionBias(), "correction_bias"},
                         std::pair{getLogitOffsets(), "logit_offsets"}})
    if (v && failed(expectSameElementType(*this, getLogits(), "logits", v,
                                          name)))
      return failure();

  for (auto [v, name] : {std::pair{getWeights(), "weights"},
                         std::pair{getExpertIds(), "expert_ids"}}) {
    if (failed(expectRank(*this, v, name, 2)) ||
        failed(expectDim(*this, v, name, 0, tokens,
                         "the number of tokens")) ||
        failed(expectDim(*this, v, name, 1, routing.getK(), "routing k")))
      return failure();
  }
  return expectSameElementType(*this, getLogits(), "logits", getWeights(),
                               "weights");
}

//===----------------------------------------------------------------------===//
// ExpertChoiceRouteOp
//===----------------------------------------------------------------------===//

LogicalResult ExpertChoiceRouteOp::verify() {
  if (failed(expectRank(*this, getLogits(), "logits", 2)))
    return failure();
  auto logits = getLogits().getType();
  int64_t tokens = logits.getDimSize(0), experts = logits.getDimSize(1);
  int64_t capacity = getCapacity();
  if (!ShapedType::isDynamic(tokens) && capacity > tokens)
    return emitOpError() << "capacity (" << capacity
                         << ") must not exceed the number of tokens ("
                         << tokens << ")";
  int64_t rows =
      ShapedType::isDynamic(experts) ? experts : experts * capacity;
  if (failed(verifyRowVectors(*this, getRowToken(), getRowWeight())) ||
      failed(expectDim(*this, getRowToken(), "row_token", 0, rows,
                       "experts x capacity")) ||
      failed(expectSameElementType(*this, getLogits(), "logits",
                                   getRowWeight(), "row_weight")))
    return failure();
  int64_t offsets =
      ShapedType::isDynamic(experts) ? experts : experts + 1;
  return expectDim(*this, getOffsets(), "offsets", 0, offsets,
                   "the number of experts + 1");
}

//===----------------------------------------------------------------------===//
// DispatchOp
//===----------------------------------------------------------------------===//

LogicalResult DispatchOp::verify() {
  if (failed(expectRank(*this, getExpertIds(), "expert_ids", 2)))
    return failure();
  auto ids = getExpertIds().getType();
  if (getWeights().getType().getShape() != ids.getShape())
    return emitOpError("weights must have the shape of expert_ids");
  int64_t rows = ids.hasStaticShape() ? ids.getNumElements()
                                      : ShapedType::kDynamic;
  if (failed(verifyRowVectors(*this, getRowToken(), getRowWeight())) ||
      failed(expectDim(*this, getRowToken(), "row_token", 0, rows,
                       "tokens x k")) ||
      failed(expectSameElementType(*this, getWeights(), "weights",
                                   getRowWeight(), "row_weight")) ||
      failed(expectDim(*this, getOffsets(), "offsets", 0,
                       getNumExperts() + 1, "num_experts + 1")))
    return failure();
  if (!ShapedType::isDynamic(ids.getDimSize(1)) &&
      ids.getDimSize(1) > getNumExperts())
    return emitOpError() << "k (" << ids.getDimSize(1)
                         << ") must not exceed num_experts ("
                         << getNumExperts() << ")";
  if (auto cf = getCapacityFactor())
    if (!(cf->convertToDouble() > 0.0))
      return emitOpError("capacity_factor must be positive");
  return success();
}

//===----------------------------------------------------------------------===//
// PermuteOp / CombineOp
//===----------------------------------------------------------------------===//

LogicalResult PermuteOp::verify() {
  if (failed(expectRank(*this, getInput(), "input", 2)) ||
      failed(expectRank(*this, getRowToken(), "row_token", 1)) ||
      failed(expectRank(*this, getResult(), "result", 2)) ||
      failed(expectDim(*this, getResult(), "result", 0,
                       getRowToken().getType().getDimSize(0),
                       "the number of rows of row_token")) ||
      failed(expectDim(*this, getResult(), "result", 1,
                       getInput().getType().getDimSize(1),
                       "the hidden size of the input")))
    return failure();
  return expectSameElementType(*this, getInput(), "input", getResult(),
                               "result");
}

LogicalResult CombineOp::verify() {
  if (failed(expectRank(*this, getExpertRows(), "expert_rows", 2)) ||
      failed(expectRank(*this, getInit(), "init", 2)) ||
      failed(verifyRowVectors(*this, getRowToken(), getRowWeight())) ||
      failed(expectDim(*this, getRowToken(), "row_token", 0,
                       getExpertRows().getType().getDimSize(0),
                       "the number of expert rows")) ||
      failed(expectDim(*this, getInit(), "init", 1,
                       getExpertRows().getType().getDimSize(1),
                       "the hidden size of expert_rows")))
    return failure();
  return expectSameElementType(*this, getExpertRows(), "expert_rows",
                               getInit(), "init");
}

//===----------------------------------------------------------------------===//
// GroupedFFNOp / SharedFFNOp / SpecialExpertsOp
//===----------------------------------------------------------------------===//

LogicalResult GroupedFFNOp::verify() {
  if (failed(expectRank(*this, getRows(), "rows", 2)))
    return failure();
  if (getResult().getType() != getRows().getType())
    return emitOpError("result type must equal the rows type");
  FailureOr<int64_t> experts = verifyFFN(
      *this,
      {getFc1Weights(), getFc1Bias(), getFc2Weights(), getFc2Bias(),
       getFc3Weights(), getFc3Bias()},
      getActivation(), getRows().getType().getDimSize(1), /*lead=*/1);
  if (failed(experts))
    return failure();
  int64_t offsets = getOffsets().getType().getDimSize(0);
  if (!ShapedType::isDynamic(offsets) && !ShapedType::isDynamic(*experts) &&
      offsets < *experts + 1)
    return emitOpError() << "offsets must have at least num_experts + 1 ("
                         << *experts + 1 << ") entries, got " << offsets;
  return success();
}

LogicalResult SharedFFNOp::verify() {
  if (failed(expectRank(*this, getInput(), "input", 2)))
    return failure();
  if (getResult().getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  int64_t hidden = getInput().getType().getDimSize(1);
  if (failed(verifyFFN(*this,
                       {getFc1Weights(), getFc1Bias(), getFc2Weights(),
                        getFc2Bias(), getFc3Weights(), getFc3Bias()},
                       getActivation(), hidden, /*lead=*/0)))
    return failure();
  if (Value gate = getGate())
    if (failed(expectRank(*this, gate, "gate", 1)) ||
        failed(expectDim(*this, gate, "gate", 0, hidden, "the hidden size")))
      return failure();
  return success();
}

LogicalResult SpecialExpertsOp::verify() {
  if (failed(expectRank(*this, getRows(), "rows", 2)))
    return failure();
  if (getResult().getType() != getRows().getType())
    return emitOpError("result type must equal the rows type");
  int64_t numConstant = getNumConstant();
  if (getNumNull() + getNumCopy() + numConstant == 0)
    return emitOpError("must describe at least one special expert");
  if ((numConstant > 0) != static_cast<bool>(getConstants()))
    return emitOpError("constants are required exactly when num_constant > 0");
  if (Value c = getConstants()) {
    if (failed(expectRank(*this, c, "constants", 2)) ||
        failed(expectDim(*this, c, "constants", 0, numConstant,
                         "num_constant")) ||
        failed(expectDim(*this, c, "constants", 1,
                         getRows().getType().getDimSize(1),
                         "the hidden size")) ||
        failed(expectSameElementType(*this, getRows(), "rows", c,
                                     "constants")))
      return failure();
  }
  int64_t last = getFirstExpert() + getNumNull() + getNumCopy() + numConstant;
  int64_t offsets = getOffsets().getType().getDimSize(0);
  if (!ShapedType::isDynamic(offsets) && offsets < last + 1)
    return emitOpError() << "offsets must have at least " << last + 1
                         << " entries for the special experts, got "
                         << offsets;
  return success();
}

OpFoldResult SpecialExpertsOp::fold(FoldAdaptor) {
  // Only null experts: every row of the result is zero.
  auto type = getResult().getType();
  if (getNumCopy() != 0 || getNumConstant() != 0 || !type.hasStaticShape())
    return {};
  return DenseElementsAttr::get(
      type, FloatAttr::get(type.getElementType(), 0.0).getValue());
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  auto q = getQuantized().getType();
  auto scales = getScales().getType();
  auto result = getResult().getType();
  int64_t bits = getBits();
  if (bits != 4 && bits != 8)
    return emitOpError() << "bits must be 4 or 8, got " << bits;
  if (q.getRank() < 2)
    return emitOpError("quantized weights must have rank >= 2 ([..., N, K])");
  if (result.getRank() != q.getRank())
    return emitOpError("result must have the rank of the quantized weights");
  int64_t rank = q.getRank();
  for (int64_t d = 0; d + 1 < rank; ++d)
    if (failed(expectDim(*this, getResult(), "result", d, q.getDimSize(d),
                         "the quantized weights' dimension")))
      return failure();
  int64_t k = result.getDimSize(rank - 1);
  int64_t packed = ShapedType::isDynamic(k) ? k
                   : bits == 4            ? (k + 1) / 2
                                          : k;
  if (failed(expectDim(*this, getQuantized(), "quantized weights", rank - 1,
                       packed,
                       bits == 4 ? "ceil(K / 2) bytes for packed int4"
                                 : "K")))
    return failure();

  int64_t block = getBlockSize();
  int64_t scaleRank = block == 0 ? rank - 1 : rank;
  if (block != 0 && (block < 16 || (block & (block - 1)) != 0))
    return emitOpError() << "block_size must be 0 (row-wise) or a power of "
                            "two >= 16, got "
                         << block;
  if (scales.getRank() != scaleRank)
    return emitOpError() << "scales must have rank " << scaleRank << " for "
                         << (block == 0 ? "row-wise" : "block-wise")
                         << " quantisation, got " << scales.getRank();
  for (int64_t d = 0; d + 1 < rank; ++d)
    if (failed(expectDim(*this, getScales(), "scales", d, q.getDimSize(d),
                         "the quantized weights' dimension")))
      return failure();
  if (block != 0) {
    int64_t blocks =
        ShapedType::isDynamic(k) ? k : (k + block - 1) / block;
    if (failed(expectDim(*this, getScales(), "scales", rank - 1, blocks,
                         "ceil(K / block_size)")))
      return failure();
  }
  if (Value zp = getZeroPoints())
    if (tensorType(zp).getShape() != scales.getShape())
      return emitOpError("zero_points must have the shape of scales");
  return expectSameElementType(*this, getScales(), "scales", getResult(),
                               "result");
}

//===----------------------------------------------------------------------===//
// Communication
//===----------------------------------------------------------------------===//

LogicalResult RaggedAllToAllStartOp::verify() {
  if (failed(expectRank(*this, getInput(), "input", 2)) ||
      failed(expectRank(*this, getOutput(), "output", 2)) ||
      failed(expectDim(*this, getOutput(), "output", 1,
                       getInput().getType().getDimSize(1),
                       "the row size of the input")) ||
      failed(expectSameElementType(*this, getInput(), "input", getOutput(),
                                   "output")))
    return failure();
  for (auto [v, name] : {std::pair{getInputOffsets(), "input_offsets"},
                         std::pair{getSendSizes(), "send_sizes"},
                         std::pair{getOutputOffsets(), "output_offsets"},
                         std::pair{getRecvSizes(), "recv_sizes"}})
    if (failed(expectDim(*this, v, name, 0, getNumRanks(), "num_ranks")))
      return failure();
  if (getPending().getType().getValueType() != getOutput().getType())
    return emitOpError("pending value type must equal the output type");
  return success();
}
