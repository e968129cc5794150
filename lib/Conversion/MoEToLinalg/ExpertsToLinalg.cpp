//===- ExpertsToLinalg.cpp - reference lowering of the expert ops ---------===//
//
// moe.grouped_ffn, moe.shared_ffn, moe.special_experts and moe.dequantize
// become scf.for loops over rows (result tensors carried as iter_args), one
// linalg.matvec per expert GEMV on one row, and element-wise linalg.generic
// / tensor.generate ops. This is the semantic oracle of the compiler: it is
// meant to be obviously correct, not fast.
//
//===----------------------------------------------------------------------===//

#include "moe/Conversion/MoEToLinalg/Activations.h"
#include "moe/Conversion/MoEToLinalg/LoweringUtils.h"
#include "moe/Conversion/MoEToLinalg/MoEToLinalg.h"
#include "moe/Dialect/MoE/IR/MoE.h"

#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace mlir::moe;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// FFN arithmetic runs in f64 for f64 rows and in f32 otherwise, so that
/// f16/bf16 experts do not accumulate in half precision.
Type computeTypeFor(Type elementType) {
  return elementType.isF64() ? elementType
                             : Float32Type::get(elementType.getContext());
}

Value floatLike(OpBuilder &b, Location loc, Value like, double value) {
  return floatConstant(b, loc, like.getType(), value);
}

/// 1 / (1 + exp(-x)).
Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Value one = floatLike(b, loc, x, 1.0);
  Value negated = arith::NegFOp::create(b, loc, x);
  Value denominator =
      arith::AddFOp::create(b, loc, one, math::ExpOp::create(b, loc, negated));
  return arith::DivFOp::create(b, loc, one, denominator);
}

/// The scalar dot product of two 1-D tensors (linalg.dot).
Value dot(OpBuilder &b, Location loc, Value lhs, Value rhs) {
  Type type = cast<RankedTensorType>(lhs.getType()).getElementType();
  Value zero = filledTensor(b, loc, RankedTensorType::get({}, type), 0.0);
  Value product =
      linalg::DotOp::create(b, loc, ValueRange{lhs, rhs}, zero).getResult(0);
  return tensor::ExtractOp::create(b, loc, product, ValueRange{});
}

//===----------------------------------------------------------------------===//
// One FFN expert on one row
//===----------------------------------------------------------------------===//

/// The weights of one FFN expert: fc1 [f*I, H], fc2 [H, I], fc3 [I, H] and
/// their optional biases (null when absent).
struct FFNWeights {
  Value fc1, fc1Bias, fc2, fc2Bias, fc3, fc3Bias;
};

/// `w` with every tensor sliced to expert `expert` (when given) and cast to
/// `computeType`: done once per expert, outside the loop over its rows.
FFNWeights prepareWeights(OpBuilder &b, Location loc, const FFNWeights &w,
                          Value expert, Type computeType) {
  auto prepare = [&](Value tensor) -> Value {
    if (!tensor)
      return tensor;
    if (expert)
      tensor = selectExpert(b, loc, tensor, expert);
    return castFloatTensor(b, loc, tensor, computeType);
  };
  return {prepare(w.fc1),     prepare(w.fc1Bias), prepare(w.fc2),
          prepare(w.fc2Bias), prepare(w.fc3),     prepare(w.fc3Bias)};
}

/// weight · x + bias (bias optional): one linalg.matvec.
Value affine(OpBuilder &b, Location loc, Value weight, Value bias, Value x) {
  auto weightType = cast<RankedTensorType>(weight.getType());
  auto type = RankedTensorType::get({weightType.getDimSize(0)},
                                    weightType.getElementType());
  SmallVector<Value> dynamicSizes;
  if (type.isDynamicDim(0))
    dynamicSizes.push_back(indexDim(b, loc, weight, 0));
  Value zeros = filledTensor(b, loc, type, 0.0, dynamicSizes);
  Value product = linalg::MatvecOp::create(b, loc, ValueRange{weight, x}, zeros)
                      .getResult(0);
  if (!bias)
    return product;
  return mapElements(b, loc, {product, bias}, type.getElementType(),
                     [](OpBuilder &b, Location loc, ValueRange args) {
                       return arith::AddFOp::create(b, loc, args[0], args[1]);
                     });
}

} // namespace

