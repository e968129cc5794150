//===- ContribMoEOps.cpp - com.microsoft.MoE and QMoE to moe.layer --------===//
//
// Converters of onnxruntime's fused contrib ops `com.microsoft.MoE` and
// `com.microsoft.QMoE` (version 1) to `moe.layer`, with one `moe.dequantize`
// per quantised weight for QMoE.
//
// Semantics (checked against onnxruntime 1.31's CPU kernels): the router
// row is soft-maxed over all experts, the k largest probabilities are kept
// (renormalised to sum 1 with normalize_routing_weights = 1), and each
// selected expert computes fc2(act(fc1 x + b1) [* (fc3 x + b3)]) + b2.
// gelu is the tanh approximation; swiglu takes gate and linear halves from
// fc1 (interleaved or concatenated) or from fc1 and fc3 (swiglu_fusion = 0).
// (onnxruntime 1.31's CPU QMoE renormalises even with
// normalize_routing_weights = 0; the import follows the attribute, as the
// schema and the MoE kernel do.)
// Weights use onnxruntime's current layout only: fc1 [E, f*I, H],
// fc2 [E, H, I], fc3 [E, I, H] (f = 2 for fused swiglu). onnxruntime also
// accepts a legacy [E, H, f*I] layout that it tells apart by shape, which is
// ambiguous when H = f*I; the importer does not guess and refuses shapes
// that do not fit the current layout.
//
// Every static dimension is checked here, at import, with a message naming
// the node; dynamic dimensions (symbolic token counts) pass.
//
//===----------------------------------------------------------------------===//

#include "BuildUtils.h"
#include "ElementwiseOps.h"
#include "OpConverters.h"

