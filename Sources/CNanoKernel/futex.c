// Futex wrappers. Words live in MAP_SHARED memory mapped by two processes, so every
// operation is the shared (non-PRIVATE) variant.
#define _GNU_SOURCE
#include "nk_syscalls.h"
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

// Older kernel headers lack futex_waitv's types; the ABI is stable, so spell it out.
struct nk_futex_waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};
enum { NK_FUTEX2_SIZE_U32 = 0x02 };

// Nanoseconds as a timespec (a span for FUTEX_WAIT, an instant for FUTEX_WAIT_BITSET
// and futex_waitv).
static struct timespec timespec_of(uint64_t ns) {
    struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull) };
    return ts;
}

int nk_futex_wait(uint32_t *word, uint32_t expected, uint64_t timeout_ns) {
    struct timespec ts = timespec_of(timeout_ns);
    long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout_ns ? &ts : NULL, NULL, 0);
    return r == -1 ? -1 : 0;
}

// FUTEX_WAIT_BITSET takes an absolute deadline (CLOCK_MONOTONIC without
// FUTEX_CLOCK_REALTIME); with every bit set it is FUTEX_WAIT, which FUTEX_WAKE wakes.
int nk_futex_wait_until(uint32_t *word, uint32_t expected, uint64_t deadline_ns) {
    struct timespec deadline = timespec_of(deadline_ns);
    long r = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, &deadline, NULL, FUTEX_BITSET_MATCH_ANY);
    return r == -1 ? -1 : 0;
}

int nk_futex_wake(uint32_t *word, int count) {
    return (int)syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}

// futex_waitv takes an absolute CLOCK_MONOTONIC deadline: the caller's own.
int nk_futex_wait2_until(uint32_t *first, uint32_t first_expected,
                         uint32_t *second, uint32_t second_expected, uint64_t deadline_ns) {
    struct nk_futex_waitv waiters[2] = {
        { .val = first_expected, .uaddr = (uintptr_t)first, .flags = NK_FUTEX2_SIZE_U32 },
        { .val = second_expected, .uaddr = (uintptr_t)second, .flags = NK_FUTEX2_SIZE_U32 },
    };
    struct timespec deadline = timespec_of(deadline_ns);
    long r = syscall(SYS_futex_waitv, waiters, 2, 0, &deadline, CLOCK_MONOTONIC);
    return (int)r;
}
