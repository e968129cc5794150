//===- CudaRuntimeTest.cpp - the CUDA runtime layer (lib/Runtime/CUDA) ----===//
//
// Each scenario loads its own copy of the runtime (unittests/cuda/
// cuda_runtime_<scenario>.so, a fresh driver state each) with
// $MOE_CUDA_DRIVER pointing at its driver:
//  - NoDriver: a libcuda.so.1 that does not exist: every call fails softly
//    and reports the loader's message;
//  - StubDriver: the toolkit's stub libcuda: every entry point resolves from
//    a real libcuda export table, and cuInit's refusal is reported;
//  - MockDriver: test/Runtime/mock_cuda_driver.cpp: the whole API, contexts,
//    per-device modules, error recording, and a CUDA model through moe_run;
//  - Gpu: the real driver and the kernels of CudaTestKernels.ptx; skipped
//    unless a driver and a device are present.
//
//===----------------------------------------------------------------------===//

#include "moe/Runtime/CudaRuntime.h"
#include "moe/Runtime/MoERuntime.h"

#include <cuda.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifndef MOE_CUDA_TEST_DIR
#error "MOE_CUDA_TEST_DIR must name build/unittests/cuda"
#endif

namespace {

#define MOE_CUDA_RUNTIME_FUNCTIONS(X)                                          \
  X(moe_cuda_init)                                                             \
  X(moe_cuda_take_error)                                                       \
  X(moe_cuda_set_device)                                                       \
  X(moe_cuda_get_device)                                                       \
  X(moe_cuda_constant)                                                         \
  X(moe_cuda_upload)                                                           \
  X(moe_cuda_download)                                                         \
  X(moe_cuda_free)                                                             \
  X(moe_cuda_synchronize)                                                      \
  X(mgpuModuleLoad)                                                            \
  X(mgpuModuleLoadJIT)                                                         \
  X(mgpuModuleUnload)                                                          \
  X(mgpuModuleGetFunction)                                                     \
  X(mgpuLaunchKernel)                                                          \
  X(mgpuLaunchClusterKernel)                                                   \
  X(mgpuStreamCreate)                                                          \
  X(mgpuStreamDestroy)                                                         \
  X(mgpuStreamSynchronize)                                                     \
  X(mgpuStreamWaitEvent)                                                       \
  X(mgpuEventCreate)                                                           \
  X(mgpuEventDestroy)                                                          \
  X(mgpuEventSynchronize)                                                      \
  X(mgpuEventRecord)                                                           \
  X(mgpuMemAlloc)                                                              \
  X(mgpuMemFree)                                                               \
  X(mgpuMemcpy)                                                                \
  X(mgpuMemset32)                                                              \
  X(mgpuMemset16)                                                              \
  X(mgpuSetDefaultDevice)

/// One copy of the runtime, bound with dlsym.
struct Runtime {
  void *handle = nullptr;
  std::string loadError;
#define MOE_BIND_MEMBER(name) decltype(&::name) name = nullptr;
  MOE_CUDA_RUNTIME_FUNCTIONS(MOE_BIND_MEMBER)
#undef MOE_BIND_MEMBER

  /// Loads copy `scenario` for `driver` (null: the default libcuda.so.1)
  /// and fixes its driver choice at once (the variable is read on first
  /// use).
  void load(const std::string &scenario, const char *driver) {
    if (driver)
      setenv("MOE_CUDA_DRIVER", driver, 1);
    else
      unsetenv("MOE_CUDA_DRIVER");
    unsetenv("MOE_CUDA_DEVICE");
    std::string path =
        std::string(MOE_CUDA_TEST_DIR) + "/cuda_runtime_" + scenario + ".so";
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      loadError = dlerror();
      return;
    }
#define MOE_BIND(name)                                                         \
  name = reinterpret_cast<decltype(name)>(dlsym(handle, #name));               \
  if (!name)                                                                   \
    loadError += " missing " #name;
    MOE_CUDA_RUNTIME_FUNCTIONS(MOE_BIND)
#undef MOE_BIND
    if (!loadError.empty()) {
      handle = nullptr;
      return;
    }
    moe_cuda_set_device(0); // loads the driver, quietly
  }

  /// The pending error ("" when none), now taken.
  std::string error() const {
    const char *e = moe_cuda_take_error();
    return e ? e : "";
  }
};

/// The copy of each scenario, loaded once per process.
Runtime &runtimeFor(const std::string &scenario, const char *driver) {
  static std::map<std::string, Runtime> runtimes;
  auto [it, inserted] = runtimes.try_emplace(scenario);
  if (inserted)
    it->second.load(scenario, driver);
  return it->second;
}

class CudaRuntimeTest : public ::testing::Test {
protected:
  Runtime *rt = nullptr;
  void use(const std::string &scenario, const char *driver) {
    rt = &runtimeFor(scenario, driver);
    ASSERT_NE(rt->handle, nullptr) << rt->loadError;
  }
};

std::vector<float> randomFloats(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-10.0f, 10.0f);
  std::vector<float> v(n);
  for (float &f : v)
    f = dist(gen);
  return v;
}

//===--- A real GPU -------------------------------------------------------===//
// First in the file: once a process has loaded the toolkit's stub (SONAME
// libcuda.so.1, see StubDriver), dlopen("libcuda.so.1") finds the stub.
// check-moe-unit runs each test in its own process anyway.

std::string readFile(const char *path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

class Gpu : public CudaRuntimeTest {
protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(use("gpu", nullptr));
    if (rt->moe_cuda_init() == 0)
      return;
    std::string why = rt->error();
    // Without a driver, the message names it exactly.
    if (void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL))
      dlclose(h);
    else
      EXPECT_EQ(why.rfind("CUDA driver not available: libcuda.so.1: cannot "
                          "open shared object file",
                          0),
                0u)
          << why;
    GTEST_SKIP() << "no usable CUDA device: " << why;
  }