#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace mlir::moe::onnx_import {
namespace {

constexpr int64_t kDynamic = ShapedType::kDynamic;

bool isStatic(int64_t d) { return !ShapedType::isDynamic(d); }

/// True when two sizes are both known and differ.
bool differ(int64_t a, int64_t b) {
  return isStatic(a) && isStatic(b) && a != b;
}

/// `a` when known, else `b`.
int64_t firstKnown(int64_t a, int64_t b) { return isStatic(a) ? a : b; }

std::string dimString(int64_t d) {
  return isStatic(d) ? std::to_string(d) : std::string("?");
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + dimString(d);
  return s + "]";
}

RankedTensorType tensorType(Value v) {
  return v ? cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

/// The ONNX name of an element type, for messages.
std::string typeName(Type t) {
  if (t.isF32())
    return "float";
  if (t.isF16())
    return "float16";
  if (t.isBF16())
    return "bfloat16";
  if (t.isF64())
    return "double";
  if (t.isInteger(1))
    return "bool";
  if (auto i = dyn_cast<IntegerType>(t))
    return (i.isUnsigned() ? "uint" : "int") + std::to_string(i.getWidth());
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

/// ONNX float attributes are float32: the shortest decimal that reads back
/// as the same float, so that 1.702f prints as 1.702 rather than as its
/// double expansion (lowering to f32 gives back the same float).
double attrToDouble(float value) {
  if (!std::isfinite(value))
    return value;
  for (int precision = 1; precision <= 9; ++precision) {
    std::string text =
        llvm::formatv("{0}", llvm::format("%.*g", precision, value)).str();
    if (std::strtof(text.c_str(), nullptr) == value)
      return std::strtod(text.c_str(), nullptr);
  }
  return value;
}

/// A double in the shortest %g form, for messages.
std::string numberString(double value) {
  return llvm::formatv("{0}", llvm::format("%g", value)).str();
}

//===----------------------------------------------------------------------===//
// Attributes shared by MoE and QMoE
//===----------------------------------------------------------------------===//

/// The MoE attributes of onnxruntime's schema (contrib_defs.cc) and CPU
/// kernel (contrib_ops/cpu/moe/moe_base_cpu.h).
struct LayerAttrs {
  int64_t k = 1;
  bool normalize = false;
  Activation kind = Activation::relu;
  /// 0: separate fc1 (gate) and fc3 (linear); 1: fused, interleaved;
  /// 2: fused, concatenated. Meaningful for swiglu only.
  int64_t swigluFusion = 0;
  double alpha = 1.0, beta = 0.0;
  double limit = std::numeric_limits<double>::infinity();

  bool isSwiglu() const { return kind == Activation::swiglu; }
  bool fusedSwiglu() const { return isSwiglu() && swigluFusion != 0; }
  /// f: fc1 rows per intermediate unit.
  int64_t fc1RowsPerUnit() const { return fusedSwiglu() ? 2 : 1; }
};

constexpr llvm::StringLiteral kLayerAttrNames[] = {"k",
                                                   "activation_type",
                                                   "normalize_routing_weights",
                                                   "swiglu_fusion",
                                                   "activation_alpha",
                                                   "activation_beta",
                                                   "swiglu_limit",
                                                   "use_sparse_mixer"};

FailureOr<LayerAttrs> readLayerAttrs(const NodeContext &ctx) {
  LayerAttrs attrs;
  // Defaults are the schema's: k = 1, activation_type = "relu",
  // normalize_routing_weights = 0, swiglu_fusion = 0, use_sparse_mixer = 0.
  FailureOr<int64_t> k = ctx.intAttr("k", 1);
  FailureOr<std::string> activation =
      ctx.stringAttr("activation_type", std::string("relu"));
  FailureOr<int64_t> normalize = ctx.intAttr("normalize_routing_weights", 0);
  FailureOr<int64_t> fusion = ctx.intAttr("swiglu_fusion", 0);
  FailureOr<int64_t> sparseMixer = ctx.intAttr("use_sparse_mixer", 0);
  // swiglu parameters: onnxruntime's schema and CPU kernel default to
  // alpha = 1.0, beta = 0.0 and no clamp (moe_base_cpu.h:
  // GetAttrOrDefault("activation_alpha", 1.0f), ("activation_beta", 0.0f),
  // ("swiglu_limit", +inf)); gpt-oss models set 1.702 / 1.0 / 7.0 explicitly.
  FailureOr<float> alpha = ctx.floatAttr("activation_alpha", 1.0f);
  FailureOr<float> beta = ctx.floatAttr("activation_beta", 0.0f);
  FailureOr<float> limit =
      ctx.floatAttr("swiglu_limit", std::numeric_limits<float>::infinity());
  if (failed(k) || failed(activation) || failed(normalize) || failed(fusion) ||
      failed(sparseMixer) || failed(alpha) || failed(beta) || failed(limit))
    return failure();

  if (*k < 1)
    return ctx.emitError() << "k must be at least 1, got " << *k;
  attrs.k = *k;
  if (*normalize != 0 && *normalize != 1)
    return ctx.emitError() << "normalize_routing_weights must be 0 or 1, got "
                           << *normalize;
  attrs.normalize = *normalize == 1;
  if (*sparseMixer != 0)
    return ctx.emitError()
           << "use_sparse_mixer = " << *sparseMixer
           << " is not supported (only 0: sparse mixer routing has no "
              "moe.layer equivalent)";

  std::optional<Activation> kind =
      llvm::StringSwitch<std::optional<Activation>>(*activation)
          .Case("relu", Activation::relu)
          .Case("gelu", Activation::gelu_tanh) // tanh approximation
          .Case("silu", Activation::silu)
          .Case("identity", Activation::identity)
          .Case("swiglu", Activation::swiglu)
          .Default(std::nullopt);
  if (!kind)
    return ctx.emitError() << "unknown activation_type '" << *activation
                           << "' (expected relu, gelu, silu, swiglu or "
                              "identity)";
  attrs.kind = *kind;

  if (*fusion < 0 || *fusion > 2)
    return ctx.emitError() << "swiglu_fusion must be 0 (separate fc1 and "
                              "fc3), 1 (interleaved) or 2 (concatenated), got "
                           << *fusion;
  attrs.swigluFusion = *fusion;

  // alpha, beta and limit apply to swiglu only (ignored otherwise, as by
  // onnxruntime).
  if (attrs.isSwiglu()) {
    attrs.alpha = attrToDouble(*alpha);
    attrs.beta = attrToDouble(*beta);
    attrs.limit = attrToDouble(*limit);
    if (!std::isfinite(attrs.alpha) || !std::isfinite(attrs.beta))
      return ctx.emitError()
             << "activation_alpha and activation_beta must be finite, got "
             << numberString(attrs.alpha) << " and "
             << numberString(attrs.beta);
    if (!(attrs.limit > 0.0))
      return ctx.emitError() << "swiglu_limit must be positive, got "
                             << numberString(attrs.limit);
  }
  return attrs;
}

//===----------------------------------------------------------------------===//
// Operands
//===----------------------------------------------------------------------===//

/// One expert projection (fc1, fc2 or fc3) as the node gives it.
struct Projection {
  llvm::StringRef name;     // "fc1"
  Value weights, bias;      // weights null when absent (fc3)
  Value scales, zeroPoints; // QMoE only
  int64_t bits = 0;         // QMoE: 4 or 8; 0 for float weights
  /// Logical shape [E, N, K] in the layout notation, e.g. {"f*I", "H"}.
  llvm::StringRef rowsSymbol, colsSymbol;

  std::string weightsName() const { return (name + "_experts_weights").str(); }
  std::string biasName() const { return (name + "_experts_bias").str(); }
  std::string scalesName() const { return (name + "_scales").str(); }
  std::string zeroPointsName() const { return (name + "_zero_points").str(); }
  /// The stored weights' layout, e.g. "[E, f*I, H/2]".
  std::string layout() const {
    return ("[E, " + rowsSymbol + ", " + colsSymbol + (bits == 4 ? "/2]" : "]"))
        .str();
  }
  /// Values per byte of the stored weights.
  int64_t pack() const { return bits == 4 ? 2 : 1; }
  /// Bytes of a row of K values (K must be a multiple of pack()).
  int64_t packed(int64_t cols) const {
    return isStatic(cols) ? cols / pack() : kDynamic;
  }
  /// K: the logical row length, from the stored row when it is static.
  int64_t logicalCols(int64_t known) const {
    int64_t stored = tensorType(weights).getDimSize(2);
    return isStatic(stored) ? stored * pack() : known;
  }
};

/// Sizes of the layer as far as the node's static shapes tell them.
struct LayerSizes {
  int64_t tokens = kDynamic, hidden = kDynamic, inter = kDynamic,
          experts = kDynamic;
};

bool isOnnxFloat(Type t) { return t.isF32() || t.isF16() || t.isBF16(); }

/// Requires `value` to have element type `expected` (that of `input`).
LogicalResult expectElementType(const NodeContext &ctx, Value value,
                                llvm::StringRef name, Type expected,
                                llvm::StringRef hint = "") {
  Type actual = tensorType(value).getElementType();
  if (actual == expected)
    return success();
  InFlightDiagnostic diag = ctx.emitError()
                            << name << " must have element type "
                            << typeName(expected) << " like input, got "
                            << typeName(actual);
  if (!hint.empty())
    diag << " (" << hint << ")";
  return diag;
}

LogicalResult expectRank(const NodeContext &ctx, Value value,
                         llvm::StringRef name, int64_t rank,
                         llvm::StringRef layout) {
  int64_t actual = tensorType(value).getRank();
  if (actual == rank)
    return success();
  return ctx.emitError() << name << " must have rank " << rank << " (" << layout
                         << "), got rank " << actual;
}

/// Compares `value`'s shape with `expected` where both are static; on a
/// difference reports `<name> has shape [...], expected <layout> = [...]`
/// followed by `note`.
LogicalResult expectShape(const NodeContext &ctx, Value value,
                          llvm::StringRef name, ArrayRef<int64_t> expected,
                          llvm::StringRef layout, llvm::StringRef note = "") {
  ArrayRef<int64_t> shape = tensorType(value).getShape();
  bool mismatch = shape.size() != expected.size();
  for (auto [a, b] : llvm::zip(shape, expected))
    mismatch |= differ(a, b);
  if (!mismatch)
    return success();
  InFlightDiagnostic diag = ctx.emitError()
                            << name << " has shape " << shapeString(shape)
                            << ", expected " << layout << " = "
                            << shapeString(expected);
  if (!note.empty())
    diag << "; " << note;
  return diag;
}

/// The note appended to weight-shape mismatches.
std::string layoutNote(const LayerSizes &sizes, const LayerAttrs &attrs) {
  std::string note = "E = " + dimString(sizes.experts) +
                     ", H = " + dimString(sizes.hidden) +
                     " (hidden size of input), I = " + dimString(sizes.inter);
  if (attrs.fusedSwiglu())
    note += ", f = 2 (fused swiglu)";
  return note + ". Expert weights must use onnxruntime's current layout fc1 "
                "[E, f*I, H], fc2 [E, H, I], fc3 [E, I, H]; the legacy layout "
                "(fc1 [E, H, f*I], fc2 [E, I, H]) is not accepted";
}

/// Checks the weights (stored shape), bias, scales and zero points of one
/// projection whose logical weights are [E, rows, cols].
LogicalResult checkProjection(const NodeContext &ctx, const Projection &p,
                              int64_t rows, int64_t cols,
                              const LayerSizes &sizes, const LayerAttrs &attrs,
                              int64_t blockSize) {
  int64_t experts = sizes.experts;
  std::string note = layoutNote(sizes, attrs);
  std::string layout = p.layout();
  if (failed(expectRank(ctx, p.weights, p.weightsName(), 3, layout)))
    return failure();
  if (p.bits == 4 && isStatic(cols) && cols % 2 != 0)
    return ctx.emitError() << p.weightsName() << ": rows of " << cols
                           << " 4-bit values (" << p.colsSymbol << " = " << cols
                           << ") are not byte-aligned; " << p.colsSymbol
                           << " must be even";
  if (failed(expectShape(ctx, p.weights, p.weightsName(),
                         {experts, rows, p.packed(cols)}, layout, note)))
    return failure();

  if (p.bias) {
    std::string biasLayout = ("[E, " + p.rowsSymbol + "]").str();
    if (failed(expectRank(ctx, p.bias, p.biasName(), 2, biasLayout)) ||
        failed(expectShape(ctx, p.bias, p.biasName(), {experts, rows},
                           biasLayout)))
      return failure();
  }
  if (!p.bits)
    return success();

  // Scales: [E, N] per row, or [E, N, K / block_size] per block along K
  // (onnxruntime's QMoE schema).
  std::string scalesLayout =
      ("[E, " + p.rowsSymbol +
       (blockSize ? ", " + p.colsSymbol + "/block_size]" : "]"))
          .str();
  SmallVector<int64_t> scalesShape = {experts, rows};
  if (blockSize) {
    if (isStatic(cols) && cols % blockSize != 0)
      return ctx.emitError()
             << "block_size " << blockSize << " must divide the row length "
             << p.colsSymbol << " = " << cols << " of " << p.weightsName();
    scalesShape.push_back(isStatic(cols) ? cols / blockSize : kDynamic);
  }
  if (failed(expectRank(ctx, p.scales, p.scalesName(), scalesShape.size(),
                        scalesLayout)) ||
      failed(expectShape(ctx, p.scales, p.scalesName(), scalesShape,
                         scalesLayout,
                         blockSize ? "block-wise scales (block_size = " +
                                         std::to_string(blockSize) + ")"
                                   : "row-wise scales (no block_size)")))
    return failure();

  // Zero points: the shape of the scales with the last dimension packed
  // like the weights (two 4-bit zero points per byte, low nibble first).
  if (p.zeroPoints) {
    SmallVector<int64_t> zpShape(scalesShape);
    int64_t &last = zpShape.back();
    if (isStatic(last))
      last = (last * p.bits + 7) / 8;
    std::string zpLayout = scalesLayout;
    llvm::StringRef note;
    if (p.bits == 4) {
      // "[E, N]" -> "[E, ceil(N/2)]", "[E, N, K/block_size]" ->
      // "[E, N, ceil(K/block_size/2)]".
      size_t comma = zpLayout.rfind(", ");
      zpLayout = zpLayout.substr(0, comma + 2) + "ceil(" +
                 zpLayout.substr(comma + 2, zpLayout.size() - comma - 3) +
                 "/2)]";
      note = "4-bit zero points are packed two per byte, low nibble first";
    }
    if (failed(expectRank(ctx, p.zeroPoints, p.zeroPointsName(), zpShape.size(),
                          zpLayout)) ||
        failed(expectShape(ctx, p.zeroPoints, p.zeroPointsName(), zpShape,
                           zpLayout, note)))
      return failure();
  }
  return success();
}

/// Works out E, H, I from the shapes and checks every operand against them.
FailureOr<LayerSizes> checkShapes(const NodeContext &ctx, Value input,
                                  Value router, ArrayRef<Projection *> fcs,
                                  const LayerAttrs &attrs, int64_t blockSize) {
  Projection &fc1 = *fcs[0], &fc2 = *fcs[1], &fc3 = *fcs[2];
  auto inputType = tensorType(input);
  if (inputType.getRank() != 2 && inputType.getRank() != 3)
    return ctx.emitError() << "input must be [T, H] or [B, S, H], got rank "
                           << inputType.getRank();
  if (failed(expectRank(ctx, router, "router_probs", 2, "[T, E]")))
    return failure();
  for (Projection *p : fcs)
    if (p->weights &&
        failed(expectRank(ctx, p->weights, p->weightsName(), 3, p->layout())))
      return failure();

  LayerSizes sizes;
  int64_t rank = inputType.getRank();
  sizes.tokens =
      rank == 2 ? inputType.getDimSize(0)
      : isStatic(inputType.getDimSize(0)) && isStatic(inputType.getDimSize(1))
          ? inputType.getDimSize(0) * inputType.getDimSize(1)
          : kDynamic;
  auto fc1Type = tensorType(fc1.weights), fc2Type = tensorType(fc2.weights);
  auto fc3Type = tensorType(fc3.weights);
  sizes.hidden =
      firstKnown(inputType.getDimSize(rank - 1),
                 firstKnown(fc1.logicalCols(kDynamic), fc2Type.getDimSize(1)));
  sizes.experts = fc1Type.getDimSize(0);
  for (Projection *p : {&fc2, &fc3})
    if (p->weights)
      sizes.experts =
          firstKnown(sizes.experts, tensorType(p->weights).getDimSize(0));
  sizes.experts = firstKnown(sizes.experts, tensorType(router).getDimSize(1));

  int64_t f = attrs.fc1RowsPerUnit();
  int64_t fc1Rows = fc1Type.getDimSize(1);
  if (f == 2 && isStatic(fc1Rows) && fc1Rows % 2 != 0)
    return ctx.emitError()
           << "fc1_experts_weights has " << fc1Rows
           << " rows, but fused swiglu (swiglu_fusion = " << attrs.swigluFusion
           << ") needs an even number: gate and linear halves of 2 x I rows";
  sizes.inter =
      isStatic(fc1Rows)
          ? fc1Rows / f
          : firstKnown(fc2.logicalCols(kDynamic),
                       fc3.weights ? fc3Type.getDimSize(1) : kDynamic);
  int64_t fIRows = isStatic(sizes.inter) ? f * sizes.inter : kDynamic;

  if (failed(checkProjection(ctx, fc1, fIRows, sizes.hidden, sizes, attrs,
                             blockSize)) ||
      failed(checkProjection(ctx, fc2, sizes.hidden, sizes.inter, sizes, attrs,
                             blockSize)))
    return failure();
  if (fc3.weights && failed(checkProjection(ctx, fc3, sizes.inter, sizes.hidden,
                                            sizes, attrs, blockSize)))
    return failure();

  auto routerType = tensorType(router);
  if (differ(routerType.getDimSize(1), sizes.experts))
    return ctx.emitError() << "router_probs has " << routerType.getDimSize(1)
                           << " experts (dimension 1 of [T, E]), but the "
                              "expert weights have "
                           << sizes.experts;
  if (differ(routerType.getDimSize(0), sizes.tokens))
    return ctx.emitError() << "router_probs has " << routerType.getDimSize(0)
                           << " rows, but input has " << sizes.tokens
                           << " tokens; router_probs must be [T, E] with T "
                              "the number of tokens of input";
  if (isStatic(sizes.experts) && attrs.k > sizes.experts)
    return ctx.emitError() << "k = " << attrs.k
                           << " exceeds the number of experts ("
                           << sizes.experts << ")";
  return sizes;
}

//===----------------------------------------------------------------------===//
// IR building
//===----------------------------------------------------------------------===//

/// Two 4-bit values per byte (low nibble first) along the last dimension of
/// `packed` (ui8) unpacked into one ui8 per value, with the shape `like`
/// (whose last dimension is the number of values). The body computes on the
/// signless bytes (tensor.bitcast does not bufferize).
Value unpackNibbles(OpBuilder &b, Location loc, Value packed, Value like) {
  Type u8 = tensorType(packed).getElementType();
  int64_t rank = tensorType(like).getRank();
  Value init = emptyTensor(b, loc, tensorSizes(b, loc, like), u8);

  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> byteIndex;
  for (int64_t d = 0; d < rank; ++d)
    byteIndex.push_back(getAffineDimExpr(d, ctx));
  byteIndex.back() = byteIndex.back().floorDiv(2);
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, byteIndex, ctx),
                                 AffineMap::getMultiDimIdentityMap(rank, ctx)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{packed}, ValueRange{init},
      maps, iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value byte = toSignlessScalar(nb, nloc, args[0]);
        Value j = linalg::IndexOp::create(nb, nloc, rank - 1);
        Value two = arith::ConstantIndexOp::create(nb, nloc, 2);
        Value zero = arith::ConstantIndexOp::create(nb, nloc, 0);
        Value isHigh = arith::CmpIOp::create(
            nb, nloc, arith::CmpIPredicate::ne,
            arith::RemUIOp::create(nb, nloc, j, two), zero);
        Value four =
            arith::ConstantOp::create(nb, nloc, nb.getI8IntegerAttr(4));
        Value mask =
            arith::ConstantOp::create(nb, nloc, nb.getI8IntegerAttr(15));
        Value high = arith::ShRUIOp::create(nb, nloc, byte, four);
        Value low = arith::AndIOp::create(nb, nloc, byte, mask);
        Value nibble = arith::SelectOp::create(nb, nloc, isHigh, high, low);
        linalg::YieldOp::create(nb, nloc,
                                fromSignlessScalar(nb, nloc, nibble, u8));
      });
  return generic.getResult(0);
}

