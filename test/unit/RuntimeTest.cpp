//===- RuntimeTest.cpp - the MoERuntime.h C API of a model.so
//--------------===//
//
// dlopen's the hand-written models of test/Runtime (built with the runtime
// library exactly like a compiled model) and exercises the whole C API:
// signature queries, JSON, runs against a C++ reference on random data, and
// every refusal.
//
//===----------------------------------------------------------------------===//

#include "moe/Runtime/MoERuntime.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifndef MOE_FAKE_MODEL_DIR
#error "MOE_FAKE_MODEL_DIR must name build/test/Runtime"
#endif

namespace {

/// The C API bound from one model.so.
struct Model {
  void *handle = nullptr;
#define MOE_RUNTIME_FUNCTION(name) decltype(&::name) name = nullptr;
#include "moe/Runtime/MoERuntimeAPI.def"

  /// Loads MOE_FAKE_MODEL_DIR/<file>; reports failures through gtest.
  void load(const std::string &file) {
    std::string path = std::string(MOE_FAKE_MODEL_DIR) + "/" + file;
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle, nullptr) << dlerror();
#define MOE_RUNTIME_FUNCTION(name)                                             \
  name = reinterpret_cast<decltype(name)>(dlsym(handle, #name));               \
  ASSERT_NE(name, nullptr) << #name;
#include "moe/Runtime/MoERuntimeAPI.def"
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

class FakeModelTest : public ::testing::Test {
protected:
  Model m;
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(m.load("fake_model.so")); }

  /// Runs y = x + b with T rows; the result in `y` (empty on failure).
  int run(const std::vector<float> &x, const std::vector<int64_t> &xShape,
          const std::vector<float> &b, const std::vector<int64_t> &bShape,
          std::vector<float> &y, std::vector<int64_t> &yShape) {
    moe_tensor *in[2] = {
        m.moe_tensor_create(const_cast<float *>(x.data()), xShape.data(),
                            int64_t(xShape.size()), 1),
        m.moe_tensor_create(const_cast<float *>(b.data()), bShape.data(),
                            int64_t(bShape.size()), 1)};
    EXPECT_NE(in[0], nullptr) << m.moe_last_error();
    EXPECT_NE(in[1], nullptr) << m.moe_last_error();
    moe_tensor *out[1] = {reinterpret_cast<moe_tensor *>(0x1)};
    int status = m.moe_run(in, 2, out, 1);
    y.clear();
    yShape.clear();
    if (status == MOE_OK) {
      EXPECT_EQ(m.moe_tensor_dtype(out[0]), 1);
      int64_t rank = m.moe_tensor_rank(out[0]);
      const int64_t *shape = m.moe_tensor_shape(out[0]);
      yShape.assign(shape, shape + rank);
      const float *data = static_cast<const float *>(m.moe_tensor_data(out[0]));
      y.assign(data, data + m.moe_tensor_num_elements(out[0]));
    } else {
      EXPECT_EQ(out[0], nullptr);
    }
    m.moe_tensor_destroy(out[0]);
    m.moe_tensor_destroy(in[0]);
    m.moe_tensor_destroy(in[1]);
    return status;
  }
};

TEST_F(FakeModelTest, Signature) {
  EXPECT_EQ(m.moe_num_inputs(), 2);
  EXPECT_EQ(m.moe_num_outputs(), 1);
  EXPECT_STREQ(m.moe_input_name(0), "x");
  EXPECT_STREQ(m.moe_input_name(1), "b");
  EXPECT_STREQ(m.moe_output_name(0), "y");
  EXPECT_EQ(m.moe_input_dtype(0), 1);
  EXPECT_EQ(m.moe_input_dtype(1), 1);
  EXPECT_EQ(m.moe_output_dtype(0), 1);
  EXPECT_EQ(m.moe_input_rank(0), 2);
  EXPECT_EQ(m.moe_input_rank(1), 1);
  EXPECT_EQ(m.moe_output_rank(0), 2);
  EXPECT_EQ(m.moe_input_dim(0, 0), -1);
  EXPECT_EQ(m.moe_input_dim(0, 1), 4);
  EXPECT_EQ(m.moe_input_dim(1, 0), 4);
  EXPECT_EQ(m.moe_output_dim(0, 0), -1);
  EXPECT_EQ(m.moe_output_dim(0, 1), 4);
  EXPECT_STREQ(m.moe_input_dim_param(0, 0), "T");
  EXPECT_STREQ(m.moe_input_dim_param(0, 1), "");
  EXPECT_STREQ(m.moe_input_dim_param(1, 0), "");
  EXPECT_STREQ(m.moe_output_dim_param(0, 0), "T");
  EXPECT_STREQ(m.moe_output_dim_param(0, 1), "");
}

TEST_F(FakeModelTest, SignatureOutOfRange) {
  EXPECT_EQ(m.moe_input_name(2), nullptr);
  EXPECT_NE(
      std::string(m.moe_last_error()).find("input index 2 is out of range"),
      std::string::npos)
      << m.moe_last_error();
  EXPECT_EQ(m.moe_input_name(-1), nullptr);
  EXPECT_EQ(m.moe_output_name(1), nullptr);
  EXPECT_NE(std::string(m.moe_last_error()).find("output index 1"),
            std::string::npos);
  EXPECT_EQ(m.moe_input_dtype(5), 0);
  EXPECT_EQ(m.moe_output_dtype(-3), 0);
  EXPECT_EQ(m.moe_input_rank(2), -1);
  EXPECT_EQ(m.moe_output_rank(1), -1);
  EXPECT_EQ(m.moe_input_dim(2, 0), -2);
  EXPECT_EQ(m.moe_input_dim(0, 2), -2);
  EXPECT_EQ(m.moe_input_dim(0, -1), -2);
  EXPECT_EQ(m.moe_output_dim(1, 0), -2);
  EXPECT_EQ(m.moe_output_dim(0, 7), -2);
  EXPECT_NE(std::string(m.moe_last_error()).find("dimension 7 is out of range"),
            std::string::npos)
      << m.moe_last_error();
  EXPECT_EQ(m.moe_input_dim_param(0, 2), nullptr);
  EXPECT_EQ(m.moe_input_dim_param(3, 0), nullptr);
  EXPECT_EQ(m.moe_output_dim_param(0, -1), nullptr);
  EXPECT_EQ(m.moe_output_dim_param(1, 0), nullptr);
}

TEST_F(FakeModelTest, SignatureJson) {
  const char *json = m.moe_signature_json();
  ASSERT_NE(json, nullptr);
  EXPECT_STREQ(
      json, "{\"inputs\":[{\"name\":\"x\",\"dtype\":1,\"shape\":[\"T\",4]},"
            "{\"name\":\"b\",\"dtype\":1,\"shape\":[4]}],"
            "\"outputs\":[{\"name\":\"y\",\"dtype\":1,\"shape\":[\"T\",4]}]}");
  // Built once: the same string every time.
  EXPECT_EQ(m.moe_signature_json(), json);
}

TEST_F(FakeModelTest, RunMatchesReference) {
  for (int64_t rows : {1, 3, 17, 128}) {
    std::vector<float> x = randomFloats(rows * 4, unsigned(rows));
    std::vector<float> b = randomFloats(4, unsigned(rows) + 1000);
    std::vector<float> y;
    std::vector<int64_t> yShape;
    ASSERT_EQ(run(x, {rows, 4}, b, {4}, y, yShape), MOE_OK)
        << m.moe_last_error();
    EXPECT_EQ(yShape, (std::vector<int64_t>{rows, 4}));
    ASSERT_EQ(y.size(), size_t(rows * 4));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < 4; ++j)
        EXPECT_EQ(y[i * 4 + j], x[i * 4 + j] + b[j]) << i << "," << j;
  }
}

TEST_F(FakeModelTest, RunEmpty) {
  std::vector<float> x, b = randomFloats(4, 7), y;
  std::vector<int64_t> yShape;
  ASSERT_EQ(run(x, {0, 4}, b, {4}, y, yShape), MOE_OK) << m.moe_last_error();
  EXPECT_EQ(yShape, (std::vector<int64_t>{0, 4}));
  EXPECT_TRUE(y.empty());
}

TEST_F(FakeModelTest, RunConcurrently) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int iter = 0; iter < 50; ++iter) {
        int64_t rows = 1 + (t * 50 + iter) % 9;
        std::vector<float> x = randomFloats(rows * 4, t * 1000 + iter);
        std::vector<float> b = randomFloats(4, t);
        moe_tensor *in[2] = {
            m.moe_tensor_create(x.data(), std::vector<int64_t>{rows, 4}.data(),
                                2, 1),
            m.moe_tensor_create(b.data(), std::vector<int64_t>{4}.data(), 1,
                                1)};
        moe_tensor *out[1] = {nullptr};
        if (m.moe_run(in, 2, out, 1) != MOE_OK) {
          ++failures[t];
        } else {
          auto *y = static_cast<const float *>(m.moe_tensor_data(out[0]));
          for (int64_t k = 0; k < rows * 4; ++k)
            if (y[k] != x[k] + b[k % 4])
              ++failures[t];
        }
        m.moe_tensor_destroy(out[0]);
        m.moe_tensor_destroy(in[0]);
        m.moe_tensor_destroy(in[1]);
      }
    });
  for (std::thread &t : threads)
    t.join();
  for (int f : failures)
    EXPECT_EQ(f, 0);
}

