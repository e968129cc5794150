//===- MoEToGPU.h - bufferised host code to GPU kernels ---------*- C++ -*-===//
//
// The memref-level passes of the CUDA pipeline: the model's constants become
// arguments of the entry function (uploaded once by the artifact), and every
// buffer and every memory access moves to the device.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOGPU_MOETOGPU_H
#define MOE_CONVERSION_MOETOGPU_MOETOGPU_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL_MOEGPUHOISTCONSTANTS
#define GEN_PASS_DECL_MOEGPUOFFLOAD
#define GEN_PASS_DECL_MOEGPUNAMEKERNELS
#define GEN_PASS_DECL_MOEGPUMAPWARPTILES
#define GEN_PASS_DECL_MOEGPUPREPAREMMA
#include "moe/Conversion/Passes.h.inc"

/// Unit attribute of kernels whose contracts multiply bf16 operands (stored
/// as f16 bits): moe-gpu-prepare-mma lowers their MMAs to bf16 nvvm.mma.sync.
inline constexpr llvm::StringLiteral kMMABF16AttrName = "moe.mma_bf16";

/// The module attribute listing the types of the hoisted constants, in
/// argument order (after the model's inputs).
inline constexpr llvm::StringLiteral kGPUConstantsAttrName =
    "moe.gpu.constants";
/// Prefix of the getter returning hoisted constant i (`_moe_constant_<i>`;
/// the leading underscore keeps it out of the artifact's `moe_*` exports).
inline constexpr llvm::StringLiteral kGPUConstantGetterPrefix =
    "_moe_constant_";

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOGPU_MOETOGPU_H