/// `moe.dequantize` of a QMoE projection: float weights [E, N, K].
Value dequantize(OpBuilder &b, Location loc, const Projection &p, int64_t cols,
                 int64_t blockSize) {
  auto stored = tensorType(p.weights);
  auto scalesType = tensorType(p.scales);
  auto resultType = RankedTensorType::get(
      {stored.getDimSize(0), stored.getDimSize(1), p.logicalCols(cols)},
      scalesType.getElementType());
  Value zeroPoints = p.zeroPoints;
  if (zeroPoints) {
    // moe.dequantize takes one zero point per scale.
    auto zpType = scalesType.clone(tensorType(zeroPoints).getElementType());
    if (p.bits == 4)
      zeroPoints = unpackNibbles(b, loc, zeroPoints, p.scales);
    if (zeroPoints.getType() != zpType)
      zeroPoints = tensor::CastOp::create(b, loc, zpType, zeroPoints);
  }
  return DequantizeOp::create(b, loc, resultType, p.weights, p.scales,
                              zeroPoints, static_cast<uint64_t>(p.bits),
                              static_cast<uint64_t>(blockSize));
}

/// [a; c] along dimension 1 of two [E, n, ...] tensors of equal shape.
Value concatRows(OpBuilder &b, Location loc, Value a, Value c) {
  auto type = tensorType(a);
  SmallVector<OpFoldResult> sizes = tensorSizes(b, loc, a);
  SmallVector<OpFoldResult> doubled(sizes);
  SmallVector<int64_t> shape(type.getShape());
  if (isStatic(shape[1])) {
    shape[1] *= 2;
    doubled[1] = b.getIndexAttr(shape[1]);
  } else {
    Value rows = cast<Value>(sizes[1]);
    doubled[1] = arith::AddIOp::create(b, loc, rows, rows).getResult();
  }
  Value init = emptyTensor(b, loc, doubled, type.getElementType());
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  Value first =
      tensor::InsertSliceOp::create(b, loc, a, init, offsets, sizes, strides);
  offsets[1] = sizes[1];
  return tensor::InsertSliceOp::create(b, loc, c, first, offsets, sizes,
                                       strides);
}

