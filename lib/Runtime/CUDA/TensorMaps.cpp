//===- TensorMaps.cpp - TMA descriptors for nvgpu.tma.create.descriptor ---===//
//
// MLIR 22's convert-nvgpu-to-nvvm lowers `nvgpu.tma.create.descriptor` on
// the host to
//
//   ptr mgpuTensorMapEncodeTiledMemref(i64 rank, ptr rankedDescriptor,
//                                      i64 dataType, i64 interleave,
//                                      i64 swizzle, i64 l2Promotion,
//                                      i64 oobFill, ptr boxDims)
//
// (the unranked memref's rank and descriptor pointer, the
// CUtensorMapDataType of its element type, the descriptor type's enums,
// and an i64 array of the box sizes in memref order, outermost first). The
// kernel receives the returned pointer: a CUtensorMap (128 bytes) in
// device memory, which cp.async.bulk.tensor reads.
//
// Differences from upstream's wrapper, on purpose: errors go to the thread's
// error slot (null is returned; later launches are skipped); the memref's
// offset is honoured; and the device copies are not leaked on every call:
// each thread keeps the maps it made, keyed by content (the same buffers
// give the same map, so repeated runs reuse them), and when it holds too
// many it synchronises the device and frees them all before making more.
// A map handed out is therefore valid until the launches issued after it
// have run.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>

using namespace moe::cuda;

namespace {

/// Maps one thread may hold before it synchronises and frees them.
constexpr size_t kMaxCachedMaps = 1024;

/// Bytes per element of each CUtensorMapDataType (cuda.h's order).
constexpr int64_t kElementBytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};

using MapBits = std::array<uint64_t, 16>;
static_assert(sizeof(MapBits) == sizeof(CUtensorMap), "CUtensorMap size");

/// The calling thread's device copies of tensor maps.
struct TensorMapCache {
  std::map<std::pair<int32_t, MapBits>, CUdeviceptr> maps;

  /// Frees every copy (after the device's queued work: launches may still
  /// read them). `quiet`: teardown, record nothing.
  void clear(bool quiet) {
    std::map<int32_t, bool> synchronised;
    for (auto &[key, pointer] : maps) {
      ScopedContext ctx(key.first, quiet);
      if (!ctx.ok())
        continue;
      if (!synchronised[key.first]) {
        synchronised[key.first] = true;
        if (quiet)
          ctx->cuCtxSynchronize();
        else
          ctx.check(ctx->cuCtxSynchronize(), "cuCtxSynchronize");
      }
      if (quiet)
        ctx->cuMemFree(pointer);
      else
        ctx.check(ctx->cuMemFree(pointer), "cuMemFree");
    }
    maps.clear();
  }

  ~TensorMapCache() {
    if (!maps.empty() && driverQuietly())
      clear(/*quiet=*/true);
  }
};

TensorMapCache &threadCache() {
  thread_local TensorMapCache cache;
  return cache;
}

/// The head of a ranked memref descriptor; sizes[rank] and strides[rank]
/// (int64_t) follow.
struct MemRefHeader {
  void *allocated;
  void *aligned;
  int64_t offset;
};

} // namespace

extern "C" void *
mgpuTensorMapEncodeTiledMemref(int64_t rank, void *descriptor, int64_t dataType,
                               int64_t interleave, int64_t swizzle,
                               int64_t l2Promotion, int64_t oobFill,
                               const int64_t *boxDims) {
  if (hasError())
    return nullptr;
  constexpr int64_t kTypes = sizeof(kElementBytes) / sizeof(kElementBytes[0]);
  if (rank < 1 || rank > 5 || !descriptor || !boxDims || dataType < 0 ||
      dataType >= kTypes) {
    recordErrorWith([&] {
      return "mgpuTensorMapEncodeTiledMemref: unsupported tensor (rank " +
             std::to_string(rank) + ", data type " + std::to_string(dataType) +
             ")";
    });
    return nullptr;
  }
  const auto *header = static_cast<const MemRefHeader *>(descriptor);
  const auto *sizes = reinterpret_cast<const int64_t *>(header + 1);
  const int64_t *strides = sizes + rank;
  int64_t elementBytes = kElementBytes[dataType];
  if (strides[rank - 1] != 1) {
    recordError("mgpuTensorMapEncodeTiledMemref: the innermost dimension "
                "must be contiguous");
    return nullptr;
  }

  // The driver counts dimensions innermost first, strides in bytes (the
  // innermost one implied).
  cuuint64_t globalDim[5] = {1, 1, 1, 1, 1}, globalStrides[4] = {0, 0, 0, 0};
  cuuint32_t box[5] = {1, 1, 1, 1, 1}, elementStrides[5] = {1, 1, 1, 1, 1};
  for (int64_t i = 0; i < rank; ++i) {
    globalDim[i] = cuuint64_t(sizes[rank - 1 - i]);
    box[i] = cuuint32_t(boxDims[rank - 1 - i]);
  }
  for (int64_t i = 0; i + 1 < rank; ++i)
    globalStrides[i] = cuuint64_t(strides[rank - 2 - i] * elementBytes);
  void *address =
      static_cast<char *>(header->aligned) + header->offset * elementBytes;

  ScopedContext ctx;
  if (!ctx.ok())
    return nullptr;
  CUtensorMap map;
  std::memset(&map, 0, sizeof(map));
  if (!ctx.check(ctx->cuTensorMapEncodeTiled(
                     &map, CUtensorMapDataType(dataType), cuuint32_t(rank),
                     address, globalDim, globalStrides, box, elementStrides,
                     CUtensorMapInterleave(interleave),
                     CUtensorMapSwizzle(swizzle),
                     CUtensorMapL2promotion(l2Promotion),
                     CUtensorMapFloatOOBfill(oobFill)),
                 "cuTensorMapEncodeTiled", [&] {
                   std::string what = "rank " + std::to_string(rank) + ", box";
                   for (int64_t i = 0; i < rank; ++i)
                     what += " " + std::to_string(boxDims[i]);
                   return what;
                 }))
    return nullptr;

  TensorMapCache &cache = threadCache();
  MapBits bits;
  std::memcpy(bits.data(), &map, sizeof(map));
  auto key = std::make_pair(ctx.device(), bits);
  try {
    if (auto it = cache.maps.find(key); it != cache.maps.end())
      return reinterpret_cast<void *>(uintptr_t(it->second));
    if (cache.maps.size() >= kMaxCachedMaps) {
      cache.clear(/*quiet=*/false);
      if (hasError())
        return nullptr;
    }
    CUdeviceptr pointer = 0;
    if (!ctx.check(ctx->cuMemAlloc(&pointer, sizeof(map)), "cuMemAlloc",
                   [] { return "a tensor map"; }))
      return nullptr;
    if (!ctx.check(ctx->cuMemcpyHtoD(pointer, &map, sizeof(map)),
                   "cuMemcpyHtoD", [] { return "a tensor map"; })) {
      ctx->cuMemFree(pointer);
      return nullptr;
    }
    cache.maps.emplace(key, pointer);
    return reinterpret_cast<void *>(uintptr_t(pointer));
  } catch (...) {
    recordError("mgpuTensorMapEncodeTiledMemref: out of memory");
    return nullptr;
  }
}
