//===- ElementwiseOps.h - helpers shared by the math converters -*- C++ -*-===//
//
// Internal to the importer. Builders shared by the converters of
// ElementwiseOps.cpp, MatMulOps.cpp, NormalizationOps.cpp and
// ReductionOps.cpp: numpy-style broadcasting onto `linalg.generic`, scalar
// arithmetic with f32 computation for f16/bf16, ONNX Cast semantics on
// scalars, reductions over a set of dimensions, and adding/removing unit
// dimensions.
//
// Conventions. Values inside `linalg.generic` bodies are signless: the
// builders below turn unsigned block arguments into signless scalars (and
// an unsigned result back) with `builtin.unrealized_conversion_cast`, which
// the LLVM lowering folds away (tensor.bitcast does not bufferize in MLIR
// 22). A converter that needs the signedness reads it from the ONNX-level
// element type.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_TARGET_ONNX_ELEMENTWISEOPS_H
#define MOE_LIB_TARGET_ONNX_ELEMENTWISEOPS_H

#include "ImportState.h"

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::moe::onnx_import {

//===--- Element types ----------------------------------------------------===//

/// `type` with signedness dropped (ui8 -> i8); other types unchanged.
Type signlessType(Type type);
/// Whether `type` is an unsigned integer (uiN) or i1 (bool compares and
/// extends as unsigned).
bool isUnsignedLike(Type type);
/// The type arithmetic on `type` happens in: f32 for f16/bf16, else `type`.
Type computeType(Type type);
/// Extends an f16/bf16 scalar to f32 (other values are returned as is).
Value promoteScalar(OpBuilder &b, Location loc, Value value);
/// Truncates a scalar computed by `promoteScalar` back to `type`.
Value demoteScalar(OpBuilder &b, Location loc, Value value, Type type);
/// A scalar of ONNX-level type `from` (signless value) converted to `to`
/// with ONNX Cast semantics: float -> int truncates toward zero, anything
/// -> bool is `!= 0`, bool and unsigned integers extend with zeros. The
/// result is signless.
Value castScalar(OpBuilder &b, Location loc, Value value, Type from, Type to);

/// An unsigned integer scalar as the signless integer of its width (other
/// values are returned as is).
Value toSignlessScalar(OpBuilder &b, Location loc, Value value);
/// A signless scalar as `type` (which may be unsigned).
Value fromSignlessScalar(OpBuilder &b, Location loc, Value value, Type type);

//===--- Shapes -----------------------------------------------------------===//

/// Static shape of `sizes` (dynamic where a size is a value).
llvm::SmallVector<int64_t> staticShape(llvm::ArrayRef<OpFoldResult> sizes);

/// Result sizes of numpy multidirectional broadcasting of the leading
/// `ranks[i]` dimensions of `operands[i]` (all dimensions when `ranks` is
/// empty). Static dimensions other than 1 must agree; a static 1 broadcasts;
/// two dynamic dimensions are assumed equal, and a dynamic dimension next to
/// a static one other than 1 is assumed to be that size. Reports the node
/// when static dimensions disagree ("<what> are not broadcastable: ...").
FailureOr<llvm::SmallVector<OpFoldResult>>
broadcastSizes(NodeContext &ctx, llvm::ArrayRef<Value> operands,
               llvm::ArrayRef<int64_t> ranks = {},
               llvm::StringRef what = "operands");

/// Checks that `operand` broadcasts unidirectionally to `sizes` (numpy
/// rules, `operand` may have lower rank); `what` names it in the message.
LogicalResult checkBroadcastableTo(NodeContext &ctx, Value operand,
                                   llvm::ArrayRef<OpFoldResult> sizes,
                                   llvm::StringRef what);

/// Indexing map that reads the leading `rank` dimensions of a tensor of
/// `shape` (right-aligned) inside `numLoops` loops whose first
/// `outSizes.size()` loops range over `outSizes`: a static 1 read against a
/// larger loop is the constant 0.
AffineMap broadcastIndexingMap(MLIRContext *ctx, llvm::ArrayRef<int64_t> shape,
                               llvm::ArrayRef<OpFoldResult> outSizes,
                               unsigned numLoops, unsigned firstLoop = 0);

/// Map of `numLoops` loops onto the loops not in `reducedDims`.
AffineMap reducedIndexingMap(MLIRContext *ctx, unsigned numLoops,
                             llvm::ArrayRef<int64_t> reducedDims);

//===--- linalg builders
//---------------------------------------------------===//

/// Body of an elementwise op: signless scalars in, one scalar out.
using ScalarBody = llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// A parallel `linalg.generic` over `outSizes` reading `inputs` through
/// `maps` and yielding `body` (which sees and returns signless scalars) into
/// a new tensor of `resultElementType` (unsigned allowed).
Value buildParallelGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                           llvm::ArrayRef<AffineMap> maps,
                           llvm::ArrayRef<OpFoldResult> outSizes,
                           Type resultElementType, ScalarBody body);

/// Elementwise op with multidirectional broadcasting of `operands` (ONNX
/// element types, unsigned allowed): the body sees signless scalars; the
/// result has `resultElementType` (unsigned allowed).
FailureOr<Value> buildBroadcastElementwise(NodeContext &ctx,
                                           llvm::ArrayRef<Value> operands,
                                           Type resultElementType,
                                           ScalarBody body);

/// Body of a reduction: (element, value of the `reduced`-shaped extra
/// operand or null, accumulator) -> new accumulator.
using ReductionBody =
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value, Value)>;

/// Reduces `input` over `dims` (sorted, unique) into a tensor of the
/// remaining dimensions, starting from the scalar `init` (whose signless
/// type is the accumulator's; the body sees signless scalars). `extra`, when
/// given, has the reduced shape and is read alongside (e.g. a mean when summing
/// squared deviations).
Value buildReduction(OpBuilder &b, Location loc, Value input,
                     llvm::ArrayRef<int64_t> dims, Value init,
                     ReductionBody body, Value extra = nullptr);

/// Sizes of `tensor` without `dims`.
llvm::SmallVector<OpFoldResult> sizesWithout(OpBuilder &b, Location loc,
                                             Value tensor,
                                             llvm::ArrayRef<int64_t> dims);

/// Number of elements in `dims` of `tensor` as a scalar of float type
/// `type` (a constant when those dimensions are static).
Value elementCount(OpBuilder &b, Location loc, Value tensor,
                   llvm::ArrayRef<int64_t> dims, Type type);

/// Inserts unit dimensions so that they sit at `unitDims` (sorted) of the
/// result (`tensor.expand_shape`).
Value insertUnitDims(OpBuilder &b, Location loc, Value tensor,
                     llvm::ArrayRef<int64_t> unitDims);
/// Removes the unit dimensions `unitDims` (sorted; static 1 in the type)
/// with `tensor.collapse_shape`.
Value dropUnitDims(OpBuilder &b, Location loc, Value tensor,
                   llvm::ArrayRef<int64_t> unitDims);

/// Lowest and highest finite-or-infinite scalar of signless `type` used as
/// identities of max/min (-inf/+inf for floats, extreme integers honoring
/// `isUnsigned`).
Value lowestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned);
Value highestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned);

} // namespace mlir::moe::onnx_import

#endif // MOE_LIB_TARGET_ONNX_ELEMENTWISEOPS_H