/// Float expert weights ready for moe.layer.
struct FloatExperts {
  Value fc1, fc1Bias, fc2, fc2Bias, fc3, fc3Bias;
};

/// Builds the moe.layer (after turning swiglu_fusion = 0 into a form the
/// dialect has) and binds it to the node's output.
LogicalResult buildLayer(NodeContext &ctx, const LayerAttrs &attrs, Value input,
                         Value router, FloatExperts w) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  MLIRContext *mctx = ctx.context();
  Activation kind = attrs.kind;
  SwigluLayout layout = attrs.swigluFusion == 2 ? SwigluLayout::concatenated
                                                : SwigluLayout::interleaved;
  double alpha = 1.0, beta = 0.0;
  double limit = std::numeric_limits<double>::infinity();

  if (attrs.fusedSwiglu() && (w.fc3 || w.fc3Bias))
    return ctx.emitError()
           << "fc3 inputs cannot be combined with fused swiglu (swiglu_fusion "
              "= "
           << attrs.swigluFusion
           << "): fc1_experts_weights already holds the gate and linear "
              "halves";
  if (!w.fc3 && w.fc3Bias)
    return ctx.emitError() << "fc3_experts_bias is given without "
                              "fc3_experts_weights";

  if (attrs.isSwiglu()) {
    alpha = attrs.alpha;
    beta = attrs.beta;
    limit = attrs.limit;
    if (attrs.swigluFusion == 0) {
      // Separate GEMMs: fc1 computes the gate, fc3 the linear half.
      if (!w.fc3)
        return ctx.emitError()
               << "activation_type swiglu with swiglu_fusion = 0 needs "
                  "fc3_experts_weights (the linear half; fc1 computes the "
                  "gate); set swiglu_fusion = 1 or 2 for a fused fc1";
      if (alpha == 1.0 && beta == 0.0 && std::isinf(limit)) {
        // gate * sigmoid(gate) * lin is exactly silu(fc1 x) * (fc3 x).
        kind = Activation::silu;
        alpha = 1.0;
        beta = 0.0;
      } else {
        // Fuse the two halves: [fc1; fc3] is the concatenated swiglu
        // layout (gate rows first, linear rows second).
        w.fc1 = concatRows(b, loc, w.fc1, w.fc3);
        if (w.fc1Bias || w.fc3Bias) {
          Value zero =
              scalarConstant(b, loc, tensorType(w.fc1).getElementType(), 0.0);
          Value like = w.fc1Bias ? w.fc1Bias : w.fc3Bias;
          Value zeros = filledTensor(b, loc, tensorSizes(b, loc, like), zero);
          w.fc1Bias = concatRows(b, loc, w.fc1Bias ? w.fc1Bias : zeros,
                                 w.fc3Bias ? w.fc3Bias : zeros);
        }
        w.fc3 = w.fc3Bias = nullptr;
        layout = SwigluLayout::concatenated;
      }
    }
  }
  if (kind != Activation::swiglu)
    layout = SwigluLayout::interleaved;

  auto routing = RoutingAttr::get(
      mctx, static_cast<unsigned>(attrs.k), ScoreFunction::softmax,
      RoutingOrder::score_then_topk, attrs.normalize, llvm::APFloat(1.0),
      /*n_groups=*/1, /*top_groups=*/1, GroupScore::max, llvm::APFloat(0.0));
  auto activation =
      ActivationConfigAttr::get(mctx, kind, layout, llvm::APFloat(alpha),
                                llvm::APFloat(beta), llvm::APFloat(limit));
  Value layer =
      LayerOp::create(b, loc, input.getType(), input, router, w.fc1, w.fc1Bias,
                      w.fc2, w.fc2Bias, w.fc3, w.fc3Bias, routing, activation);
  ctx.setResult(0, layer);
  return success();
}