Value mlir::moe::activateScalar(OpBuilder &b, Location loc, Activation kind,
                                Value x) {
  auto constant = [&](double value) { return floatLike(b, loc, x, value); };
  auto mul = [&](Value l, Value r) -> Value {
    return arith::MulFOp::create(b, loc, l, r);
  };
  auto add = [&](Value l, Value r) -> Value {
    return arith::AddFOp::create(b, loc, l, r);
  };
  switch (kind) {
  case Activation::relu:
    return arith::MaximumFOp::create(b, loc, x, constant(0.0));
  case Activation::gelu_tanh: {
    // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
    Value cube = mul(mul(x, x), x);
    Value inner = mul(constant(std::sqrt(2.0 / M_PI)),
                      add(x, mul(constant(0.044715), cube)));
    Value tanh = math::TanhOp::create(b, loc, inner);
    return mul(mul(constant(0.5), x), add(constant(1.0), tanh));
  }
  case Activation::gelu_erf: {
    // 0.5 x (1 + erf(x / sqrt(2))).
    Value scaled = arith::DivFOp::create(b, loc, x, constant(std::sqrt(2.0)));
    Value erf = math::ErfOp::create(b, loc, scaled);
    return mul(mul(constant(0.5), x), add(constant(1.0), erf));
  }
  case Activation::silu:
    return mul(x, sigmoid(b, loc, x));
  case Activation::identity:
    return x;
  case Activation::swiglu:
    break;
  }
  llvm_unreachable("swiglu is not element-wise");
}

Value mlir::moe::swigluScalar(OpBuilder &b, Location loc,
                              ActivationConfigAttr act, Value gate, Value lin) {
  double limit = act.limitValue();
  if (!std::isinf(limit)) {
    Value upper = floatLike(b, loc, gate, limit);
    Value lower = floatLike(b, loc, gate, -limit);
    gate = arith::MinimumFOp::create(b, loc, gate, upper);
    lin = arith::MaximumFOp::create(
        b, loc, arith::MinimumFOp::create(b, loc, lin, upper), lower);
  }
  Value slope = arith::MulFOp::create(
      b, loc, floatLike(b, loc, gate, act.alphaValue()), gate);
  Value glu = arith::MulFOp::create(b, loc, gate, sigmoid(b, loc, slope));
  Value shifted = arith::AddFOp::create(
      b, loc, lin, floatLike(b, loc, lin, act.betaValue()));
  return arith::MulFOp::create(b, loc, glu, shifted);
}

namespace {

/// The activation of fc1's output `h` ([f*I]), giving [I]. For swiglu the
/// gate and linear halves are strided (interleaved) or contiguous
/// (concatenated) slices of `h`.
Value activate(OpBuilder &b, Location loc, ActivationConfigAttr act, Value h,
               OpFoldResult inter) {
  Type type = cast<RankedTensorType>(h.getType()).getElementType();
  if (act.getKind() != Activation::swiglu)
    return mapElements(b, loc, h, type,
                       [&](OpBuilder &b, Location loc, ValueRange args) {
                         return activateScalar(b, loc, act.getKind(), args[0]);
                       });

  bool interleaved = act.getLayout() == SwigluLayout::interleaved;
  OpFoldResult stride = b.getIndexAttr(interleaved ? 2 : 1);
  OpFoldResult linStart = interleaved ? b.getIndexAttr(1) : inter;
  auto half = [&](OpFoldResult start) -> Value {
    return tensor::ExtractSliceOp::create(b, loc, h, {start}, {inter},
                                          {stride});
  };
  Value gate = half(b.getIndexAttr(0));
  Value lin = half(linStart);
  return mapElements(b, loc, {gate, lin}, type,
                     [&](OpBuilder &b, Location loc, ValueRange args) {
                       return swigluScalar(b, loc, act, args[0], args[1]);
                     });
}

/// One FFN expert on one row `x` ([H], compute type):
/// fc2(act(fc1 x)), or fc2(act(fc1 x) * fc3 x) when gated. The single
/// definition of an FFN expert, shared by grouped_ffn and shared_ffn.
Value applyFFN(OpBuilder &b, Location loc, const FFNWeights &w,
               ActivationConfigAttr act, Value x) {
  OpFoldResult inter = tensor::getMixedSize(b, loc, w.fc2, 1);
  Value h = affine(b, loc, w.fc1, w.fc1Bias, x);
  Value a = activate(b, loc, act, h, inter);
  if (w.fc3) {
    Value up = affine(b, loc, w.fc3, w.fc3Bias, x);
    a = mapElements(b, loc, {a, up},
                    cast<RankedTensorType>(a.getType()).getElementType(),
                    [](OpBuilder &b, Location loc, ValueRange args) {
                      return arith::MulFOp::create(b, loc, args[0], args[1]);
                    });
  }
  return affine(b, loc, w.fc2, w.fc2Bias, a);
}

//===----------------------------------------------------------------------===//
// moe.grouped_ffn
//===----------------------------------------------------------------------===//

/// result = zeros; for e < E_ffn, for r in [offsets[e], offsets[e+1]):
/// result[r] = FFN_e(rows[r]). Rows of other experts and padding stay zero.
struct GroupedFFNOpLowering : OpConversionPattern<GroupedFFNOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GroupedFFNOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value rows = adaptor.getRows();
    Value offsets = adaptor.getOffsets();
    auto type = op.getResult().getType();
    Type computeType = computeTypeFor(type.getElementType());
    FFNWeights weights{adaptor.getFc1Weights(), adaptor.getFc1Bias(),
                       adaptor.getFc2Weights(), adaptor.getFc2Bias(),
                       adaptor.getFc3Weights(), adaptor.getFc3Bias()};
    ActivationConfigAttr act = op.getActivation();