  void TearDown() override {
    if (rt && rt->handle) {
      EXPECT_EQ(rt->error(), "");
    }
  }

  /// A module of CudaTestKernels.ptx: the cubin, or the PTX for the JIT.
  void *loadKernels(bool jit) {
    static const std::string cubin =
        *MOE_CUDA_TEST_CUBIN ? readFile(MOE_CUDA_TEST_CUBIN) : "";
    static const std::string ptx = readFile(MOE_CUDA_TEST_PTX);
    if (jit)
      return rt->mgpuModuleLoadJIT(const_cast<char *>(ptx.c_str()), 2);
    if (cubin.empty())
      return nullptr;
    return rt->mgpuModuleLoad(const_cast<char *>(cubin.data()), cubin.size());
  }

  /// "add_one" of the module, or null with the test skipped when the cubin
  /// is not for this GPU.
  void *addOne(void *module) {
    void *kernel = rt->mgpuModuleGetFunction(module, "add_one");
    if (!kernel) {
      std::string why = rt->error();
      if (why.find("CUDA_ERROR_NO_BINARY_FOR_GPU") == std::string::npos)
        ADD_FAILURE() << why;
    }
    return kernel;
  }
};

TEST_F(Gpu, UploadDownloadRoundTrip) {
  std::vector<float> data = randomFloats(1 << 18, 21), back(data.size());
  size_t bytes = data.size() * sizeof(float);
  void *d = rt->moe_cuda_upload(data.data(), bytes);
  ASSERT_NE(d, nullptr) << rt->error();
  ASSERT_EQ(rt->moe_cuda_download(back.data(), d, bytes), 0) << rt->error();
  EXPECT_EQ(back, data);
  void *stream = rt->mgpuStreamCreate();
  rt->mgpuMemset32(d, 0x3f800000u, data.size(), stream);
  rt->mgpuMemcpy(back.data(), d, bytes, stream);
  rt->mgpuStreamSynchronize(stream);
  rt->mgpuStreamDestroy(stream);
  EXPECT_EQ(back, std::vector<float>(data.size(), 1.0f));
  rt->moe_cuda_free(d);
  void *c = rt->moe_cuda_constant(data.data(), bytes);
  EXPECT_EQ(rt->moe_cuda_constant(data.data(), bytes), c);
  EXPECT_EQ(rt->moe_cuda_synchronize(), 0);
}

TEST_F(Gpu, CubinLaunchWithEventsAcrossStreams) {
  void *module = loadKernels(/*jit=*/false);
  if (!module)
    GTEST_SKIP() << "no ptxas at build time: no cubin";
  void *kernel = addOne(module);
  if (!kernel) {
    rt->mgpuModuleUnload(module);
    GTEST_SKIP() << "the cubin is not for this GPU";
  }
  int64_t n = 100000;
  std::vector<float> data = randomFloats(size_t(n), 22), back(data.size());
  void *d = rt->moe_cuda_upload(data.data(), data.size() * sizeof(float));
  void *params[] = {&d, &n};
  void *first = rt->mgpuStreamCreate(), *second = rt->mgpuStreamCreate();
  void *event = rt->mgpuEventCreate();
  rt->mgpuLaunchKernel(kernel, (n + 255) / 256, 1, 1, 256, 1, 1, 0, first,
                       params, nullptr, 2);
  rt->mgpuEventRecord(event, first);
  rt->mgpuStreamWaitEvent(second, event);
  rt->mgpuLaunchKernel(kernel, (n + 255) / 256, 1, 1, 256, 1, 1, 0, second,
                       params, nullptr, 2);
  rt->mgpuEventSynchronize(event);
  rt->mgpuStreamSynchronize(second);
  EXPECT_EQ(rt->moe_cuda_download(back.data(), d, back.size() * sizeof(float)),
            0);
  // Each launch adds 1.0f (rounded each time, as the GPU does).
  std::vector<float> want = data;
  for (float &w : want)
    w = (w + 1.0f) + 1.0f;
  EXPECT_EQ(back, want);
  // Thread-block clusters (sm_90): one more per element.
  rt->mgpuLaunchClusterKernel(kernel, 2, 1, 1, 2 * ((n + 511) / 512), 1, 1, 256,
                              1, 1, 0, first, params, nullptr);
  rt->mgpuStreamSynchronize(first);
  EXPECT_EQ(rt->moe_cuda_download(back.data(), d, back.size() * sizeof(float)),
            0);
  for (float &w : want)
    w += 1.0f;
  EXPECT_EQ(back, want);
  rt->mgpuEventDestroy(event);
  rt->mgpuStreamDestroy(first);
  rt->mgpuStreamDestroy(second);
  rt->moe_cuda_free(d);
  rt->mgpuModuleUnload(module);
}

