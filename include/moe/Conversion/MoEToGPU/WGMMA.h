//===- WGMMA.h - warpgroup GEMM kernels (sm_90a) ----------------*- C++ -*-===//
//
// The memref-level passes of the sm_90a grouped GEMM: the marked generics of
// convert-moe-grouped-ffn-to-wgmma as TMA + wgmma kernels, and their TMA
// descriptors made on the host.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CONVERSION_MOETOGPU_WGMMA_H
#define MOE_CONVERSION_MOETOGPU_WGMMA_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moe {

#define GEN_PASS_DECL_MOEGPUWGMMAGEMM
#define GEN_PASS_DECL_MOEGPUTMADESCRIPTORS
#include "moe/Conversion/Passes.h.inc"

/// The attribute of a TMA descriptor placeholder: the tensor map type
/// (`!nvgpu.tensormap.descriptor<...>`) to create over the cast buffer.
inline constexpr llvm::StringLiteral kTMADescriptorAttrName =
    "moe.tma_descriptor";

} // namespace mlir::moe

#endif // MOE_CONVERSION_MOETOGPU_WGMMA_H