    Value result = filledTensor(rewriter, loc, type, 0.0,
                                dynamicDimSizes(rewriter, loc, rows));
    Value one = indexConstant(rewriter, loc, 1);
    Value grouped = forRange(
        rewriter, loc, indexConstant(rewriter, loc, 0),
        indexDim(rewriter, loc, weights.fc1, 0), result,
        [&](OpBuilder &b, Location loc, Value e, ValueRange carried) {
          FFNWeights expert = prepareWeights(b, loc, weights, e, computeType);
          Value begin = extractAsIndex(b, loc, offsets, e);
          Value end =
              extractAsIndex(b, loc, offsets,
                             arith::AddIOp::create(b, loc, e, one).getResult());
          return forRange(
              b, loc, begin, end, carried,
              [&](OpBuilder &b, Location loc, Value r,
                  ValueRange carried) -> SmallVector<Value> {
                Value x = castFloatTensor(b, loc, extractRow(b, loc, rows, r),
                                          computeType);
                Value y = applyFFN(b, loc, expert, act, x);
                y = castFloatTensor(b, loc, y, type.getElementType());
                return {insertRow(b, loc, y, carried[0], r)};
              });
        })[0];
    rewriter.replaceOp(op, grouped);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// moe.shared_ffn
//===----------------------------------------------------------------------===//

/// result[t] = FFN(input[t]), times sigmoid(dot(input[t], gate)) when gated.
struct SharedFFNOpLowering : OpConversionPattern<SharedFFNOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SharedFFNOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = op.getResult().getType();
    Type computeType = computeTypeFor(type.getElementType());
    FFNWeights weights = prepareWeights(
        rewriter, loc,
        {adaptor.getFc1Weights(), adaptor.getFc1Bias(), adaptor.getFc2Weights(),
         adaptor.getFc2Bias(), adaptor.getFc3Weights(), adaptor.getFc3Bias()},
        /*expert=*/Value(), computeType);
    Value gate = adaptor.getGate();
    if (gate)
      gate = castFloatTensor(rewriter, loc, gate, computeType);
    ActivationConfigAttr act = op.getActivation();

    Value result =
        emptyLike(rewriter, loc, type, dynamicDimSizes(rewriter, loc, input));
    Value shared =
        forRange(rewriter, loc, indexConstant(rewriter, loc, 0),
                 indexDim(rewriter, loc, input, 0), result,
                 [&](OpBuilder &b, Location loc, Value t,
                     ValueRange carried) -> SmallVector<Value> {
                   Value x = castFloatTensor(
                       b, loc, extractRow(b, loc, input, t), computeType);
                   Value y = applyFFN(b, loc, weights, act, x);
                   if (gate) {
                     Value scale = sigmoid(b, loc, dot(b, loc, x, gate));
                     y = mapElements(
                         b, loc, y, computeType,
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           return arith::MulFOp::create(b, loc, args[0], scale);
                         });
                   }
                   y = castFloatTensor(b, loc, y, type.getElementType());
                   return {insertRow(b, loc, y, carried[0], t)};
                 })[0];
    rewriter.replaceOp(op, shared);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// moe.special_experts
//===----------------------------------------------------------------------===//