TEST_F(Gpu, JitLaunchManagedMemoryAndSharedMemory) {
  void *module = loadKernels(/*jit=*/true);
  void *kernel = addOne(module);
  ASSERT_NE(kernel, nullptr);
  int64_t n = 1024;
  auto *managed =
      static_cast<float *>(rt->mgpuMemAlloc(n * sizeof(float), nullptr, true));
  ASSERT_NE(managed, nullptr) << rt->error();
  for (int64_t i = 0; i < n; ++i)
    managed[i] = float(i);
  void *params[] = {&managed, &n};
  rt->mgpuLaunchKernel(kernel, n / 128, 1, 1, 128, 1, 1, 0, nullptr, params,
                       nullptr, 2);
  ASSERT_EQ(rt->moe_cuda_synchronize(), 0) << rt->error();
  EXPECT_EQ(managed[0], 1.0f);
  EXPECT_EQ(managed[n - 1], float(n));

  // 64 KiB of dynamic shared memory: over the default 48 KiB limit.
  void *reverse = rt->mgpuModuleGetFunction(module, "reverse_block");
  ASSERT_NE(reverse, nullptr) << rt->error();
  void *reverseParams[] = {&managed};
  rt->mgpuLaunchKernel(reverse, n / 256, 1, 1, 256, 1, 1, 64 * 1024, nullptr,
                       reverseParams, nullptr, 1);
  ASSERT_EQ(rt->moe_cuda_synchronize(), 0) << rt->error();
  EXPECT_EQ(managed[0], 256.0f);
  EXPECT_EQ(managed[255], 1.0f);
  EXPECT_EQ(managed[256], 512.0f);
  rt->mgpuMemFree(managed, nullptr);
  rt->mgpuModuleUnload(module);
}

TEST_F(Gpu, LaunchErrorsAreReported) {
  void *module = loadKernels(/*jit=*/true);
  void *kernel = addOne(module);
  ASSERT_NE(kernel, nullptr);
  int64_t n = 0;
  void *null = nullptr;
  void *params[] = {&null, &n};
  rt->mgpuLaunchKernel(kernel, 1, 1, 1, 4096, 1, 1, 0, nullptr, params, nullptr,
                       2);
  EXPECT_EQ(rt->error().rfind("CUDA device ", 0), 0u);
  EXPECT_EQ(rt->moe_cuda_synchronize(), 0) << rt->error();
  rt->mgpuModuleUnload(module);
}

//===--- Without a driver -------------------------------------------------===//

const char *const kMissingDriver =
    MOE_CUDA_TEST_DIR "/nonexistent/libcuda.so.1";
const std::string kMissingMessage =
    std::string("CUDA driver not available: ") + kMissingDriver +
    ": cannot open shared object file: No such file or directory";

class NoDriver : public CudaRuntimeTest {
protected:
  void SetUp() override { use("nodriver", kMissingDriver); }
};

TEST_F(NoDriver, InitFailsWithTheLoaderMessage) {
  EXPECT_EQ(rt->moe_cuda_init(), -1);
  EXPECT_EQ(rt->error(), kMissingMessage);
  EXPECT_EQ(rt->moe_cuda_take_error(), nullptr);
  // Sticky: every later run reports it again.
  EXPECT_EQ(rt->moe_cuda_init(), -1);
  EXPECT_EQ(rt->error(), kMissingMessage);
}

TEST_F(NoDriver, EveryCallIsHarmless) {
  static const char image[] = "not a GPU binary";
  void *module = rt->mgpuModuleLoad(const_cast<char *>(image), sizeof(image));
  EXPECT_NE(module, nullptr); // lazy: nothing touches the driver yet
  EXPECT_EQ(rt->mgpuModuleGetFunction(module, "k"), nullptr);
  EXPECT_EQ(rt->error(), kMissingMessage);

  float host[4] = {1, 2, 3, 4};
  void *params[] = {&host};
  EXPECT_EQ(rt->mgpuMemAlloc(64, nullptr, false), nullptr);
  // Host code touches host-shared memory: a zeroed host buffer stands in.
  auto *shared = static_cast<float *>(rt->mgpuMemAlloc(64, nullptr, true));
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared[15], 0.0f);
  shared[15] = 1.0f;
  rt->mgpuMemFree(shared, nullptr);
  EXPECT_EQ(rt->mgpuStreamCreate(), nullptr);
  EXPECT_EQ(rt->mgpuEventCreate(), nullptr);
  rt->mgpuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, params, nullptr,
                       1);
  rt->mgpuLaunchClusterKernel(nullptr, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, nullptr,
                              params, nullptr);
  rt->mgpuMemcpy(host, host + 2, 8, nullptr);
  rt->mgpuMemset32(host, 0, 4, nullptr);
  rt->mgpuMemset16(host, 0, 8, nullptr);
  rt->mgpuStreamWaitEvent(nullptr, nullptr);
  rt->mgpuEventRecord(nullptr, nullptr);
  rt->mgpuEventSynchronize(nullptr);
  rt->mgpuEventDestroy(nullptr);
  rt->mgpuStreamSynchronize(nullptr);
  rt->mgpuStreamDestroy(nullptr);
  rt->mgpuMemFree(nullptr, nullptr);
  rt->mgpuMemFree(host, nullptr);
  rt->mgpuModuleUnload(module);
  rt->mgpuModuleUnload(nullptr);
  EXPECT_EQ(rt->error(), kMissingMessage);

  EXPECT_EQ(rt->moe_cuda_upload(host, sizeof(host)), nullptr);
  EXPECT_EQ(rt->error(), kMissingMessage);
  EXPECT_EQ(rt->moe_cuda_constant(host, sizeof(host)), nullptr);
  EXPECT_EQ(rt->error(), kMissingMessage);
  EXPECT_EQ(rt->moe_cuda_download(host, host, sizeof(host)), -1);
  EXPECT_EQ(rt->error(), kMissingMessage);
  EXPECT_EQ(rt->moe_cuda_synchronize(), -1);
  EXPECT_EQ(rt->error(), kMissingMessage);
  rt->moe_cuda_free(nullptr);
  rt->moe_cuda_free(host);
  EXPECT_EQ(rt->error(), kMissingMessage);
  EXPECT_EQ(host[0], 1.0f);

  // Device choice is kept for when a driver appears.
  EXPECT_EQ(rt->moe_cuda_set_device(3), 0);
  EXPECT_EQ(rt->moe_cuda_get_device(), 3);
  EXPECT_EQ(rt->moe_cuda_set_device(-1), -1);
  EXPECT_EQ(rt->error(), "CUDA device -1 is not a valid device ordinal");
  EXPECT_EQ(rt->moe_cuda_set_device(0), 0);
  EXPECT_EQ(rt->error(), "");
}

