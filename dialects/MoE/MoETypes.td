//===- MoETypes.td - moe types -----------------------------*- tablegen -*-===//

#ifndef MOE_TYPES_TD
#define MOE_TYPES_TD

include "MoE/MoEDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def MoE_PendingType : TypeDef<MoE_Dialect, "Pending"> {
  let mnemonic = "pending";
  let summary = "A communication in flight that will produce a tensor";
  let description = [{
    The result of an asynchronous collective such as
    `moe.ragged_all_to_all_start`. It can only be consumed by the matching
    wait, which yields the tensor of type `valueType`. Between start and wait
    other work (e.g. the previous chunk's expert compute) may run.

    ```mlir
    !moe.pending<tensor<512x1024xf32>>
    ```
  }];
  let parameters = (ins "::mlir::RankedTensorType":$valueType);
  let assemblyFormat = "`<` $valueType `>`";
}

#endif // MOE_TYPES_TD