/// result = zeros; rows of the copy experts get their input row, rows of
/// constant expert j get constants[j]; null experts' rows stay zero.
struct SpecialExpertsOpLowering : OpConversionPattern<SpecialExpertsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SpecialExpertsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value rows = adaptor.getRows();
    Value offsets = adaptor.getOffsets();
    int64_t firstCopy = op.getFirstExpert() + op.getNumNull();
    int64_t firstConstant = firstCopy + op.getNumCopy();

    Value result = filledTensor(rewriter, loc, op.getResult().getType(), 0.0,
                                dynamicDimSizes(rewriter, loc, rows));
    // The copy experts' rows are contiguous: one loop covers them all.
    if (op.getNumCopy() > 0)
      result = fillRows(rewriter, loc, offsets, firstCopy, firstConstant,
                        result, [&](OpBuilder &b, Location loc, Value r) {
                          return extractRow(b, loc, rows, r);
                        });
    for (int64_t j = 0, e = op.getNumConstant(); j < e; ++j)
      result = fillRows(rewriter, loc, offsets, firstConstant + j,
                        firstConstant + j + 1, result,
                        [&](OpBuilder &b, Location loc, Value) {
                          return extractRow(b, loc, adaptor.getConstants(),
                                            indexConstant(b, loc, j));
                        });
    rewriter.replaceOp(op, result);
    return success();
  }

  /// Writes `rowOf(r)` into every row r of experts [firstExpert, endExpert),
  /// i.e. rows [offsets[firstExpert], offsets[endExpert]).
  static Value
  fillRows(OpBuilder &b, Location loc, Value offsets, int64_t firstExpert,
           int64_t endExpert, Value result,
           function_ref<Value(OpBuilder &, Location, Value)> rowOf) {
    Value begin =
        extractAsIndex(b, loc, offsets, indexConstant(b, loc, firstExpert));
    Value end =
        extractAsIndex(b, loc, offsets, indexConstant(b, loc, endExpert));
    return forRange(b, loc, begin, end, result,
                    [&](OpBuilder &b, Location loc, Value r,
                        ValueRange carried) -> SmallVector<Value> {
                      return {
                          insertRow(b, loc, rowOf(b, loc, r), carried[0], r)};
                    })[0];
  }
};

//===----------------------------------------------------------------------===//
// moe.dequantize
//===----------------------------------------------------------------------===//

/// A signed or unsigned integer scalar as the signless integer of the same
/// width that arith works on. Builtin tensors can hold ui8/si8 but arith
/// cannot, and tensor.bitcast does not bufferize in MLIR 22; the cast is
/// the one TosaToLinalg uses for unsigned values and folds away in the LLVM
/// lowering (both types become i8).
Value toSignless(OpBuilder &b, Location loc, Value value) {
  auto type = cast<IntegerType>(value.getType());
  if (type.isSignless())
    return value;
  return UnrealizedConversionCastOp::create(
             b, loc, b.getIntegerType(type.getWidth()), value)
      .getResult(0);
}

/// An integer scalar as a float: offset binary (ui8) is zero-extended,
/// two's complement (i8, si8) sign-extended.
Value integerToFloat(OpBuilder &b, Location loc, Value value, bool isUnsigned,
                     Type floatType) {
  if (isUnsigned)
    return arith::UIToFPOp::create(b, loc, floatType, value);
  return arith::SIToFPOp::create(b, loc, floatType, value);
}