/// Runs with the given inputs and expects `status` and `message` (a
/// substring of moe_last_error()).
#define EXPECT_RUN_ERROR(inputs, numInputs, numOutputs, message)               \
  do {                                                                         \
    moe_tensor *out_[4] = {nullptr, nullptr, nullptr, nullptr};                \
    EXPECT_EQ(m.moe_run(inputs, numInputs, out_, numOutputs),                  \
              MOE_ERROR_INVALID_ARGUMENT);                                     \
    EXPECT_NE(std::string(m.moe_last_error()).find(message),                   \
              std::string::npos)                                               \
        << "got: " << m.moe_last_error();                                      \
    EXPECT_EQ(out_[0], nullptr);                                               \
  } while (false)

TEST_F(FakeModelTest, RunRefusals) {
  std::vector<float> x(8 * 16), b(16);
  std::vector<double> xd(5 * 4);
  int64_t s54[] = {5, 4}, s4[] = {4}, s58[] = {5, 8}, s3[] = {3},
          s544[] = {5, 4, 4};
  moe_tensor *x54 = m.moe_tensor_create(x.data(), s54, 2, 1);
  moe_tensor *b4 = m.moe_tensor_create(b.data(), s4, 1, 1);
  moe_tensor *x58 = m.moe_tensor_create(x.data(), s58, 2, 1);
  moe_tensor *b3 = m.moe_tensor_create(b.data(), s3, 1, 1);
  moe_tensor *xd54 = m.moe_tensor_create(xd.data(), s54, 2, 11);
  moe_tensor *x544 = m.moe_tensor_create(x.data(), s544, 3, 1);
  ASSERT_TRUE(x54 && b4 && x58 && b3 && xd54 && x544);

  {
    moe_tensor *in[] = {xd54, b4};
    EXPECT_RUN_ERROR(in, 2, 1,
                     "input 'x': dtype is float64, the model expects float32");
  }
  {
    moe_tensor *in[] = {x544, b4};
    EXPECT_RUN_ERROR(in, 2, 1, "input 'x': rank is 3");
  }
  {
    moe_tensor *in[] = {x58, b4};
    EXPECT_RUN_ERROR(in, 2, 1,
                     "input 'x': dimension 1 is 8, the model expects 4");
  }
  {
    moe_tensor *in[] = {x54, b3};
    EXPECT_RUN_ERROR(in, 2, 1,
                     "input 'b': dimension 0 is 3, the model expects 4");
  }
  {
    moe_tensor *in[] = {x54};
    EXPECT_RUN_ERROR(in, 1, 1, "got 1 inputs, the model expects 2");
  }
  {
    moe_tensor *in[] = {x54, b4, b4};
    EXPECT_RUN_ERROR(in, 3, 1, "got 3 inputs, the model expects 2");
  }
  {
    moe_tensor *in[] = {x54, b4};
    EXPECT_RUN_ERROR(in, 2, 2, "the model has 1 outputs");
    EXPECT_RUN_ERROR(in, 2, 0, "the model has 1 outputs");
  }
  {
    moe_tensor *in[] = {x54, nullptr};
    EXPECT_RUN_ERROR(in, 2, 1, "input 'b': tensor is NULL");
  }
  EXPECT_RUN_ERROR(nullptr, 2, 1, "inputs is NULL");
  {
    moe_tensor *in[] = {x54, b4};
    EXPECT_EQ(m.moe_run(in, 2, nullptr, 1), MOE_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(m.moe_last_error()).find("outputs is NULL"),
              std::string::npos);
  }
  for (moe_tensor *t : {x54, b4, x58, b3, xd54, x544})
    m.moe_tensor_destroy(t);
}