//===--- The toolkit's stub libcuda ---------------------------------------===//

TEST(StubDriver, EveryEntryPointResolvesAndCuInitIsReported) {
  if (!*MOE_CUDA_STUB_DRIVER)
    GTEST_SKIP() << "the CUDA toolkit's stubs/libcuda.so was not found";
  Runtime &rt = runtimeFor("stub", MOE_CUDA_STUB_DRIVER);
  ASSERT_NE(rt.handle, nullptr) << rt.loadError;
  EXPECT_EQ(rt.moe_cuda_init(), -1);
  EXPECT_EQ(rt.error(),
            "CUDA driver not usable: cuInit failed: CUDA_ERROR_STUB_LIBRARY");
}

//===--- The stand-in driver ----------------------------------------------===//

const char *const kMockDriver = MOE_FAKE_MODEL_DIR "/mock_cuda_driver.so";
const char kMockBinary[] = "MOCK-CUBIN scale_add trap";
const float kScale[4] = {1.0f, 2.0f, 0.5f, -1.0f};

class MockDriver : public CudaRuntimeTest {
protected:
  int (*stat)(const char *) = nullptr;
  void (*failNext)(const char *, int) = nullptr;
  int baseAllocations = 0, baseModules = 0, baseStreams = 0, baseEvents = 0;

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(use("mock", kMockDriver));
    void *mock = dlopen(kMockDriver, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(mock, nullptr) << dlerror();
    stat = reinterpret_cast<decltype(stat)>(dlsym(mock, "mock_cuda_stat"));
    failNext =
        reinterpret_cast<decltype(failNext)>(dlsym(mock, "mock_cuda_fail"));
    ASSERT_TRUE(stat && failNext);
    ASSERT_EQ(rt->moe_cuda_set_device(0), 0);
    ASSERT_EQ(rt->moe_cuda_init(), 0) << rt->error();
    baseAllocations = stat("allocations");
    baseModules = stat("modules");
    baseStreams = stat("streams");
    baseEvents = stat("events");
  }

  void TearDown() override {
    if (!rt || !rt->handle || !stat)
      return;
    EXPECT_EQ(stat("context_depth"), 0) << "unbalanced context push/pop";
    EXPECT_EQ(rt->error(), "") << "a test left an error pending";
    EXPECT_EQ(stat("streams"), baseStreams);
    EXPECT_EQ(stat("events"), baseEvents);
  }

  /// y = x * scale + b over `rows` rows through the mgpu* wrappers, as
  /// generated code does; empty on failure.
  std::vector<float> scaleAdd(void *kernel, const std::vector<float> &x,
                              const std::vector<float> &b) {
    int64_t rows = int64_t(x.size() / 4), cols = 4;
    void *dx = rt->moe_cuda_upload(x.data(), x.size() * sizeof(float));
    void *db = rt->moe_cuda_upload(b.data(), b.size() * sizeof(float));
    void *ds = rt->moe_cuda_upload(kScale, sizeof(kScale));
    void *stream = rt->mgpuStreamCreate();
    void *dy = rt->mgpuMemAlloc(x.size() * sizeof(float), stream, false);
    void *params[] = {&dy, &dx, &ds, &db, &cols};
    rt->mgpuLaunchKernel(kernel, rows, 1, 1, cols, 1, 1, 0, stream, params,
                         nullptr, 5);
    rt->mgpuStreamSynchronize(stream);
    rt->mgpuStreamDestroy(stream);
    std::vector<float> y(x.size());
    int status = rt->moe_cuda_download(y.data(), dy, y.size() * sizeof(float));
    for (void *p : {dx, db, ds})
      rt->moe_cuda_free(p);
    rt->mgpuMemFree(dy, nullptr);
    if (status != 0)
      y.clear();
    return y;
  }

