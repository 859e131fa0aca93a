// sandbox-spawn-bench: how long spawning one domain takes with the full sandbox and with
// none, in the same run, through the kernel's own spawn path (CSandbox's
// nk_spawn_domain). Built and run by scripts/sandbox-figures; not part of the package.
//
//   sandbox-spawn-bench EXECUTABLE [ROUNDS]
//
// Each round spawns EXECUTABLE (a statically linked service, e.g. nk-clock) once per
// configuration, in a rotating order, and times two moments from just before clone3:
//   exec   nk_spawn_domain returned: the child has set up its sandbox and executed
//   hello  the service's first control message arrived: the Swift runtime is up
// Then the child is killed and reaped. Configurations, each adding to the one before:
//   none        no namespaces, no limits, no Landlock, no seccomp
//   namespaces  the namespaces this host grants (user, pid, net, ipc, uts, mount, cgroup)
//   +landlock   plus limits and Landlock, as the kernel sets them up
//   full        plus the seccomp filter: the sandbox before domains had their own root
//   +own root   plus the domain's own root and /proc (needs a mount namespace): what the
//               kernel gives every domain
#define _GNU_SOURCE
#include "nk_sandbox.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

enum { CONFIGS = 5, MAX_ROUNDS = 1000 };
static const char *const names[CONFIGS] = {"none", "namespaces", "+landlock", "full", "+own root"};

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double *values, int n, double p) {
    qsort(values, (size_t)n, sizeof *values, compare);
    int i = (int)(p * (n - 1) + 0.5);
    return values[i];
}

// One spawn; returns 0 and the two times, or -1.
static int spawn_once(const char *executable, int config, const nk_host_support *host,
                      const nk_filter *filter, double *exec_us, double *hello_us) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        return perror("socketpair"), -1;
    static const char *const read_only[] = {"/proc/self/maps"};
    char *argv[] = {"clock", NULL};
    char *envp[] = {"NK_DOMAIN_NAME=clock", NULL};
    nk_spawn_spec spec = {
        .executable = executable,
        .argv = argv,
        .envp = envp,
        .keep_fds = &pair[1],
        .keep_fd_count = 1,
    };
    if (config >= 1)
        spec.namespaces = host->namespaces;
    if (config >= 2) {
        spec.limit_address_space = 1024ull << 20;  // the image's defaults
        spec.limit_open_files = 64;
        spec.limit_processes = 64;
        spec.read_only_paths = read_only;
        spec.read_only_count = 1;
        spec.use_landlock = host->landlock_abi > 0;
    }
    if (config >= 3)
        spec.filter = filter;
    if (config >= 4)
        spec.own_root = host->own_root;

    nk_spawned child;
    char err[512];
    double start = now_us();
    int rc = nk_spawn_domain(&spec, &child, err, sizeof err);
    *exec_us = now_us() - start;
    close(pair[1]);
    if (rc != 0) {
        fprintf(stderr, "spawn (%s): %s\n", names[config], err);
        close(pair[0]);
        return -1;
    }
    struct pollfd p = {.fd = pair[0], .events = POLLIN};
    char hello[256];
    int ready = poll(&p, 1, 5000) == 1 && recv(pair[0], hello, sizeof hello, 0) > 0;
    *hello_us = now_us() - start;
    syscall(SYS_pidfd_send_signal, child.pidfd, SIGKILL, NULL, 0);
    siginfo_t info;
    waitid((idtype_t)P_PIDFD, (id_t)child.pidfd, &info, WEXITED);
    close(child.pidfd);
    if (child.notify_fd >= 0)
        close(child.notify_fd);
    close(pair[0]);
    if (!ready)
        fprintf(stderr, "spawn (%s): no hello from the service within 5 s\n", names[config]);
    return ready ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s EXECUTABLE [ROUNDS]\n", argv[0]);
        return 2;
    }
    char executable[4096];
    if (realpath(argv[1], executable) == NULL) {
        perror(argv[1]);
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 50;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        rounds = 50;
    nk_host_support host;
    nk_probe_host(&host);
    nk_filter filter;
    char err[512];
    if (nk_filter_build(NULL, 0, 0, &filter, err, sizeof err) != 0) {
        fprintf(stderr, "filter: %s\n", err);
        return 1;
    }
    printf("host: namespaces 0x%x, Landlock ABI %d, seccomp notify %d; filter %u instructions\n",
           host.namespaces, host.landlock_abi, host.seccomp_notify, filter.instructions);

    static double exec_us[CONFIGS][MAX_ROUNDS], hello_us[CONFIGS][MAX_ROUNDS];
    int counts[CONFIGS] = {0};
    double e, h;
    for (int c = 0; c < CONFIGS; c++)  // warm the page cache and the executable
        if (spawn_once(executable, c, &host, &filter, &e, &h) != 0)
            return 1;
    for (int round = 0; round < rounds; round++)
        for (int k = 0; k < CONFIGS; k++) {
            int c = (round + k) % CONFIGS;  // rotate, so no configuration always goes first
            if (spawn_once(executable, c, &host, &filter, &e, &h) == 0) {
                exec_us[c][counts[c]] = e;
                hello_us[c][counts[c]++] = h;
            }
        }
    printf("%-11s %6s %12s %12s %12s %12s\n", "sandbox", "spawns", "exec med µs", "exec p90 µs",
           "hello med µs", "hello p90 µs");
    for (int c = 0; c < CONFIGS; c++) {
        if (counts[c] == 0) {
            printf("%-11s %6d (every spawn failed)\n", names[c], 0);
            continue;
        }
        printf("%-11s %6d %12.0f %12.0f %12.0f %12.0f\n", names[c], counts[c],
               percentile(exec_us[c], counts[c], 0.5), percentile(exec_us[c], counts[c], 0.9),
               percentile(hello_us[c], counts[c], 0.5), percentile(hello_us[c], counts[c], 0.9));
    }
    nk_filter_free(&filter);
    return 0;
}