TEST_F(FakeModelTest, TensorApi) {
  std::vector<int32_t> data(6);
  int64_t shape[] = {2, 3};
  moe_tensor *t = m.moe_tensor_create(data.data(), shape, 2, 6);
  ASSERT_NE(t, nullptr);
  shape[0] = 99; // the shape was copied
  EXPECT_EQ(m.moe_tensor_data(t), data.data());
  EXPECT_EQ(m.moe_tensor_rank(t), 2);
  EXPECT_EQ(m.moe_tensor_shape(t)[0], 2);
  EXPECT_EQ(m.moe_tensor_shape(t)[1], 3);
  EXPECT_EQ(m.moe_tensor_dtype(t), 6);
  EXPECT_EQ(m.moe_tensor_num_elements(t), 6);
  m.moe_tensor_destroy(t); // must not free caller memory
  data[0] = 1;

  // A scalar.
  float scalar = 3;
  moe_tensor *s = m.moe_tensor_create(&scalar, nullptr, 0, 1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(m.moe_tensor_rank(s), 0);
  EXPECT_EQ(m.moe_tensor_num_elements(s), 1);
  m.moe_tensor_destroy(s);

  // NULL arguments.
  m.moe_tensor_destroy(nullptr);
  EXPECT_EQ(m.moe_tensor_data(nullptr), nullptr);
  EXPECT_EQ(m.moe_tensor_rank(nullptr), -1);
  EXPECT_EQ(m.moe_tensor_shape(nullptr), nullptr);
  EXPECT_EQ(m.moe_tensor_dtype(nullptr), 0);
  EXPECT_EQ(m.moe_tensor_num_elements(nullptr), -1);
}

TEST_F(FakeModelTest, TensorCreateRefusals) {
  float data[4];
  int64_t shape[] = {4}, negative[] = {-1}, huge[] = {INT64_MAX / 2, 4};
  EXPECT_EQ(m.moe_tensor_create(nullptr, shape, 1, 1), nullptr);
  EXPECT_NE(std::string(m.moe_last_error()).find("data is NULL"),
            std::string::npos);
  EXPECT_EQ(m.moe_tensor_create(data, nullptr, 1, 1), nullptr);
  EXPECT_NE(std::string(m.moe_last_error()).find("shape is NULL"),
            std::string::npos);
  EXPECT_EQ(m.moe_tensor_create(data, shape, -1, 1), nullptr);
  EXPECT_NE(std::string(m.moe_last_error()).find("rank -1"), std::string::npos);
  EXPECT_EQ(m.moe_tensor_create(data, shape, 1, 4), nullptr); // UINT16
  EXPECT_NE(std::string(m.moe_last_error()).find("unsupported dtype 4"),
            std::string::npos);
  EXPECT_EQ(m.moe_tensor_create(data, shape, 1, 0), nullptr);
  EXPECT_EQ(m.moe_tensor_create(data, negative, 1, 1), nullptr);
  EXPECT_NE(std::string(m.moe_last_error()).find("invalid shape [-1]"),
            std::string::npos);
  EXPECT_EQ(m.moe_tensor_create(data, huge, 2, 1), nullptr);
  // An empty tensor may have no data.
  int64_t empty[] = {0, 4};
  moe_tensor *t = m.moe_tensor_create(nullptr, empty, 2, 1);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(m.moe_tensor_num_elements(t), 0);
  m.moe_tensor_destroy(t);
}

TEST_F(FakeModelTest, LastErrorIsPerThread) {
  EXPECT_EQ(m.moe_input_name(9), nullptr);
  std::string here = m.moe_last_error();
  EXPECT_FALSE(here.empty());
  std::string there = "unset";
  std::thread([&] { there = m.moe_last_error(); }).join();
  EXPECT_EQ(there, "");
}

TEST_F(FakeModelTest, NumThreads) {
  m.moe_set_num_threads(3);
  EXPECT_EQ(m.moe_get_num_threads(), 3);
  m.moe_set_num_threads(0);
  EXPECT_GE(m.moe_get_num_threads(), 1);
  m.moe_set_num_threads(-5);
  EXPECT_GE(m.moe_get_num_threads(), 1);
}

TEST_F(FakeModelTest, CpuModelHasOnlyDeviceZero) {
  EXPECT_STREQ(m.moe_device_kind(), "cpu");
  EXPECT_EQ(m.moe_get_device(), 0);
  EXPECT_EQ(m.moe_set_device(0), MOE_OK);
  EXPECT_EQ(m.moe_set_device(1), MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(m.moe_last_error(),
               "moe_set_device: a cpu model has only device 0, got 1");
  EXPECT_EQ(m.moe_set_device(-1), MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(m.moe_get_device(), 0);
}

TEST(SymbolicModelTest, SharedDimensionMustAgree) {
  Model m;
  ASSERT_NO_FATAL_FAILURE(m.load("fake_model_symbolic.so"));
  EXPECT_STREQ(m.moe_input_dim_param(1, 0), "T");
  std::vector<float> x = randomFloats(5 * 4, 1), w = randomFloats(6, 2);
  int64_t xs[] = {5, 4}, w6[] = {6}, w5[] = {5};
  moe_tensor *tx = m.moe_tensor_create(x.data(), xs, 2, 1);
  moe_tensor *tw6 = m.moe_tensor_create(w.data(), w6, 1, 1);
  moe_tensor *tw5 = m.moe_tensor_create(w.data(), w5, 1, 1);
  {
    moe_tensor *in[] = {tx, tw6};
    EXPECT_RUN_ERROR(in, 2, 1,
                     "input 'w': dimension 0 ('T') is 6, but 'T' is 5 in "
                     "input 'x' (dimension 0)");
  }
  {
    moe_tensor *in[] = {tx, tw5};
    moe_tensor *out[1] = {nullptr};
    ASSERT_EQ(m.moe_run(in, 2, out, 1), MOE_OK) << m.moe_last_error();
    auto *y = static_cast<const float *>(m.moe_tensor_data(out[0]));
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 4; ++j)
        EXPECT_EQ(y[i * 4 + j], x[i * 4 + j] * w[i]);
    m.moe_tensor_destroy(out[0]);
  }
  m.moe_tensor_destroy(tx);
  m.moe_tensor_destroy(tw6);
  m.moe_tensor_destroy(tw5);
}

TEST(AliasModelTest, OutputsAreCopiedOrOwnedSafely) {
  Model m;
  ASSERT_NO_FATAL_FAILURE(m.load("fake_model_alias.so"));
  for (int iter = 0; iter < 20; ++iter) {
    int64_t rows = 1 + iter % 6;
    std::vector<float> x = randomFloats(rows * 4, iter);
    std::vector<float> original = x;
    int64_t xs[] = {rows, 4};
    moe_tensor *tx = m.moe_tensor_create(x.data(), xs, 2, 1);
    moe_tensor *in[] = {tx};
    moe_tensor *out[3] = {nullptr, nullptr, nullptr};
    ASSERT_EQ(m.moe_run(in, 1, out, 3), MOE_OK) << m.moe_last_error();
    // `a` aliases the input: it must be a copy, not the caller's buffer.
    EXPECT_NE(m.moe_tensor_data(out[0]), x.data());
    // The shared buffer is owned by at most one output.
    EXPECT_NE(m.moe_tensor_data(out[1]), m.moe_tensor_data(out[2]));
    EXPECT_EQ(m.moe_tensor_shape(out[1])[0], 4);
    EXPECT_EQ(m.moe_tensor_shape(out[1])[1], rows);
    auto *a = static_cast<const float *>(m.moe_tensor_data(out[0]));
    auto *t = static_cast<const float *>(m.moe_tensor_data(out[1]));
    auto *c = static_cast<const float *>(m.moe_tensor_data(out[2]));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < 4; ++j) {
        EXPECT_EQ(a[i * 4 + j], original[i * 4 + j]);
        EXPECT_EQ(c[i * 4 + j], original[i * 4 + j]);
        EXPECT_EQ(t[j * rows + i], original[i * 4 + j]);
      }
    for (moe_tensor *o : out)
      m.moe_tensor_destroy(o);
    m.moe_tensor_destroy(tx);
    // The caller's buffer is untouched and still ours.
    EXPECT_EQ(x, original);
  }
}

} // namespace

