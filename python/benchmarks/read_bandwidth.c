// read_bandwidth.c - the machine's read ceiling for a warm working set.
//
// Streams an array of MIB MiB with AVX-512 loads on OpenMP threads (one
// contiguous block each, as the T=1 expert kernels read their weights) and
// prints the median and best GB/s of 30 passes after a first touch. At
// T=1 the activated experts' weights (mixtral_s: 88 MiB) are read once per
// call; this is the speed those reads cannot beat. Not a test.
//
//   gcc -O2 -mavx512f -fopenmp python/benchmarks/read_bandwidth.c -o /tmp/rb
//   OMP_NUM_THREADS=2 /tmp/rb 88
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kPasses = 30 };

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int byTime(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 0;
  if (mib <= 0) {
    fprintf(stderr, "usage: %s MIB (array size in MiB, > 0)\n", argv[0]);
    return 1;
  }
  size_t n = (size_t)mib << 18; // floats; a multiple of 64
  float *a = aligned_alloc(64, n * sizeof(float));
  if (!a) {
    fprintf(stderr, "%s: out of memory for %ld MiB\n", argv[0], mib);
    return 1;
  }
  for (size_t i = 0; i < n; ++i)
    a[i] = (float)(i & 1023) * 1e-3f;

  double times[kPasses];
  float sink = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    double start = seconds();
#pragma omp parallel reduction(+ : sink)
    {
      size_t threads = omp_get_num_threads(), t = omp_get_thread_num();
      size_t lo = n * t / threads / 64 * 64, hi = n * (t + 1) / threads / 64 * 64;
      // Four independent accumulators: the adds never limit the loads.
      __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      for (size_t i = lo; i < hi; i += 64) {
        s0 = _mm512_add_ps(s0, _mm512_load_ps(a + i));
        s1 = _mm512_add_ps(s1, _mm512_load_ps(a + i + 16));
        s2 = _mm512_add_ps(s2, _mm512_load_ps(a + i + 32));
        s3 = _mm512_add_ps(s3, _mm512_load_ps(a + i + 48));
      }
      sink += _mm512_reduce_add_ps(
          _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    }
    times[pass] = seconds() - start;
  }
  qsort(times, kPasses, sizeof(double), byTime);
  double bytes = (double)n * sizeof(float);
  printf("%ld MiB, %d threads: median %.3f ms (%.1f GB/s), best %.1f GB/s "
         "[checksum %g]\n",
         mib, omp_get_max_threads(), times[kPasses / 2] * 1e3,
         bytes / times[kPasses / 2] / 1e9, bytes / times[0] / 1e9, sink);
  free(a);
  return 0;
}