/// Common checks of input and router_probs.
FailureOr<Type> checkInputTypes(const NodeContext &ctx, Value input,
                                Value router) {
  Type elementType = tensorType(input).getElementType();
  if (!isOnnxFloat(elementType))
    return ctx.emitError() << "input must be float, float16 or bfloat16, got "
                           << typeName(elementType);
  if (failed(expectElementType(ctx, router, "router_probs", elementType)))
    return failure();
  return elementType;
}

//===----------------------------------------------------------------------===//
// com.microsoft.MoE
//===----------------------------------------------------------------------===//

LogicalResult convertMoE(NodeContext &ctx) {
  SmallVector<llvm::StringRef> known(std::begin(kLayerAttrNames),
                                     std::end(kLayerAttrNames));
  if (failed(ctx.checkAttributes(known)) || failed(ctx.checkInputCount(5, 8)))
    return failure();
  FailureOr<LayerAttrs> attrs = readLayerAttrs(ctx);
  if (failed(attrs))
    return failure();

  // input, router_probs, fc1_experts_weights, fc1_experts_bias?,
  // fc2_experts_weights, fc2_experts_bias?, fc3_experts_weights?,
  // fc3_experts_bias?
  FailureOr<Value> input = ctx.requiredInput(0, "input");
  FailureOr<Value> router = ctx.requiredInput(1, "router_probs");
  FailureOr<Value> fc1w = ctx.requiredInput(2, "fc1_experts_weights");
  FailureOr<Value> fc2w = ctx.requiredInput(4, "fc2_experts_weights");
  if (failed(input) || failed(router) || failed(fc1w) || failed(fc2w))
    return failure();
  FailureOr<Type> elementType = checkInputTypes(ctx, *input, *router);
  if (failed(elementType))
    return failure();

  Projection fc1{"fc1", *fc1w, ctx.input(3)};
  Projection fc2{"fc2", *fc2w, ctx.input(5)};
  Projection fc3{"fc3", ctx.input(6), ctx.input(7)};
  fc1.rowsSymbol = "f*I";
  fc1.colsSymbol = fc3.colsSymbol = fc2.rowsSymbol = "H";
  fc2.colsSymbol = fc3.rowsSymbol = "I";
  for (Projection *p : {&fc1, &fc2, &fc3}) {
    if (p->weights &&
        failed(expectElementType(
            ctx, p->weights, p->weightsName(), *elementType,
            isa<IntegerType>(tensorType(p->weights).getElementType())
                ? "quantised weights need com.microsoft.QMoE"
                : "")))
      return failure();
    if (p->bias &&
        failed(expectElementType(ctx, p->bias, p->biasName(), *elementType)))
      return failure();
  }
  FailureOr<LayerSizes> sizes =
      checkShapes(ctx, *input, *router, {&fc1, &fc2, &fc3}, *attrs, 0);
  if (failed(sizes))
    return failure();
  return buildLayer(
      ctx, *attrs, *input, *router,
      {fc1.weights, fc1.bias, fc2.weights, fc2.bias, fc3.weights, fc3.bias});
}