//===--- External weights (fake_model_weights.so: y = x * s + b) ---------===//

namespace {

class WeightsModelTest : public ::testing::Test {
protected:
  Model m;
  int (*released)(const void **) = nullptr;
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(m.load("fake_model_weights.so"));
    released = reinterpret_cast<int (*)(const void **)>(
        dlsym(m.handle, "moe_fake_released"));
    ASSERT_NE(released, nullptr);
  }
  /// Binds weight `name` to `values` (rank 1).
  int bind(const char *name, std::vector<float> &values, int32_t flags,
           int32_t dtype = 1) {
    int64_t shape[] = {int64_t(values.size())};
    moe_tensor *t = m.moe_tensor_create(values.data(), shape, 1, dtype);
    EXPECT_NE(t, nullptr);
    int status = m.moe_set_weight(name, t, flags);
    m.moe_tensor_destroy(t); // the runtime never keeps the moe_tensor
    return status;
  }
  /// Runs on x = [[1, 2, 3, 4]]; the output row (empty on failure).
  std::vector<float> run() {
    std::vector<float> x = {1, 2, 3, 4};
    int64_t shape[] = {1, 4};
    moe_tensor *in[] = {m.moe_tensor_create(x.data(), shape, 2, 1)};
    moe_tensor *out[1] = {nullptr};
    std::vector<float> y;
    if (m.moe_run(in, 1, out, 1) == MOE_OK) {
      auto *data = static_cast<const float *>(m.moe_tensor_data(out[0]));
      y.assign(data, data + 4);
    }
    m.moe_tensor_destroy(out[0]);
    m.moe_tensor_destroy(in[0]);
    return y;
  }
};