  static std::vector<float> reference(const std::vector<float> &x,
                                      const std::vector<float> &b) {
    std::vector<float> y(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      y[i] = x[i] * kScale[i % 4] + b[i % 4];
    return y;
  }
};

TEST_F(MockDriver, DeviceSelection) {
  EXPECT_EQ(rt->moe_cuda_get_device(), 0);
  EXPECT_EQ(rt->moe_cuda_set_device(1), 0);
  EXPECT_EQ(rt->moe_cuda_get_device(), 1);
  EXPECT_EQ(rt->moe_cuda_set_device(2), -1);
  EXPECT_EQ(rt->error(), "CUDA device 2 does not exist (this machine has 2)");
  EXPECT_EQ(rt->moe_cuda_set_device(-3), -1);
  EXPECT_EQ(rt->error(), "CUDA device -3 is not a valid device ordinal");
  EXPECT_EQ(rt->moe_cuda_get_device(), 1);
  EXPECT_EQ(rt->moe_cuda_init(), 0);
  EXPECT_EQ(rt->moe_cuda_set_device(0), 0);
  EXPECT_EQ(rt->moe_cuda_init(), 0);
}

TEST_F(MockDriver, UploadDownloadRoundTrip) {
  std::vector<float> data = randomFloats(1000, 1), back(1000, 0.0f);
  void *d = rt->moe_cuda_upload(data.data(), data.size() * sizeof(float));
  ASSERT_NE(d, nullptr) << rt->error();
  EXPECT_EQ(stat("allocations"), baseAllocations + 1);
  EXPECT_EQ(rt->moe_cuda_download(back.data(), d, back.size() * sizeof(float)),
            0);
  EXPECT_EQ(back, data);
  rt->moe_cuda_free(d);
  EXPECT_EQ(stat("allocations"), baseAllocations);
  // Empty buffers are no buffers, and no error.
  EXPECT_EQ(rt->moe_cuda_upload(data.data(), 0), nullptr);
  EXPECT_EQ(rt->moe_cuda_download(back.data(), nullptr, 0), 0);
  EXPECT_EQ(rt->mgpuMemAlloc(0, nullptr, false), nullptr);
  EXPECT_EQ(rt->error(), "");
  EXPECT_EQ(rt->moe_cuda_synchronize(), 0);
}

TEST_F(MockDriver, ConstantsAreUploadedOncePerDevice) {
  static const std::vector<float> weights = randomFloats(256, 2);
  size_t bytes = weights.size() * sizeof(float);
  void *first = rt->moe_cuda_constant(weights.data(), bytes);
  ASSERT_NE(first, nullptr) << rt->error();
  int allocations = stat("allocations");
  EXPECT_EQ(rt->moe_cuda_constant(weights.data(), bytes), first);
  EXPECT_EQ(stat("allocations"), allocations);
  std::vector<float> back(weights.size());
  EXPECT_EQ(rt->moe_cuda_download(back.data(), first, bytes), 0);
  EXPECT_EQ(back, weights);
  void *half = rt->moe_cuda_constant(weights.data(), bytes / 2);
  EXPECT_NE(half, first);

  ASSERT_EQ(rt->moe_cuda_set_device(1), 0);
  ASSERT_EQ(rt->moe_cuda_init(), 0);
  void *onOne = rt->moe_cuda_constant(weights.data(), bytes);
  EXPECT_NE(onOne, nullptr);
  EXPECT_NE(onOne, first);
  EXPECT_EQ(rt->moe_cuda_download(back.data(), onOne, bytes), 0);
  EXPECT_EQ(back, weights);
  ASSERT_EQ(rt->moe_cuda_set_device(0), 0);
  ASSERT_EQ(rt->moe_cuda_init(), 0);
  EXPECT_EQ(rt->error(), "");
}

TEST_F(MockDriver, ModuleLoadsLazilyAndLaunches) {
  void *module =
      rt->mgpuModuleLoad(const_cast<char *>(kMockBinary), sizeof(kMockBinary));
  ASSERT_NE(module, nullptr);
  EXPECT_EQ(stat("modules"), baseModules);
  void *kernel = rt->mgpuModuleGetFunction(module, "scale_add");
  ASSERT_NE(kernel, nullptr) << rt->error();
  EXPECT_EQ(stat("modules"), baseModules + 1);
  EXPECT_EQ(rt->mgpuModuleGetFunction(module, "scale_add"), kernel);
  int launches = stat("launches");
  std::vector<float> x = randomFloats(4 * 7, 3), b = randomFloats(4, 4);
  EXPECT_EQ(scaleAdd(kernel, x, b), reference(x, b));
  EXPECT_EQ(stat("launches"), launches + 1);
  EXPECT_EQ(stat("allocations"), baseAllocations);

  EXPECT_EQ(rt->mgpuModuleGetFunction(module, "missing"), nullptr);
  EXPECT_EQ(rt->error(), "CUDA device 0: cuModuleGetFunction (kernel "
                         "'missing') failed: CUDA_ERROR_NOT_FOUND (mock "
                         "driver error)");
  rt->mgpuModuleUnload(module);
  EXPECT_EQ(stat("modules"), baseModules);
}

TEST_F(MockDriver, EachDeviceLoadsItsOwnModule) {
  void *module =
      rt->mgpuModuleLoad(const_cast<char *>(kMockBinary), sizeof(kMockBinary));
  void *onZero = rt->mgpuModuleGetFunction(module, "scale_add");
  ASSERT_NE(onZero, nullptr) << rt->error();
  rt->mgpuSetDefaultDevice(1);
  void *onOne = rt->mgpuModuleGetFunction(module, "scale_add");
  ASSERT_NE(onOne, nullptr) << rt->error();
  EXPECT_NE(onOne, onZero);
  EXPECT_EQ(stat("modules"), baseModules + 2);
  // The mock refuses a function or buffer of another device's context.
  std::vector<float> x = randomFloats(4 * 3, 5), b = randomFloats(4, 6);
  EXPECT_EQ(scaleAdd(onOne, x, b), reference(x, b));
  rt->mgpuSetDefaultDevice(0);
  EXPECT_EQ(scaleAdd(onZero, x, b), reference(x, b));
  rt->mgpuModuleUnload(module);
  EXPECT_EQ(stat("modules"), baseModules);
  EXPECT_EQ(rt->error(), "");
}

TEST_F(MockDriver, JitModules) {
  static const char ptx[] = "MOCK-PTX scale_add";
  void *module = rt->mgpuModuleLoadJIT(const_cast<char *>(ptx), 2);
  EXPECT_NE(rt->mgpuModuleGetFunction(module, "scale_add"), nullptr)
      << rt->error();
  rt->mgpuModuleUnload(module);

  static const char bad[] = ".version 1.0 garbage";
  module = rt->mgpuModuleLoadJIT(const_cast<char *>(bad), 2);
  EXPECT_EQ(rt->mgpuModuleGetFunction(module, "scale_add"), nullptr);
  EXPECT_EQ(rt->error(), "CUDA device 0: cuModuleLoadDataEx (PTX: mock "
                         "ptxas: not PTX) failed: CUDA_ERROR_INVALID_PTX "
                         "(mock driver error)");
  rt->mgpuModuleUnload(module);
  EXPECT_EQ(stat("modules"), baseModules);
}

TEST_F(MockDriver, FirstErrorIsKeptAndLaterWorkSkipped) {
  void *module =
      rt->mgpuModuleLoad(const_cast<char *>(kMockBinary), sizeof(kMockBinary));
  void *kernel = rt->mgpuModuleGetFunction(module, "scale_add");
  ASSERT_NE(kernel, nullptr);
  int launches = stat("launches");

  failNext("cuMemAlloc", CUDA_ERROR_OUT_OF_MEMORY);
  EXPECT_EQ(rt->mgpuMemAlloc(1024, nullptr, false), nullptr);
  // Pending: no more allocations, streams, launches or copies...
  failNext("cuStreamCreate", CUDA_ERROR_INVALID_VALUE);
  EXPECT_EQ(rt->mgpuMemAlloc(1024, nullptr, false), nullptr);
  EXPECT_EQ(rt->mgpuStreamCreate(), nullptr);
  float host[4] = {1, 2, 3, 4};
  EXPECT_EQ(rt->moe_cuda_upload(host, sizeof(host)), nullptr);
  void *standIn = rt->mgpuMemAlloc(16, nullptr, /*isHostShared=*/true);
  ASSERT_NE(standIn, nullptr);
  std::memset(standIn, 1, 16);
  rt->moe_cuda_free(standIn);
  void *params[] = {&host};
  rt->mgpuLaunchKernel(kernel, 1, 1, 1, 4, 1, 1, 0, nullptr, params, nullptr,
                       1);
  EXPECT_EQ(stat("launches"), launches);
  EXPECT_EQ(stat("allocations"), baseAllocations);
  // ... and the first error is the one reported, once.
  EXPECT_EQ(rt->error(), "CUDA device 0: cuMemAlloc (1024 bytes) failed: "
                         "CUDA_ERROR_OUT_OF_MEMORY (out of memory (mock))");
  EXPECT_EQ(rt->moe_cuda_take_error(), nullptr);
  // The skipped stream creation never reached the driver: the injected
  // failure is still armed.
  EXPECT_EQ(rt->mgpuStreamCreate(), nullptr);
  EXPECT_EQ(rt->error(), "CUDA device 0: cuStreamCreate failed: "
                         "CUDA_ERROR_INVALID_VALUE (mock driver error)");

  void *p = rt->mgpuMemAlloc(1024, nullptr, false);
  EXPECT_NE(p, nullptr);
  rt->mgpuMemFree(p, nullptr);
  rt->mgpuModuleUnload(module);
  EXPECT_EQ(stat("allocations"), baseAllocations);
}

TEST_F(MockDriver, LaunchesOverTheDefaultSharedMemoryAskForIt) {
  void *module =
      rt->mgpuModuleLoad(const_cast<char *>(kMockBinary), sizeof(kMockBinary));
  void *kernel = rt->mgpuModuleGetFunction(module, "trap");
  int launches = stat("launches");
  rt->mgpuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 96 * 1024, nullptr, nullptr,
                       nullptr, 0);
  EXPECT_EQ(rt->error(), "");
  EXPECT_EQ(stat("launches"), launches + 1);
  EXPECT_EQ(rt->moe_cuda_synchronize(), -1); // trap's fault, drained
  EXPECT_NE(rt->error().find("CUDA_ERROR_LAUNCH_FAILED"), std::string::npos);
  rt->mgpuModuleUnload(module);
}