//===----------------------------------------------------------------------===//
// com.microsoft.QMoE
//===----------------------------------------------------------------------===//

// QMoE inputs (onnxruntime contrib_defs.cc, version 1).
enum QMoEInput : size_t {
  kInput = 0,
  kRouterProbs = 1,
  kFc1Weights = 2,
  kFc1Scales = 3,
  kFc1Bias = 4,
  kFc2Weights = 5,
  kFc2Scales = 6,
  kFc2Bias = 7,
  kFc3Weights = 8,
  kFc3Scales = 9,
  kFc3Bias = 10,
  kFc1ZeroPoints = 11,
  kFc2ZeroPoints = 12,
  kFc3ZeroPoints = 13,
  kRouterWeights = 14,
  kNumQMoEInputs = 21,
};

/// Inputs the dialect cannot express: index, name, why.
struct UnsupportedInput {
  size_t index;
  llvm::StringLiteral name, reason;
};
constexpr UnsupportedInput kUnsupportedQMoEInputs[] = {
    {kRouterWeights, "router_weights",
     "moe.layer mixes the experts with the probabilities it selects them "
     "by; separate mixing weights have no equivalent"},
    {15, "fc1_global_scale",
     "fp4/fp8 global scales have no moe.dequantize equivalent"},
    {16, "fc2_global_scale",
     "fp4/fp8 global scales have no moe.dequantize equivalent"},
    {17, "fc1_act_scale", "fp8 activation scales have no moe.layer equivalent"},
    {18, "fc2_act_scale", "fp8 activation scales have no moe.layer equivalent"},
    {19, "fc1_act_block_scale",
     "fp8 activation scales have no moe.layer equivalent"},
    {20, "fc2_act_block_scale",
     "fp8 activation scales have no moe.layer equivalent"},
};

