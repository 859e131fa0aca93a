// Summary statistics over the client's per-call samples.
#include "nkfloor.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

// Nearest-rank percentile: always an observed sample, never an interpolation,
// so p99 is a latency some call really had.
static uint64_t percentile(const uint64_t *sorted, size_t n, unsigned pct) {
    size_t rank = (n * pct + 99) / 100; // ceil(n * pct / 100), 1-based
    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

void nk_stats_compute(uint64_t *samples, size_t n, struct nk_stats *out) {
    qsort(samples, n, sizeof *samples, cmp_u64);
    long double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += samples[i];
    out->median_ns = percentile(samples, n, 50);
    out->p99_ns = percentile(samples, n, 99);
    out->mean_ns = (double)(sum / n);
    out->calls_per_sec = out->mean_ns > 0 ? 1e9 / out->mean_ns : 0;
}
