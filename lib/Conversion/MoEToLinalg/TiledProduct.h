//===- TiledProduct.h - tiled vector matrix products ------------*- C++ -*-===//
//
// The building block of the tiled grouped_ffn lowering: the rows of x
// [n, K] times selected rows of weight matrices ([N, K], K contiguous), as
// an scf.forall over output column tiles of vector FMA micro-kernels, each
// tile finished by an element-wise epilogue (bias, activation, gating).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_CONVERSION_MOETOLINALG_TILEDPRODUCT_H
#define MOE_LIB_CONVERSION_MOETOLINALG_TILEDPRODUCT_H

#include "moe/Conversion/MoEToLinalg/GroupedFFNToTiled.h"

namespace mlir::moe {

/// One column of a product tile: x's rows dotted with row
/// `scale * firstOutputColumn + offset` of `matrix`, plus `bias` (1-D,
/// optional) at that row.
struct WeightColumn {
  Value matrix;
  Value bias;
  int64_t scale = 1;
  int64_t offset = 0;
};

/// Maps a tile's column groups to its output: group q holds the sums of
/// columns [q * outTile, (q + 1) * outTile), as one vector<rows * outTile>
/// (lane r * outTile + j: row r, output column j); the result has that
/// shape too.
using TileEpilogue =
    function_ref<Value(OpBuilder &, Location, ValueRange groups)>;

/// out[:, o + j] for the output tiles o = 0, outTile, ... < outColumns:
/// `epilogue` applied to the sums of the tile's `columns` (groups of
/// `outTile` consecutive columns; no epilogue: a single group, stored as
/// is).
struct TiledProduct {
  SmallVector<WeightColumn> columns;
  int64_t outTile = 1;
  int64_t outColumns = 0;
  TileEpilogue epilogue = nullptr;
};

/// Where the rows of a product come from and where its output rows go. By
/// default row r reads x[r] and is stored to row r of the output.
struct ProductRows {
  /// Rows [0, count) are computed.
  Value count;
  /// A fused moe.permute: row r reads x[max(gatherTokens[begin + r], 0)].
  Value gatherTokens;
  /// A fused moe.combine: row r times scatterWeights[begin + r] is added to
  /// output row scatterTokens[begin + r]; rows with a token < 0 are skipped.
  Value scatterTokens, scatterWeights;
  /// Index of row 0 in the token and weight tensors.
  Value begin;
};

/// Writes `product` of the rows of `x` ([*, K], K a multiple of the vector
/// width) selected by `rows` into `init` ([*, outColumns]) and returns the
/// result.
Value buildTiledProduct(OpBuilder &b, Location loc, const TiledProduct &product,
                        Value x, const ProductRows &rows, Value init,
                        const GroupedFFNTilingOptions &options);

} // namespace mlir::moe

#endif // MOE_LIB_CONVERSION_MOETOLINALG_TILEDPRODUCT_H