TEST_F(MockDriver, ClusterLaunches) {
  void *module =
      rt->mgpuModuleLoad(const_cast<char *>(kMockBinary), sizeof(kMockBinary));
  void *kernel = rt->mgpuModuleGetFunction(module, "scale_add");
  const int64_t rows = 16;
  int64_t cols = 4;
  std::vector<float> x = randomFloats(rows * 4, 7), b = randomFloats(4, 8);
  void *dx = rt->moe_cuda_upload(x.data(), x.size() * sizeof(float));
  void *db = rt->moe_cuda_upload(b.data(), b.size() * sizeof(float));
  void *ds = rt->moe_cuda_upload(kScale, sizeof(kScale));
  void *dy = rt->mgpuMemAlloc(x.size() * sizeof(float), nullptr, false);
  void *params[] = {&dy, &dx, &ds, &db, &cols};
  int launches = stat("launches");
  rt->mgpuLaunchClusterKernel(kernel, 2, 1, 1, rows, 1, 1, cols, 1, 1, 0,
                              nullptr, params, nullptr);
  // Over 8 blocks per cluster is non-portable: the wrapper opts in.
  rt->mgpuLaunchClusterKernel(kernel, 16, 1, 1, rows, 1, 1, cols, 1, 1, 0,
                              nullptr, params, nullptr);
  EXPECT_EQ(rt->error(), "");
  EXPECT_EQ(stat("launches"), launches + 2);
  std::vector<float> y(x.size());
  EXPECT_EQ(rt->moe_cuda_download(y.data(), dy, y.size() * sizeof(float)), 0);
  EXPECT_EQ(y, reference(x, b));
  rt->mgpuLaunchClusterKernel(kernel, 3, 1, 1, rows, 1, 1, cols, 1, 1, 0,
                              nullptr, params, nullptr);
  EXPECT_NE(rt->error().find("CUDA device 0: cuLaunchKernelEx (kernel "
                             "'scale_add', grid 16x1x1, block 4x1x1, "
                             "cluster 3x1x1) failed: "),
            std::string::npos);
  for (void *p : {dx, db, ds, dy})
    rt->moe_cuda_free(p);
  rt->mgpuModuleUnload(module);
  EXPECT_EQ(stat("allocations"), baseAllocations);
}

