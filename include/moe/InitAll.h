//===- InitAll.h - register everything the moe tools need -------*- C++ -*-===//

#ifndef MOE_INITALL_H
#define MOE_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir::moe {

/// Adds the moe dialect and the upstream dialects (with their interface
/// extensions) that the moe tools and pipelines use.
void registerAllDialects(DialectRegistry &registry);

/// Registers moe passes, conversions, named pipelines and the upstream
/// passes the pipelines are built from.
void registerAllPasses();

} // namespace mlir::moe

#endif // MOE_INITALL_H