LogicalResult convertQMoE(NodeContext &ctx) {
  SmallVector<llvm::StringRef> known(std::begin(kLayerAttrNames),
                                     std::end(kLayerAttrNames));
  known.append({"expert_weight_bits", "fc1_expert_weight_bits",
                "fc2_expert_weight_bits", "fc3_expert_weight_bits",
                "block_size", "quant_type", "accuracy_level",
                "weights_prepacked"});
  if (failed(ctx.checkAttributes(known)) ||
      failed(ctx.checkInputCount(kFc2Weights + 1, kNumQMoEInputs)))
    return failure();
  FailureOr<LayerAttrs> attrs = readLayerAttrs(ctx);
  if (failed(attrs))
    return failure();

  FailureOr<std::string> quantType =
      ctx.stringAttr("quant_type", std::string("int"));
  if (failed(quantType))
    return failure();
  if (*quantType != "int")
    return ctx.emitError() << "quant_type '" << *quantType
                           << "' is not supported (only 'int': moe.dequantize "
                              "has integer weights with scales and zero "
                              "points)";
  // -1 (the default) lets the execution provider choose; onnxruntime's CPU
  // provider reads raw [E, N, K/pack] weights then, like 0. 1 means weights
  // already in a provider's packed layout.
  FailureOr<int64_t> prepacked = ctx.intAttr("weights_prepacked", -1);
  if (failed(prepacked))
    return failure();
  if (*prepacked != -1 && *prepacked != 0)
    return ctx.emitError() << "weights_prepacked = " << *prepacked
                           << " is not supported: only raw [E, N, K/pack] "
                              "weights (0, or -1 as onnxruntime's CPU "
                              "provider reads them) can be imported";
  // accuracy_level only lets onnxruntime quantise activations; the import
  // computes exactly.
  if (failed(ctx.intAttr("accuracy_level", 0)))
    return failure();

  FailureOr<int64_t> bits = ctx.intAttr("expert_weight_bits", 4);
  FailureOr<int64_t> blockSizeAttr = ctx.intAttr("block_size", 0);
  if (failed(bits) || failed(blockSizeAttr))
    return failure();
  int64_t blockSize = *blockSizeAttr;
  if (blockSize < 0 ||
      (blockSize != 0 && (blockSize < 16 || (blockSize & (blockSize - 1)))))
    return ctx.emitError() << "block_size must be absent or 0 (row-wise "
                              "scales) or a power of two >= 16, got "
                           << blockSize;

  for (const UnsupportedInput &in : kUnsupportedQMoEInputs)
    if (ctx.hasInput(in.index))
      return ctx.emitError() << "input " << in.index << " (" << in.name
                             << ") is not supported: " << in.reason;

  FailureOr<Value> input = ctx.requiredInput(kInput, "input");
  FailureOr<Value> router = ctx.requiredInput(kRouterProbs, "router_probs");
  if (failed(input) || failed(router) ||
      failed(ctx.requiredInput(kFc1Weights, "fc1_experts_weights")) ||
      failed(ctx.requiredInput(kFc2Weights, "fc2_experts_weights")))
    return failure();
  FailureOr<Type> elementType = checkInputTypes(ctx, *input, *router);
  if (failed(elementType))
    return failure();

  Projection fc1{"fc1", ctx.input(kFc1Weights), ctx.input(kFc1Bias),
                 ctx.input(kFc1Scales), ctx.input(kFc1ZeroPoints)};
  Projection fc2{"fc2", ctx.input(kFc2Weights), ctx.input(kFc2Bias),
                 ctx.input(kFc2Scales), ctx.input(kFc2ZeroPoints)};
  Projection fc3{"fc3", ctx.input(kFc3Weights), ctx.input(kFc3Bias),
                 ctx.input(kFc3Scales), ctx.input(kFc3ZeroPoints)};
  fc1.rowsSymbol = "f*I";
  fc1.colsSymbol = fc3.colsSymbol = fc2.rowsSymbol = "H";
  fc2.colsSymbol = fc3.rowsSymbol = "I";
  size_t scalesIndex[] = {kFc1Scales, kFc2Scales, kFc3Scales};
  for (auto [i, p] : llvm::enumerate(std::array{&fc1, &fc2, &fc3})) {
    // Per-projection widths override expert_weight_bits.
    FailureOr<int64_t> own =
        ctx.intAttr((p->name + "_expert_weight_bits").str(), *bits);
    if (failed(own))
      return failure();
    p->bits = *own;
    if (!p->weights) {
      for (auto [v, name] : {std::pair{p->scales, p->scalesName()},
                             std::pair{p->zeroPoints, p->zeroPointsName()}})
        if (v)
          return ctx.emitError()
                 << name << " is given without " << p->weightsName();
      continue;
    }
    if (p->bits != 4 && p->bits != 8)
      return ctx.emitError()
             << (p->bits == *bits ? std::string("expert_weight_bits")
                                  : (p->name + "_expert_weight_bits").str())
             << " must be 4 or 8, got " << p->bits;
    Type stored = tensorType(p->weights).getElementType();
    if (!stored.isUnsignedInteger(8))
      return ctx.emitError()
             << p->weightsName() << " must be uint8 (packed " << p->bits
             << "-bit integers), got " << typeName(stored);
    if (!p->scales)
      return ctx.emitError()
             << "missing required input " << scalesIndex[i] << " ("
             << p->scalesName() << ") for " << p->weightsName()
             << " (quant_type 'int' needs scales)";
    if (failed(
            expectElementType(ctx, p->scales, p->scalesName(), *elementType)))
      return failure();
    if (p->bias &&
        failed(expectElementType(ctx, p->bias, p->biasName(), *elementType)))
      return failure();
    if (p->zeroPoints) {
      Type zp = tensorType(p->zeroPoints).getElementType();
      if (!zp.isUnsignedInteger(8))
        return ctx.emitError()
               << p->zeroPointsName() << " must be uint8, got " << typeName(zp);
    }
  }
  FailureOr<LayerSizes> sizes =
      checkShapes(ctx, *input, *router, {&fc1, &fc2, &fc3}, *attrs, blockSize);
  if (failed(sizes))
    return failure();

  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  FloatExperts w;
  w.fc1 = dequantize(b, loc, fc1, sizes->hidden, blockSize);
  w.fc2 = dequantize(b, loc, fc2, sizes->inter, blockSize);
  if (fc3.weights)
    w.fc3 = dequantize(b, loc, fc3, sizes->hidden, blockSize);
  w.fc1Bias = fc1.bias;
  w.fc2Bias = fc2.bias;
  w.fc3Bias = fc3.bias;
  return buildLayer(ctx, *attrs, *input, *router, w);
}

} // namespace

void registerContribMoEOps(ConverterTable &table) {
  table.add("com.microsoft", "MoE", &convertMoE);
  table.add("com.microsoft", "QMoE", &convertQMoE);
}

} // namespace mlir::moe::onnx_import
