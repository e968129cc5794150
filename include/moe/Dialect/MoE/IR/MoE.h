//===- MoE.h - The moe dialect ----------------------------------*- C++ -*-===//
//
// Public entry point of the moe dialect: the dialect, its attributes, types
// and operations.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_DIALECT_MOE_IR_MOE_H
#define MOE_DIALECT_MOE_IR_MOE_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <limits>

namespace mlir::moe {
/// Parses a double attribute parameter (used by ODS-generated parsers).
FailureOr<llvm::APFloat> parseDoubleParameter(AsmParser &parser);
/// Prints a double in the shortest form that parses back to the same value.
void printDoubleParameter(AsmPrinter &printer, const llvm::APFloat &value);
} // namespace mlir::moe

#include "moe/Dialect/MoE/IR/MoEDialect.h.inc"
#include "moe/Dialect/MoE/IR/MoEEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "moe/Dialect/MoE/IR/MoEAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "moe/Dialect/MoE/IR/MoETypes.h.inc"

#define GET_OP_CLASSES
#include "moe/Dialect/MoE/IR/MoEOps.h.inc"

#endif // MOE_DIALECT_MOE_IR_MOE_H
