//===- Passes.h - moe conversion passes -------------------------*- C++ -*-===//

#ifndef MOE_CONVERSION_PASSES_H
#define MOE_CONVERSION_PASSES_H

#include "moe/Conversion/MoEToGPU/MoEToGPU.h"
#include "moe/Conversion/MoEToGPU/WGMMA.h"
#include "moe/Conversion/MoEToLinalg/GroupedFFNRowParallel.h"
#include "moe/Conversion/MoEToLinalg/GroupedFFNToMMA.h"
#include "moe/Conversion/MoEToLinalg/GroupedFFNToWGMMA.h"
#include "moe/Conversion/MoEToLinalg/GroupedFFNToTiled.h"
#include "moe/Conversion/MoEToLinalg/MoEToLinalg.h"
#include "moe/Conversion/MoEToLinalg/RoutingToDevice.h"

namespace mlir::moe {
#define GEN_PASS_REGISTRATION
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

#endif // MOE_CONVERSION_PASSES_H