TEST_F(WeightsModelTest, Signature) {
  ASSERT_EQ(m.moe_num_inputs(), 1);
  ASSERT_EQ(m.moe_num_weights(), 2);
  EXPECT_STREQ(m.moe_weight_name(0), "b");
  EXPECT_STREQ(m.moe_weight_name(1), "s");
  EXPECT_EQ(m.moe_weight_dtype(0), 1);
  EXPECT_EQ(m.moe_weight_rank(0), 1);
  EXPECT_EQ(m.moe_weight_dim(0, 0), 4);
  EXPECT_EQ(m.moe_weight_dim(1, 0), 1);
  EXPECT_EQ(m.moe_weight_name(2), nullptr);
  EXPECT_STREQ(m.moe_last_error(),
               "moe_weight_name: weight index 2 is out of range (the model "
               "has 2 external weights)");
  EXPECT_EQ(m.moe_weight_dim(0, 1), -2);
  EXPECT_EQ(m.moe_weight_is_bound(5), -1);
  EXPECT_NE(
      std::string(m.moe_signature_json())
          .find(",\"weights\":[{\"name\":\"b\",\"dtype\":1,\"shape\":[4]}"),
      std::string::npos)
      << m.moe_signature_json();
}

TEST_F(WeightsModelTest, BindCheckRunRebind) {
  // Before binding: a run names the first unbound weight.
  EXPECT_TRUE(run().empty());
  EXPECT_STREQ(m.moe_last_error(),
               "moe_run: weight 'b' (float32 [4]) is not bound (2 of 2 "
               "external weights are unbound; bind them with moe_set_weight)");

  std::vector<float> b = {10, 20, 30, 40}, s = {2}, wrong = {1, 2, 3};
  EXPECT_EQ(bind("nope", b, MOE_WEIGHT_COPY), MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(m.moe_last_error(), "moe_set_weight: the model has no external "
                                   "weight 'nope'; its weights are 'b', 's'");
  EXPECT_EQ(bind("b", wrong, MOE_WEIGHT_COPY), MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(m.moe_last_error(),
               "moe_set_weight: weight 'b' (float32 [4]): got shape [3]");
  EXPECT_EQ(bind("b", b, MOE_WEIGHT_COPY, /*INT32*/ 6),
            MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(m.moe_last_error(),
               "moe_set_weight: weight 'b' (float32 [4]): got dtype int32");
  EXPECT_EQ(bind("b", b, 7), MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(m.moe_set_weight("b", nullptr, MOE_WEIGHT_COPY),
            MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(m.moe_set_weight(nullptr, nullptr, MOE_WEIGHT_COPY),
            MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(m.moe_weight_is_bound(0), 0);

  // A copy: later changes to the caller's memory are not seen.
  ASSERT_EQ(bind("b", b, MOE_WEIGHT_COPY), MOE_OK) << m.moe_last_error();
  EXPECT_EQ(m.moe_weight_is_bound(0), 1);
  EXPECT_TRUE(run().empty());
  EXPECT_NE(std::string(m.moe_last_error()).find("weight 's'"),
            std::string::npos);
  b[0] = -1;
  ASSERT_EQ(bind("s", s, MOE_WEIGHT_BORROW), MOE_OK) << m.moe_last_error();
  EXPECT_EQ(run(), (std::vector<float>{12, 24, 36, 48}));

  // Borrowed: the runtime reads the caller's memory.
  s[0] = 3;
  EXPECT_EQ(run(), (std::vector<float>{13, 26, 39, 52}));

  // Binding again releases the old data (the model's cached copies).
  const void *last = nullptr;
  int before = released(&last);
  ASSERT_EQ(bind("b", b, MOE_WEIGHT_BORROW), MOE_OK);
  EXPECT_EQ(released(&last), before + 1);
  EXPECT_NE(last, b.data()); // the runtime's copy was released
  EXPECT_EQ(run(), (std::vector<float>{2, 26, 39, 52}));
  ASSERT_EQ(bind("b", b, MOE_WEIGHT_COPY), MOE_OK);
  EXPECT_EQ(released(&last), before + 2);
  EXPECT_EQ(last, b.data());
}

TEST_F(WeightsModelTest, ConcurrentRunsAndBinding) {
  std::vector<float> b = {1, 1, 1, 1}, s = {1};
  ASSERT_EQ(bind("b", b, MOE_WEIGHT_COPY), MOE_OK);
  ASSERT_EQ(bind("s", s, MOE_WEIGHT_COPY), MOE_OK);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        std::vector<float> y = run();
        // Either binding of s (1 or 2), never a torn or freed one.
        if (y.size() != 4 || (y[0] != 2 && y[0] != 3))
          ++bad;
      }
    });
  for (int i = 0; i < 200; ++i) {
    std::vector<float> value = {float(1 + i % 2)};
    EXPECT_EQ(bind("s", value, MOE_WEIGHT_COPY), MOE_OK);
  }
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(NoWeightsTest, ModelWithoutWeightsRefusesBinding) {
  Model m;
  ASSERT_NO_FATAL_FAILURE(m.load("fake_model.so"));
  EXPECT_EQ(m.moe_num_weights(), 0);
  std::vector<float> b = {1, 2, 3, 4};
  int64_t shape[] = {4};
  moe_tensor *t = m.moe_tensor_create(b.data(), shape, 1, 1);
  EXPECT_EQ(m.moe_set_weight("b", t, MOE_WEIGHT_COPY),
            MOE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(m.moe_last_error(), "moe_set_weight: the model has no external "
                                   "weight 'b'; its weights are (none)");
  m.moe_tensor_destroy(t);
  EXPECT_EQ(std::string(m.moe_signature_json()).find("weights"),
            std::string::npos);
}

} // namespace
