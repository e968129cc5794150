//===- CudaTensorMapTest.cpp - mgpuTensorMapEncodeTiledMemref -------------===//
//
// The TMA descriptor wrapper of lib/Runtime/CUDA/TensorMaps.cpp on the
// stand-in driver (test/Runtime/mock_cuda_driver.cpp), whose "tensor map"
// records the arguments cuTensorMapEncodeTiled got: the ABI of MLIR 22's
// lowered nvgpu.tma.create.descriptor (rank, ranked memref descriptor, data
// type, enums, box sizes outermost first) reaches the driver innermost
// first with byte strides, the map lands in device memory, repeated
// descriptors are reused, and errors go to the error slot.
//
//===----------------------------------------------------------------------===//

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#ifndef MOE_CUDA_TEST_DIR
#error "MOE_CUDA_TEST_DIR must name build/unittests/cuda"
#endif

namespace {

/// A ranked memref descriptor as the lowered host code passes it.
template <int Rank> struct MemRef {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

constexpr int64_t kFloat16 = 6;     // CU_TENSOR_MAP_DATA_TYPE_FLOAT16
constexpr int64_t kSwizzle128B = 3; // CU_TENSOR_MAP_SWIZZLE_128B

class TensorMaps : public ::testing::Test {
protected:
  int (*setDevice)(int32_t) = nullptr;
  int (*init)() = nullptr;
  const char *(*takeError)() = nullptr;
  int (*download)(void *, const void *, size_t) = nullptr;
  void *(*memAlloc)(uint64_t, void *, bool) = nullptr;
  void (*memFree)(void *, void *) = nullptr;
  void *(*encode)(int64_t, void *, int64_t, int64_t, int64_t, int64_t, int64_t,
                  const int64_t *) = nullptr;
  int (*stat)(const char *) = nullptr;

  void SetUp() override {
    const char *driver = MOE_FAKE_MODEL_DIR "/mock_cuda_driver.so";
    setenv("MOE_CUDA_DRIVER", driver, 1);
    unsetenv("MOE_CUDA_DEVICE");
    void *rt = dlopen(MOE_CUDA_TEST_DIR "/cuda_runtime_tensormap.so",
                      RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(rt, nullptr) << dlerror();
    void *mock = dlopen(driver, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(mock, nullptr) << dlerror();
    auto bind = [](void *handle, auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(handle, name));
      return fn != nullptr;
    };
    ASSERT_TRUE(bind(rt, setDevice, "moe_cuda_set_device") &&
                bind(rt, init, "moe_cuda_init") &&
                bind(rt, takeError, "moe_cuda_take_error") &&
                bind(rt, download, "moe_cuda_download") &&
                bind(rt, memAlloc, "mgpuMemAlloc") &&
                bind(rt, memFree, "mgpuMemFree") &&
                bind(rt, encode, "mgpuTensorMapEncodeTiledMemref") &&
                bind(mock, stat, "mock_cuda_stat"));
    ASSERT_EQ(setDevice(0), 0);
    ASSERT_EQ(init(), 0) << takeError();
  }

  std::string error() {
    const char *e = takeError();
    return e ? e : "";
  }

  /// The 16 words of the map at `device`.
  std::vector<uint64_t> words(void *device) {
    std::vector<uint64_t> w(16, 0);
    EXPECT_EQ(download(w.data(), device, 128), 0) << error();
    return w;
  }
};

TEST_F(TensorMaps, OperandAndWeightViews) {
  // The padded operand [192, 64] f16 and a 64 x 64 box (the A tile).
  void *a = memAlloc(192 * 64 * 2, nullptr, false);
  ASSERT_NE(a, nullptr) << error();
  MemRef<2> aRef{a, a, 0, {192, 64}, {64, 1}};
  int64_t aBox[] = {64, 64};
  void *mapA = encode(2, &aRef, kFloat16, 0, kSwizzle128B, 0, 0, aBox);
  ASSERT_NE(mapA, nullptr) << error();
  std::vector<uint64_t> w = words(mapA);
  EXPECT_EQ(w[0], 0x4d4f4554414d4150ull);
  EXPECT_EQ(w[1], uint64_t(kFloat16));
  EXPECT_EQ(w[2], 2u);
  EXPECT_EQ(w[3], uint64_t(uintptr_t(a)));
  EXPECT_EQ(w[4], 64u);  // innermost first: K
  EXPECT_EQ(w[5], 192u); // rows
  EXPECT_EQ(w[9], 128u); // row stride in bytes
  EXPECT_EQ(w[13], 64u | 64u << 16);
  EXPECT_EQ(w[14], uint64_t(kSwizzle128B) << 24);
  EXPECT_EQ(w[15], 0x0101u);

  // The weights [E = 4, M = 128, K = 64] as [512, 64], 128-row boxes.
  void *wt = memAlloc(4 * 128 * 64 * 2, nullptr, false);
  MemRef<2> wRef{wt, wt, 0, {512, 64}, {64, 1}};
  int64_t wBox[] = {128, 64};
  void *mapW = encode(2, &wRef, kFloat16, 0, kSwizzle128B, 0, 0, wBox);
  ASSERT_NE(mapW, nullptr) << error();
  w = words(mapW);
  EXPECT_EQ(w[4], 64u);
  EXPECT_EQ(w[5], 512u);
  EXPECT_EQ(w[13], 64u | 128u << 16);

  // The same descriptor again: the same device copy, no allocation.
  int allocations = stat("allocations");
  EXPECT_EQ(encode(2, &aRef, kFloat16, 0, kSwizzle128B, 0, 0, aBox), mapA);
  EXPECT_EQ(stat("allocations"), allocations);

  // The offset counts (elements).
  MemRef<2> shifted{a, a, 64 * 64, {128, 64}, {64, 1}};
  void *mapShifted = encode(2, &shifted, kFloat16, 0, kSwizzle128B, 0, 0, aBox);
  ASSERT_NE(mapShifted, nullptr) << error();
  EXPECT_EQ(words(mapShifted)[3], uint64_t(uintptr_t(a)) + 64 * 64 * 2);
  EXPECT_EQ(error(), "");
  memFree(a, nullptr);
  memFree(wt, nullptr);
}

TEST_F(TensorMaps, ErrorsAreRecorded) {
  void *a = memAlloc(64 * 64 * 2, nullptr, false);
  int64_t box[] = {64, 64};
  MemRef<2> strided{a, a, 0, {64, 32}, {64, 2}};
  EXPECT_EQ(encode(2, &strided, kFloat16, 0, kSwizzle128B, 0, 0, box), nullptr);
  EXPECT_EQ(error(), "mgpuTensorMapEncodeTiledMemref: the innermost "
                     "dimension must be contiguous");
  // 128 f16 columns do not fit the 128-byte swizzle: the driver refuses.
  MemRef<2> wide{a, a, 0, {32, 128}, {128, 1}};
  int64_t wideBox[] = {32, 128};
  EXPECT_EQ(encode(2, &wide, kFloat16, 0, kSwizzle128B, 0, 0, wideBox),
            nullptr);
  EXPECT_NE(error().find("cuTensorMapEncodeTiled (rank 2, box 32 128) "
                         "failed: CUDA_ERROR_INVALID_VALUE"),
            std::string::npos);
  EXPECT_EQ(encode(6, &wide, kFloat16, 0, 0, 0, 0, wideBox), nullptr);
  EXPECT_EQ(error(), "mgpuTensorMapEncodeTiledMemref: unsupported tensor "
                     "(rank 6, data type 6)");
  memFree(a, nullptr);
}

} // namespace