TEST_F(MockDriver, AsynchronousFaultsSurfaceAtSynchronize) {
  void *module =
      rt->mgpuModuleLoad(const_cast<char *>(kMockBinary), sizeof(kMockBinary));
  void *trap = rt->mgpuModuleGetFunction(module, "trap");
  void *stream = rt->mgpuStreamCreate();
  rt->mgpuLaunchKernel(trap, 1, 1, 1, 1, 1, 1, 0, stream, nullptr, nullptr, 0);
  EXPECT_EQ(rt->error(), "");
  rt->mgpuStreamSynchronize(stream);
  EXPECT_EQ(rt->error(), "CUDA device 0: cuStreamSynchronize failed: "
                         "CUDA_ERROR_LAUNCH_FAILED (mock driver error)");
  rt->mgpuStreamDestroy(stream);
  rt->mgpuModuleUnload(module);
}

TEST_F(MockDriver, EmptyLaunchesAreSkipped) {
  void *module =
      rt->mgpuModuleLoad(const_cast<char *>(kMockBinary), sizeof(kMockBinary));
  void *kernel = rt->mgpuModuleGetFunction(module, "trap");
  int launches = stat("launches");
  rt->mgpuLaunchKernel(kernel, 0, 1, 1, 4, 1, 1, 0, nullptr, nullptr, nullptr,
                       0);
  rt->mgpuLaunchClusterKernel(kernel, 1, 1, 1, 4, 1, 1, 0, 1, 1, 0, nullptr,
                              nullptr, nullptr);
  EXPECT_EQ(stat("launches"), launches);
  EXPECT_EQ(rt->error(), "");
  rt->mgpuLaunchKernel(kernel, -1, 1, 1, 4, 1, 1, 0, nullptr, nullptr, nullptr,
                       0);
  EXPECT_EQ(rt->error(),
            "launch of kernel 'trap': dimension -1 is out of range");
  rt->mgpuModuleUnload(module);
}

TEST_F(MockDriver, MemsetAndMemcpy) {
  void *stream = rt->mgpuStreamCreate();
  void *d = rt->mgpuMemAlloc(64, stream, false);
  ASSERT_NE(d, nullptr) << rt->error();
  rt->mgpuMemset32(d, 0x3f800000u, 16, stream); // 1.0f
  rt->mgpuStreamSynchronize(stream);
  std::vector<float> f(16);
  EXPECT_EQ(rt->moe_cuda_download(f.data(), d, 64), 0);
  EXPECT_EQ(f, std::vector<float>(16, 1.0f));
  rt->mgpuMemset16(d, 0xabcd, 32, stream);
  std::vector<uint16_t> h(32);
  EXPECT_EQ(rt->moe_cuda_download(h.data(), d, 64), 0);
  EXPECT_EQ(h, std::vector<uint16_t>(32, 0xabcd));
  std::vector<float> in = randomFloats(16, 9), out(16);
  rt->mgpuMemcpy(d, in.data(), 64, stream);
  rt->mgpuMemcpy(out.data(), d, 64, stream);
  rt->mgpuStreamSynchronize(stream);
  EXPECT_EQ(out, in);
  rt->mgpuMemFree(d, stream);
  rt->mgpuStreamDestroy(stream);
  void *managed = rt->mgpuMemAlloc(64, nullptr, true);
  EXPECT_NE(managed, nullptr);
  rt->mgpuMemFree(managed, nullptr);
  EXPECT_EQ(stat("allocations"), baseAllocations);
  EXPECT_EQ(rt->error(), "");
}

TEST_F(MockDriver, StreamsAndEvents) {
  void *a = rt->mgpuStreamCreate(), *b = rt->mgpuStreamCreate();
  void *event = rt->mgpuEventCreate();
  ASSERT_TRUE(a && b && event) << rt->error();
  EXPECT_EQ(stat("streams"), baseStreams + 2);
  rt->mgpuEventRecord(event, a);
  rt->mgpuStreamWaitEvent(b, event);
  rt->mgpuEventSynchronize(event);
  rt->mgpuStreamSynchronize(b);
  rt->mgpuEventDestroy(event);
  rt->mgpuStreamDestroy(a);
  rt->mgpuStreamDestroy(b);
  EXPECT_EQ(rt->error(), "");
}

