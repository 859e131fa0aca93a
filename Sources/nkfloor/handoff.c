// Shared-memory handoff patterns: futex3, futex2, spin2.
//
// Every hop is a one-way "channel": a sequence word the sender stores and the
// receiver waits for, plus a flag the receiver raises before it sleeps. Each
// channel has exactly one sender and one receiver, and the sequence number of
// call i is i, so the receiver knows exactly which value it waits for.
#define _GNU_SOURCE
#include "nkfloor.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// seq and waiting share a cache line on purpose: the sender stores one and
// reads the other, so keeping them together costs one line transfer, not two.
// Each channel gets its own line so different hops don't false-share.
struct chan {
    _Atomic uint32_t seq;
    _Atomic uint32_t waiting;
} __attribute__((aligned(64)));

enum { MAX_CHANS = 3 };

struct handoff {
    const struct nk_run *run;
    struct chan *chans; // MAP_SHARED, so the futex words are shared between processes
    bool spin_only;     // spin2: never sleep, never make a syscall
};

// The futex word lives in a MAP_SHARED mapping seen by several processes, so
// these must be shared futexes: FUTEX_PRIVATE_FLAG keys on the address space
// and would never match across processes.
static long futex_wait(_Atomic uint32_t *word, uint32_t expected, const struct timespec *timeout) {
    return syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, timeout, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

// Sender side. The store to seq and the load of waiting are both seq_cst, as
// are the receiver's store to waiting and load of seq (chan_wait). That is
// the Dekker pattern: at least one side sees the other's store, so either the
// receiver sees the new seq and doesn't sleep, or we see its flag and wake it.
// If our wake lands before the receiver is inside FUTEX_WAIT, the kernel
// re-checks the word and FUTEX_WAIT returns at once (EAGAIN): no lost wakeup.
// Skipping FUTEX_WAKE when nobody sleeps is what makes spinning receivers pay.
static void chan_post(struct chan *c, uint32_t value) {
    atomic_store(&c->seq, value);
    if (atomic_load(&c->waiting))
        futex_wake(&c->seq);
}

// Receiver side for the futex patterns: spin, then sleep.
static int chan_wait(struct chan *c, uint32_t want, long spin, const char *peer) {
    for (long i = 0; i < spin; i++) {
        if (atomic_load_explicit(&c->seq, memory_order_acquire) == want)
            return 0;
        cpu_relax();
    }
    for (;;) {
        atomic_store(&c->waiting, 1);
        uint32_t cur = atomic_load(&c->seq);
        if (cur == want)
            break;
        // Relative timeout per sleep: a wake (real or spurious) means the peer
        // is alive, so only an uninterrupted NK_TIMEOUT_SEC of silence fails.
        struct timespec timeout = {NK_TIMEOUT_SEC, 0};
        if (futex_wait(&c->seq, cur, &timeout) != 0 && errno == ETIMEDOUT) {
            nk_child_error("no handoff from %s within %d s (call %u)", peer, NK_TIMEOUT_SEC, want);
            return -1;
        }
        // Woken, EAGAIN (seq already changed) or EINTR: re-check.
    }
    // Relaxed is enough: a stale 1 only costs the sender a needless wake, and
    // the next wait re-raises the flag with a seq_cst store before it checks.
    atomic_store_explicit(&c->waiting, 0, memory_order_relaxed);
    return 0;
}

// spin2: pure spinning, no syscalls, and no flag since nobody ever sleeps.
static void chan_post_spin(struct chan *c, uint32_t value) {
    atomic_store_explicit(&c->seq, value, memory_order_release);
}

static int chan_wait_spin(struct chan *c, uint32_t want, const char *peer) {
    uint64_t deadline = 0;
    for (uint64_t i = 1;; i++) {
        if (atomic_load_explicit(&c->seq, memory_order_acquire) == want)
            return 0;
        cpu_relax();
        // Read the clock only rarely so the hang check doesn't slow the spin.
        if ((i & 0xffff) == 0) {
            uint64_t now = nk_now_ns();
            if (deadline == 0)
                deadline = now + (uint64_t)NK_TIMEOUT_SEC * 1000000000u;
            else if (now > deadline) {
                nk_child_error("no handoff from %s within %d s (call %u)", peer, NK_TIMEOUT_SEC, want);
                return -1;
            }
        }
    }
}

static void post(const struct handoff *h, int chan, uint32_t value) {
    if (h->spin_only)
        chan_post_spin(&h->chans[chan], value);
    else
        chan_post(&h->chans[chan], value);
}

static int wait_for(const struct handoff *h, int chan, uint32_t want, const char *peer) {
    if (h->spin_only)
        return chan_wait_spin(&h->chans[chan], want, peer);
    return chan_wait(&h->chans[chan], want, h->run->spin, peer);
}

// The client times the round trips. Timestamps are chained (each call's end
// is the next call's start) so there is one clock read per call and the
// samples add up to the loop's wall time.
static int client_loop(const struct handoff *h, int out_chan, int in_chan, const char *peer) {
    const struct nk_run *run = h->run;
    uint32_t total = (uint32_t)(run->warmup + run->iterations);
    uint64_t prev = nk_now_ns();
    for (uint32_t i = 1; i <= total; i++) { // seq 0 is the initial value, so calls start at 1
        post(h, out_chan, i);
        if (wait_for(h, in_chan, i, peer) != 0)
            return 1;
        uint64_t now = nk_now_ns();
        if (i > run->warmup)
            run->samples[i - run->warmup - 1] = now - prev;
        prev = now;
    }
    return 0;
}

// Kernel or server: wait for call i on one channel, pass it on to the next.
static int forward_loop(const struct handoff *h, int in_chan, int out_chan, const char *peer) {
    uint32_t total = (uint32_t)(h->run->warmup + h->run->iterations);
    for (uint32_t i = 1; i <= total; i++) {
        if (wait_for(h, in_chan, i, peer) != 0)
            return 1;
        post(h, out_chan, i);
    }
    return 0;
}

// futex3: client -> kernel -> server -> client.
enum { TO_KERNEL, TO_SERVER3, TO_CLIENT3 };

static int futex3_role(int role, void *ctx) {
    const struct handoff *h = ctx;
    switch (role) {
    case 0: return client_loop(h, TO_KERNEL, TO_CLIENT3, "server");
    case 1: return forward_loop(h, TO_KERNEL, TO_SERVER3, "client");
    default: return forward_loop(h, TO_SERVER3, TO_CLIENT3, "kernel");
    }
}

// futex2 / spin2: client <-> server.
enum { TO_SERVER2, TO_CLIENT2 };

static int pingpong_role(int role, void *ctx) {
    const struct handoff *h = ctx;
    if (role == 0)
        return client_loop(h, TO_SERVER2, TO_CLIENT2, "server");
    return forward_loop(h, TO_SERVER2, TO_CLIENT2, "client");
}

static int run_handoff(const struct nk_run *run, bool spin_only, nk_role_fn fn,
                       const char *const names[]) {
    size_t size = sizeof(struct chan) * MAX_CHANS;
    struct chan *chans = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (chans == MAP_FAILED) {
        fprintf(stderr, "nkfloor: %s: mmap: %s\n", run->pattern, strerror(errno));
        return -1;
    }
    memset(chans, 0, size);
    struct handoff h = {.run = run, .chans = chans, .spin_only = spin_only};
    int rc = nk_spawn(run, names, fn, &h, NULL);
    munmap(chans, size);
    return rc;
}

int nk_run_futex3(const struct nk_run *run) {
    static const char *const names[] = {"client", "kernel", "server"};
    return run_handoff(run, false, futex3_role, names);
}

int nk_run_futex2(const struct nk_run *run) {
    static const char *const names[] = {"client", "server"};
    return run_handoff(run, false, pingpong_role, names);
}

int nk_run_spin2(const struct nk_run *run) {
    static const char *const names[] = {"client", "server"};
    return run_handoff(run, true, pingpong_role, names);
}
