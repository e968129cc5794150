//===- Passes.td - moe conversion passes -------------------*- tablegen -*-===//

#ifndef MOE_CONVERSION_PASSES_TD
#define MOE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMoEToLinalg : Pass<"convert-moe-to-linalg"> {
  let summary = "Reference lowering of moe compute ops to upstream dialects";
  let description = [{
    Lowers `moe.route`, `moe.expert_choice_route`, `moe.dispatch`,
    `moe.permute`, `moe.grouped_ffn`, `moe.special_experts`,
    `moe.combine`, `moe.shared_ffn` and `moe.dequantize` to
    linalg/tensor/arith/scf/math at tensor level.

    This lowering is deliberately simple and obviously correct: loops over
    tokens and experts with element-wise bodies and `linalg.matvec` for the
    expert GEMVs. It is the in-compiler semantic oracle the optimised
    lowerings are tested against, not a fast path. `moe.layer` must be
    decomposed first (`moe-decompose-layer`); communication ops are left
    alone.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ConvertMoEGroupedFFNToTiled : Pass<"convert-moe-grouped-ffn-to-tiled"> {
  let summary = "Fast CPU lowering of moe.grouped_ffn to tiled vector code";
  let description = [{
    Lowers `moe.grouped_ffn` with f32 rows, weights and result to a loop
    over experts, skipping experts without rows; for expert `e`, two matrix
    products of the expert's rows `[offsets[e], offsets[e+1])` (dropless, no
    padding) with the transposed weights: fc1 (with fc3 when gated) and
    fc2. Each product is an `scf.forall` over output column tiles whose
    micro-kernel reads `tile-n` weight rows; inside, `tile-rows` rows at a
    time (then a one-row remainder), the reduction over K runs in
    `vector<vector-width x f32>` FMAs with `tile-rows * tile-n`
    accumulators, summed horizontally by one shuffle tree per tile.

    fc1's epilogue applies the bias and the activation (the reference
    lowering's scalar definitions, applied lane-wise): a tile reads the gate
    and linear rows of the same swiglu columns (rows `2c`/`2c+1`
    interleaved, `c`/`I+c` concatenated) and the fc3 rows of the same
    columns, so fc1 writes the activated `[n, I]` directly. fc2 writes into
    the expert's rows of the result; only the rows outside
    `[offsets[0], offsets[E])` are zero-filled. With `approximate-math`,
    the epilogue's vector `exp`/`tanh`/`erf` become polynomial
    approximations instead of libm calls.

    A `moe.combine` of a grouped_ffn (its only use) of `moe.permute`d rows
    with the same tokens is lowered with them: fc1 reads each row straight
    from the permute's input (`x[token]`) and fc2 adds `w * row` into the
    combine's result at the row's token, so neither the permuted rows nor
    the grouped result are materialised.

    With `prefetch`, each row tile's first steps over K also prefetch an
    even share of the next column tile's weight rows into L2, so that
    streaming the weights overlaps the arithmetic. When a tile's weight rows
    exceed `weight-tile-bytes` (fc2 with a long intermediate dimension),
    fc2's reduction over K runs in blocks whose weight rows stay in L1 while
    all the tile's rows pass, the partial sums accumulated in the output;
    when the expert's rows also exceed `row-slab-bytes` (at run time), each
    block is its own parallel pass over the column tiles, so that the
    block's slab of the rows stays in L2.

    Ops it does not handle (other element types, a reduction dimension that
    is not a multiple of `vector-width`, output dimensions that are not a
    multiple of their tile, dynamic weight shapes) are left alone for the
    reference lowering (`convert-moe-to-linalg`).
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector (16 for AVX-512, 8 for AVX2)">,
    Option<"tileRows", "tile-rows", "int64_t", /*default=*/"4",
           "rows computed together by the micro-kernel">,
    Option<"tileN", "tile-n", "int64_t", /*default=*/"4",
           "weight rows (product columns) read together by the micro-kernel">,
    Option<"approximateMath", "approximate-math", "bool", /*default=*/"true",
           "polynomial vector exp/tanh/erf in the activation epilogue">,
    Option<"prefetch", "prefetch", "bool", /*default=*/"true",
           "prefetch the next tile's weights into L2 (memref.prefetch on a "
           "read-only bufferization.to_buffer), spread over the tile's rows">,
    Option<"weightTileBytes", "weight-tile-bytes", "int64_t",
           /*default=*/"16384",
           "bytes of a tile's weight rows above which fc2's reduction over K "
           "runs in blocks (partial sums accumulated in the output tile)">,
    Option<"rowSlabBytes", "row-slab-bytes", "int64_t", /*default=*/"524288",
           "bytes of fc2's rows above which (at run time) each of those "
           "blocks is its own parallel pass">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

def ConvertMoEDispatchToParallel : Pass<"convert-moe-dispatch-to-parallel"> {
  let summary = "Parallel vector CPU lowering of moe.permute and moe.combine";
  let description = [{
    Lowers `moe.permute` (static row width) to an `scf.forall` over the rows
    it writes, each copying its token's row (or zeros for a padding row) in
    vectors, and `moe.combine` (f32, static row width) to an `scf.forall`
    over column blocks of the result: each block walks the rows in order and
    adds `w * row` into its token's columns, the same operations in the same
    order as the reference lowering, without races. With
    `scf-forall-to-parallel` and `convert-scf-to-openmp` the loops run on
    OpenMP threads. Other forms are left alone for the reference lowering
    (`convert-moe-to-linalg`).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

def ConvertMoEGroupedFFNToRowParallel
    : Pass<"convert-moe-grouped-ffn-to-row-parallel"> {
  let summary = "moe.grouped_ffn as products parallel over all rows";
  let description = [{
    Lowers f32 `moe.grouped_ffn` (static weight shapes) without a loop over
    experts: each row's expert is computed from `offsets` (a reduction over
    the expert ends, on the device), and fc1, fc3 and fc2 are each one
    `linalg.generic` over (row, output column, reduction) whose body reads
    the row's expert's weight with `tensor.extract`, initialised with that
    expert's bias; rows past the FFN experts are zero. Every output element
    is independent, so after bufferisation each product is one parallel
    loop over all rows and columns: the GPU pipeline maps it to a grid,
    where the reference lowering's per-expert loop would run in a single
    thread. Other element types are left for the reference lowering.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ConvertMoEGroupedFFNToMMA : Pass<"convert-moe-grouped-ffn-to-mma"> {
  let summary = "moe.grouped_ffn as a grouped GEMM of warp-level MMAs";
  let description = [{
    Lowers `moe.grouped_ffn` to a ragged grouped GEMM on tensor cores
    (bf16/f16 operands, f32 accumulation, f32 epilogue) without a loop over
    experts and without any token count leaving the device:
      - a tile schedule from `offsets`: every expert's rows padded to tiles
        of 16 rows, `ceil(N/16) + E` tiles (a static bound; surplus tiles
        are skipped), tile -> expert;
      - the rows gathered into the padded layout and converted to the
        operand type in one element-wise `linalg.generic`;
      - fc1 (with fc3) and fc2 each one `scf.forall` over (tile, column
        group) mapped to (`#gpu.warp<x>`, `#gpu.warp<y>`) (one warp each on
        the GPU, a loop on the CPU) whose body runs m16n8k16
        `vector.contract`s on `arith.extf`'d operand vectors read with
        `vector.transfer_read`, f32 accumulators, then an epilogue in
        registers: fc1's bias, activation (both swiglu layouts) and fc3
        gating, converted to fc2's operand; fc2's bias, written straight
        into the ragged result.
    Constant weights are converted at compile time. bf16 operands are
    stored as bits in f16 tensors (upstream's `nvgpu.mma.sync` handles f16
    only) and bitcast back before the extension.

    `precision`: `bf16` or `f16` rewrite every float grouped_ffn whose H and
    I are multiples of 16; `f32` only those whose weights already are
    bf16/f16 (in their own type). Others are left alone.

    ```mlir
    %y = moe.grouped_ffn %rows, %off fc1(%w1) fc2(%w2)
           {activation = #moe.activation<kind = relu>}
           : (tensor<?x32xf32>, tensor<5xi32>, tensor<4x16x32xf32>,
              tensor<4x32x16xf32>) -> tensor<?x32xf32>
    // becomes two scf.forall tile loops of
    %d = vector.contract {...} %a, %b, %acc
           : vector<16x16xf32>, vector<8x16xf32> into vector<16x8xf32>
    ```
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"f32\"",
           "MMA operand type: bf16, f16, or f32 (16-bit models only)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

def ConvertMoEGroupedFFNToWGMMA : Pass<"convert-moe-grouped-ffn-to-wgmma"> {
  let summary = "moe.grouped_ffn as a grouped GEMM of warpgroup MMAs (sm_90a)";
  let description = [{
    Hopper's form of `convert-moe-grouped-ffn-to-mma`: the same ragged
    grouped GEMM whose token counts never leave the device, on
    expert-aligned tiles of 64 rows (`ceil(N/64) + E` tiles, surplus tiles
    skipped) so that one warpgroup MMA (`wgmma.m64nNk16`) covers a tile's
    rows. fc1, fc3 and fc2 become `linalg.generic`s over (padded row,
    column, reduction) that read the tile's expert's weight and carry the
    attribute `moe.wgmma_gemm`; they have the GEMM's semantics (the CPU runs
    them as loops) and `moe-gpu-wgmma-gemm` turns them into TMA + wgmma
    kernels after bufferisation. Gather, activation epilogue and un-padding
    are those of the mma.sync lowering.

    `precision` as for `convert-moe-grouped-ffn-to-mma`. Only grouped_ffns
    whose H and I are multiples of 64 are rewritten; the others are left
    for `convert-moe-grouped-ffn-to-mma` (16-row tiles, mma.sync).

    ```mlir
    %h = linalg.generic {...iterator_types = ["parallel", "parallel",
                         "reduction"]} ins(%padded : tensor<?x64xf16>)
           outs(%empty : tensor<?x128xf32>)
           attrs = {moe.wgmma_gemm = {operand_type = bf16, tile_rows = 64}}
    ```
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"f32\"",
           "Operand type: bf16, f16, or f32 (16-bit models only)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def MoESetOMPSchedule : Pass<"moe-set-omp-schedule"> {
  let summary = "Give the OpenMP worksharing loops a schedule";
  let description = [{
    Sets the `schedule` clause of every `omp.wsloop` that has none.
    `convert-scf-to-openmp` leaves it unset (libomp then splits the
    iterations statically, one equal block per thread), so a thread that is
    descheduled on a shared machine delays the whole loop. With `guided`
    (the default), threads take shrinking chunks of the remaining
    iterations, and the others take over the end of a late thread's share;
    `chunk` (16 by default, 0: none) is the smallest chunk, which bounds the
    number of times a thread asks libomp for work.
  }];
  let options = [
    Option<"kind", "kind", "std::string", /*default=*/"\"guided\"",
           "static, dynamic or guided">,
    Option<"chunk", "chunk", "int64_t", /*default=*/"16",
           "chunk size of the schedule (0: libomp's default)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::omp::OpenMPDialect"];
}

def ConvertMoERoutingToDevice : Pass<"convert-moe-routing-to-device"> {
  let summary = "Routing, dispatch, permute and combine as GPU-parallel loops";
  let description = [{
    The CUDA pipeline's lowering of the ops around the expert FFNs, every
    loop parallel over tokens, chunks, experts or rows (each becomes one
    grid kernel) with the reference's results to the bit:
      - `moe.route`: an `scf.forall` over the tokens; each iteration
        recomputes what it needs from the token's logits (no per-expert
        arrays) and keeps its k slots in its rows of the results
        (`moe_topk`). Forms with a dynamic expert count or more than 64
        expert groups are left alone.
      - `moe.dispatch`: per-chunk expert histogram (chunks of whole tokens,
        about 256 assignments), scans over chunks and experts, and each
        row gathering its assignment by rank (`moe_histogram`,
        `moe_scan_chunks`, `moe_expert_counts`, `moe_offsets`,
        `moe_dispatch_rows`): rows ordered by expert, then token, then slot,
        no atomics, no host read of a count.
      - `moe.combine` of a dispatch's rows (same tokens): each token's rows
        in row order (`moe_token_rows`), then a grid over (token, column)
        adding them to the init in that order (`moe_combine`).
      - `moe.permute`: a gather over (row, column) (`moe_permute`).
    The ops' locations carry the kernel names for `moe-gpu-name-kernels`.
    Everything not rewritten is left for `convert-moe-to-linalg`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

//===----------------------------------------------------------------------===//
// GPU (CUDA) lowering: bufferised host code to kernels and device memory
//===----------------------------------------------------------------------===//

def MoEGPUHoistConstants : Pass<"moe-gpu-hoist-constants", "::mlir::ModuleOp"> {
  let summary = "Turn the entry function's constant globals into arguments";
  let description = [{
    Kernels cannot read host globals, and uploading the model's weights on
    every call would dwarf the computation. This pass replaces every
    `memref.get_global` in the entry function by a new trailing argument
    (one per global, attribute `moe.constant = @global`), adds for each a
    getter `func.func @_moe_constant_<i>() -> memref<...>` (C interface) that
    returns the host global, and records the arguments' types in the module
    attribute `moe.gpu.constants`. The artifact's host code uploads each
    constant once (cached) and passes the device copies.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main_graph\"",
           "The function whose constants become arguments">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def MoEGPUOffload : Pass<"moe-gpu-offload", "::mlir::func::FuncOp"> {
  let summary = "Move bufferised host computation onto the GPU";
  let description = [{
    After bufferisation every buffer of a GPU artifact lives in device
    memory, so the host function may only allocate, launch and compute
    addresses. This pass
      - turns `memref.alloc`/`alloca`/`dealloc` outside kernels into
        `gpu.alloc`/`gpu.dealloc` and `memref.copy` into a parallel copy
        loop;
      - leaves top-level `scf.parallel` loops for `gpu-map-parallel-loops` /
        `convert-parallel-loops-to-gpu` (grid-wide kernels);
      - wraps every other run of operations that reads or writes memory
        (sequential loops, loads, stores) in a single-thread `gpu.launch`,
        turning `scf.parallel` loops nested in them into `scf.for` nests.
    A scalar computed inside such a run and needed by the host (an
    allocation size read from a shape tensor) comes back through a
    one-element buffer; a buffer chosen on the device is an error.

    With `wrap-parallel-loops`, top-level parallel loops are wrapped too:
    run after `convert-parallel-loops-to-gpu`, it moves any loop that could
    not be mapped to a grid into a single-thread kernel rather than leave it
    on the host.
  }];
  let options = [
    Option<"wrapParallelLoops", "wrap-parallel-loops", "bool",
           /*default=*/"false",
           "Wrap top-level scf.parallel loops in single-thread kernels too">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect"];
}

def MoEGPUMapWarpTiles : Pass<"moe-gpu-map-warp-tiles", "::mlir::func::FuncOp"> {
  let summary = "scf.forall over warp tiles as kernels of one warp per tile";
  let description = [{
    Turns every top-level `scf.forall` whose dimensions are all mapped to
    distinct warp ids (`#gpu.warp<x|y|z>`: the warp GEMMs of
    `convert-moe-grouped-ffn-to-mma`) into a `gpu.launch` whose grid's x, y
    and z are those dimensions, with one block of 32 threads per
    iteration: the iteration's body runs
    in every lane, and `convert-vector-to-gpu` later distributes its warp
    vector ops over the lanes. Runs after bufferisation, before the generic
    parallel-loop mapping.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def MoEGPUPrepareMMA : Pass<"moe-gpu-prepare-mma"> {
  let summary = "Warp contracts of kernels to nvgpu/nvvm tensor-core MMAs";
  let description = [{
    For every kernel (isolated-from-above op) holding `vector.contract`s:
      - folds `arith.extf` (and the `arith.bitcast` of bf16 operands stored
        as f16 bits) into the contracts, giving mixed-precision contracts;
        kernels with bf16 contracts get the unit attribute `moe.mma_bf16`;
      - clones the pure scalar computations and the loads of read-only
        buffers that a reduction loop carrying vectors uses from above into
        the loop (upstream's conversion gives up on loops that capture
        non-constant scalars from above);
      - with `convert` (default), rewrites the kernel's index arithmetic
        into the index dialect (upstream's conversion treats every scalar
        arith add/mul/sub/div as an element-wise MMA op and fails on it),
        runs upstream's vector-to-gpu conversion
        for `mma.sync` (`convert-vector-to-gpu{use-nvgpu=true}`) on the
        kernel, and turns bf16 kernels' `nvgpu.mma.sync` (f16 vectors
        holding bf16 bits; MLIR 22's nvgpu has no bf16) into `nvvm.mma.sync`
        with bf16 operand types (same fragment layout).
    Kernels without contracts are left alone (upstream's pass, run on them,
    fails on ordinary scalar reduction loops).
  }];
  let options = [
    Option<"convert", "convert", "bool", /*default=*/"true",
           "Convert the prepared contracts to nvgpu/nvvm MMAs">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::index::IndexDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def MoEGPUWGMMAGemm : Pass<"moe-gpu-wgmma-gemm", "::mlir::func::FuncOp"> {
  let summary = "Warpgroup GEMM generics as TMA + wgmma kernels (sm_90a)";
  let description = [{
    Turns every bufferised `linalg.generic` marked `moe.wgmma_gemm` (from
    `convert-moe-grouped-ffn-to-wgmma`) into a `gpu.launch` with one
    warpgroup (128 threads) per 64 x BN output tile (BN = 128 when the
    weight's M allows, else 64) and per tile row of the padded operand:
      - the tile's expert from the tile schedule; surplus tiles exit;
      - a ring of shared-memory stages (up to 4) of the A tile [64, 64] and
        the B tile [BN, 64] (the expert's weight rows, K-contiguous: wgmma's
        K-major B), filled by `nvgpu.tma.async.load` with 128-byte swizzle
        and completed on `nvgpu.mbarrier`s (expect_tx, try_wait.parity);
      - per K step of 64, four `nvgpu.warpgroup.mma` (m64nBNk16, f32
        accumulators) on `nvgpu.warpgroup.generate.descriptor`s of the
        stage; they stay in flight while the previous step's are waited
        for (`wgmma.wait_group 4`) and its stage is refilled;
      - the accumulators stored to the f32 output with
        `nvgpu.warpgroup.mma.store`.
    The TMA descriptors are made on the host: this pass leaves
    placeholders (`builtin.unrealized_conversion_cast` of the buffer to
    `i64`, the descriptor's device address, carrying `moe.tma_descriptor`),
    which `moe-gpu-offload`
    keeps on the host, and `moe-gpu-tma-descriptors` turns them into
    `nvgpu.tma.create.descriptor` once the buffers are device buffers. The
    weights are viewed as a 2-D [E*M, K] tensor; the tile's expert picks the
    row coordinate. Runs after bufferisation, before
    `convert-linalg-to-parallel-loops`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::scf::SCFDialect"];
}

def MoEGPUTMADescriptors : Pass<"moe-gpu-tma-descriptors", "::mlir::func::FuncOp"> {
  let summary = "TMA descriptor placeholders to nvgpu.tma.create.descriptor";
  let description = [{
    Replaces every placeholder of `moe-gpu-wgmma-gemm` (an
    `unrealized_conversion_cast` of a buffer to `i64` with the attribute
    `moe.tma_descriptor = <tensormap type>`) by
    `nvgpu.tma.create.descriptor` of the buffer (box = the tensor map's
    shape), passed to the kernel as its address (`llvm.ptrtoint`). Lowered by
    `convert-nvgpu-to-nvvm` to a call of `mgpuTensorMapEncodeTiledMemref`
    (lib/Runtime/CUDA). Runs after `moe-gpu-offload`.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::nvgpu::NVGPUDialect"];
}

def MoEGPUNameKernels : Pass<"moe-gpu-name-kernels", "::mlir::ModuleOp"> {
  let summary = "Name the gpu.launch kernels after what they do";
  let description = [{
    Runs before `gpu-kernel-outlining`, which would call every kernel
    `<function>_kernel`. Sets each `gpu.launch`'s `module` and `function`
    to a name: the one a lowering marked in the launch's location
    (`moe.kernel:<name>`, e.g. `moe_topk`), else `moe_serial` for a
    single-thread launch (1x1x1 grid and block) and `moe_parallel` for the
    other grid launches. Repeated names get `_1`, `_2`, ... so that every
    kernel and kernel module is unique in the module. A launch that already
    names its kernel keeps it.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // MOE_CONVERSION_PASSES_TD