TEST_F(MockDriver, ErrorsArePerThreadAndRunsConcurrent) {
  void *module =
      rt->mgpuModuleLoad(const_cast<char *>(kMockBinary), sizeof(kMockBinary));
  void *kernel = rt->mgpuModuleGetFunction(module, "scale_add");
  std::string otherThreadError;
  std::thread([&] {
    rt->mgpuModuleGetFunction(nullptr, "scale_add");
    otherThreadError = rt->error();
  }).join();
  EXPECT_EQ(otherThreadError,
            "mgpuModuleGetFunction: no module or no kernel name");
  EXPECT_EQ(rt->error(), "");

  std::vector<std::thread> threads;
  std::vector<int> good(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      if (rt->moe_cuda_init() != 0)
        return;
      for (int i = 0; i < 25; ++i) {
        std::vector<float> x = randomFloats(4 * (i + 1), 100 * t + i);
        std::vector<float> b = randomFloats(4, 7 * t + i);
        good[t] += scaleAdd(kernel, x, b) == reference(x, b);
      }
      good[t] -= rt->moe_cuda_take_error() != nullptr;
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(good, std::vector<int>(4, 25));
  rt->mgpuModuleUnload(module);
  EXPECT_EQ(stat("allocations"), baseAllocations);
}

/// A model as moe-compile --target=cuda links it: test/Runtime/
/// fake_cuda_model.so (its own copy of both runtimes) on the mock driver.
TEST_F(MockDriver, CudaModelThroughTheCApi) {
  // The model's runtime reads $MOE_CUDA_DRIVER on first use.
  setenv("MOE_CUDA_DRIVER", kMockDriver, 1);
  unsetenv("MOE_CUDA_DEVICE");
  std::string path = std::string(MOE_FAKE_MODEL_DIR) + "/fake_cuda_model.so";
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  struct {
#define MOE_RUNTIME_FUNCTION(name) decltype(&::name) name = nullptr;
#include "moe/Runtime/MoERuntimeAPI.def"
  } m;
#define MOE_RUNTIME_FUNCTION(name)                                             \
  m.name = reinterpret_cast<decltype(m.name)>(dlsym(handle, #name));           \
  ASSERT_NE(m.name, nullptr) << #name;
#include "moe/Runtime/MoERuntimeAPI.def"

  EXPECT_STREQ(m.moe_device_kind(), "cuda");
  EXPECT_EQ(m.moe_get_device(), 0);
  auto run = [&](int64_t rows, std::vector<float> &y) {
    std::vector<float> x = randomFloats(4 * rows, unsigned(rows)),
                       b = randomFloats(4, 11);
    int64_t xShape[] = {rows, 4}, bShape[] = {4};
    moe_tensor *in[] = {m.moe_tensor_create(x.data(), xShape, 2, 1),
                        m.moe_tensor_create(b.data(), bShape, 1, 1)};
    moe_tensor *out[1] = {nullptr};
    int status = m.moe_run(in, 2, out, 1);
    y.clear();
    if (status == MOE_OK) {
      auto *data = static_cast<const float *>(m.moe_tensor_data(out[0]));
      y.assign(data, data + m.moe_tensor_num_elements(out[0]));
      EXPECT_EQ(y, reference(x, b));
    } else {
      EXPECT_EQ(out[0], nullptr);
    }
    m.moe_tensor_destroy(out[0]);
    m.moe_tensor_destroy(in[0]);
    m.moe_tensor_destroy(in[1]);
    return status;
  };
  std::vector<float> y;
  int launches = stat("launches");
  EXPECT_EQ(run(5, y), MOE_OK) << m.moe_last_error();
  EXPECT_EQ(y.size(), 20u);
  EXPECT_EQ(run(0, y), MOE_OK) << m.moe_last_error(); // empty: no launch
  EXPECT_EQ(stat("launches"), launches + 1);

  EXPECT_EQ(m.moe_set_device(1), MOE_OK) << m.moe_last_error();
  EXPECT_EQ(m.moe_get_device(), 1);
  EXPECT_EQ(run(3, y), MOE_OK) << m.moe_last_error();
  EXPECT_EQ(m.moe_set_device(2), MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(m.moe_last_error(),
               "moe_set_device: CUDA device 2 does not exist (this machine "
               "has 2)");
  EXPECT_EQ(m.moe_set_device(0), MOE_OK);
  int allocations = stat("allocations"); // with the constant on each device

  // A device error fails the run (outputs freed), and the next run works.
  failNext("cuLaunchKernel", CUDA_ERROR_LAUNCH_FAILED);
  EXPECT_EQ(run(5, y), MOE_ERROR_INTERNAL);
  EXPECT_STREQ(m.moe_last_error(),
               "CUDA device 0: cuLaunchKernel (kernel 'scale_add', grid "
               "5x1x1, block 4x1x1) failed: CUDA_ERROR_LAUNCH_FAILED (mock "
               "driver error)");
  EXPECT_EQ(run(5, y), MOE_OK) << m.moe_last_error();
  EXPECT_EQ(stat("allocations"), allocations);
  EXPECT_EQ(stat("context_depth"), 0);
}

} // namespace