/// result[..., n, j] = (q(..., n, j) - zp) * scale as one tensor.generate:
/// each element reads its byte, scale and zero point with tensor.extract.
struct DequantizeOpLowering : OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getResult().getType();
    int64_t rank = type.getRank();
    if (op.getBits() == 4 && type.isDynamicDim(rank - 1))
      return rewriter.notifyMatchFailure(
          op, "packed int4 with a dynamic K: K is 2 * bytes or one less");

    Value quantized = adaptor.getQuantized();
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < rank; ++d)
      if (type.isDynamicDim(d))
        dynamicSizes.push_back(indexDim(rewriter, loc, quantized, d));

    auto generate = tensor::GenerateOp::create(
        rewriter, loc, type, dynamicSizes,
        [&](OpBuilder &b, Location loc, ValueRange indices) {
          Value value = dequantizeElement(b, loc, op, adaptor, indices);
          tensor::YieldOp::create(b, loc, value);
        });
    rewriter.replaceOp(op, generate.getResult());
    return success();
  }

  /// The dequantised element at `indices` ([..., n, j]).
  static Value dequantizeElement(OpBuilder &b, Location loc, DequantizeOp op,
                                 OpAdaptor adaptor, ValueRange indices) {
    Type resultType = op.getResult().getType().getElementType();
    Type computeType = computeTypeFor(resultType);
    Value j = indices.back();
    ValueRange rowIndices = indices.drop_back();

    Value q =
        decodeWeight(b, loc, op, adaptor.getQuantized(), indices, computeType);

    // Scales and zero points: [..., n] row-wise, [..., n, j / block] else.
    SmallVector<Value> scaleIndices(rowIndices);
    if (int64_t block = op.getBlockSize())
      scaleIndices.push_back(
          arith::DivUIOp::create(b, loc, j, indexConstant(b, loc, block)));
    Value scale = castFloat(
        b, loc,
        tensor::ExtractOp::create(b, loc, adaptor.getScales(), scaleIndices),
        computeType);
    Value zeroPoint = decodeZeroPoint(b, loc, op, adaptor.getZeroPoints(),
                                      scaleIndices, computeType);

    Value centred = arith::SubFOp::create(b, loc, q, zeroPoint);
    Value value = arith::MulFOp::create(b, loc, centred, scale);
    return castFloat(b, loc, value, resultType);
  }

  /// The stored value of element [..., n, j] as a float. bits = 4: byte
  /// j / 2 holds j = 2m in its low nibble and j = 2m + 1 in its high one;
  /// signed nibbles are sign-extended with an arithmetic shift.
  static Value decodeWeight(OpBuilder &b, Location loc, DequantizeOp op,
                            Value quantized, ValueRange indices,
                            Type computeType) {
    bool isUnsigned =
        cast<IntegerType>(op.getQuantized().getType().getElementType())
            .isUnsigned();
    Value j = indices.back();
    SmallVector<Value> byteIndices(indices);
    if (op.getBits() == 8) {
      Value byte = toSignless(
          b, loc, tensor::ExtractOp::create(b, loc, quantized, byteIndices));
      return integerToFloat(b, loc, byte, isUnsigned, computeType);
    }

    Value two = indexConstant(b, loc, 2);
    byteIndices.back() = arith::DivUIOp::create(b, loc, j, two);
    Value byte = toSignless(
        b, loc, tensor::ExtractOp::create(b, loc, quantized, byteIndices));
    Value four = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4));
    Value isHigh = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                         arith::RemUIOp::create(b, loc, j, two),
                                         indexConstant(b, loc, 0));
    // Move the wanted nibble into the high half, then shift it back down:
    // logically for offset binary, arithmetically for two's complement.
    Value lowUp = arith::ShLIOp::create(b, loc, byte, four);
    Value top = arith::SelectOp::create(b, loc, isHigh, byte, lowUp);
    Value nibble = isUnsigned
                       ? arith::ShRUIOp::create(b, loc, top, four).getResult()
                       : arith::ShRSIOp::create(b, loc, top, four).getResult();
    return integerToFloat(b, loc, nibble, isUnsigned, computeType);
  }

  /// The zero point at `indices` of `zeroPoints` as a float, or the default:
  /// 2^(bits-1) for offset binary (ui8), 0 for two's complement.
  static Value decodeZeroPoint(OpBuilder &b, Location loc, DequantizeOp op,
                               Value zeroPoints, ValueRange indices,
                               Type computeType) {
    if (!zeroPoints) {
      bool isUnsigned =
          cast<IntegerType>(op.getQuantized().getType().getElementType())
              .isUnsigned();
      double zero = isUnsigned ? double(int64_t(1) << (op.getBits() - 1)) : 0;
      return floatConstant(b, loc, computeType, zero);
    }
    Value zeroPoint = tensor::ExtractOp::create(b, loc, zeroPoints, indices);
    if (isa<FloatType>(zeroPoint.getType()))
      return castFloat(b, loc, zeroPoint, computeType);
    bool isUnsigned = cast<IntegerType>(zeroPoint.getType()).isUnsigned();
    return integerToFloat(b, loc, toSignless(b, loc, zeroPoint), isUnsigned,
                          computeType);
  }
};

} // namespace

void mlir::moe::populateExpertsToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<GroupedFFNOpLowering, SharedFFNOpLowering,
               SpecialExpertsOpLowering, DequantizeOpLowering>(
      patterns.getContext());
}
