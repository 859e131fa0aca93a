// nkfloor: the machine's floor for cross-process handoffs.
//
// Internal header shared by the nkfloor sources. It lives next to the .c
// files (not in include/) because nothing outside this executable uses it.
#ifndef NKFLOOR_H
#define NKFLOOR_H

#include <stdint.h>
#include <stddef.h>

// A peer that has not answered within this long is treated as hung: every
// blocking wait in every pattern is bounded by it, so a broken run fails fast
// instead of hanging a benchmark script.
#define NK_TIMEOUT_SEC 2

#define NK_MAX_ROLES 3
#define NK_CPU_ANY (-1) // "-" on the command line: leave placement to the scheduler

// One run of one pattern. Roles are numbered in command-line order:
// 0 = client, then kernel/middle (3-process patterns only), last = server.
struct nk_run {
    const char *pattern; // name used in every message, so failures say which pattern broke
    int nroles;
    int cpus[NK_MAX_ROLES];
    long iterations; // recorded round trips
    long warmup;     // unrecorded round trips before them
    long spin;       // futex patterns: pause-spins before sleeping; 0 = sleep at once
    uint64_t *samples; // iterations entries in MAP_SHARED memory, written by the client
};

struct nk_stats {
    uint64_t median_ns;
    uint64_t p99_ns;
    double mean_ns;
    double calls_per_sec;
};

// A role's body, run in its own forked process. Returns the exit status.
typedef int (*nk_role_fn)(int role, void *ctx);

// Forks one process per role, pins each to run->cpus[role], runs fn in it and
// waits for all of them. parent_after_fork (may be NULL) runs in the parent
// once every child exists, e.g. to close socket ends only the children use.
// Returns 0 when every role exited 0; otherwise kills the survivors, reports
// the failed role on stderr and returns -1.
int nk_spawn(const struct nk_run *run, const char *const role_names[],
             nk_role_fn fn, void *ctx, void (*parent_after_fork)(void *ctx));

// In a child: print "nkfloor: PATTERN: ROLE: message" on stderr.
void nk_child_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

uint64_t nk_now_ns(void);

// Patterns. Each returns 0 on success (run->samples filled) or -1.
int nk_run_futex3(const struct nk_run *run);
int nk_run_futex2(const struct nk_run *run);
int nk_run_spin2(const struct nk_run *run);
int nk_run_relay(const struct nk_run *run);

// Sorts samples in place. Samples are back-to-back (see the client loops), so
// their sum is the loop's wall time and calls/s is simply 1e9 / mean.
void nk_stats_compute(uint64_t *samples, size_t n, struct nk_stats *out);

#endif
