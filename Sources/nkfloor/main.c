// nkfloor: measure this machine's floor for cross-process handoffs, so LRPC
// latency can be reported as a ratio to a floor measured in the same run
// (see DESIGN.md, "Facts measured on these machines").
//
// This file: options, running the chosen patterns, output.
#define _GNU_SOURCE
#include "nkfloor.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct pattern {
    const char *name;
    int nroles;
    int (*run)(const struct nk_run *);
    bool uses_spin; // does --spin mean anything for it?
};

static const struct pattern patterns[] = {
    {"futex3", 3, nk_run_futex3, true},
    {"futex2", 2, nk_run_futex2, true},
    {"spin2", 2, nk_run_spin2, false},
    {"relay", 3, nk_run_relay, false},
};
enum { NPATTERNS = sizeof patterns / sizeof patterns[0] };

static void usage(FILE *out) {
    fprintf(out,
            "usage: nkfloor [--pattern NAME] [--iterations N] [--cpus LIST] [--spin N] [--json]\n"
            "\n"
            "Measures round-trip handoff latency between processes on this machine.\n"
            "\n"
            "  --pattern NAME    futex3  client -> kernel -> server -> client over futexes\n"
            "                    futex2  client <-> server ping-pong over futexes\n"
            "                    spin2   client <-> server, both spinning (no syscalls)\n"
            "                    relay   client -> middle -> server -> middle -> client,\n"
            "                            16-byte messages over Unix SOCK_SEQPACKET sockets\n"
            "                    all     every pattern above, in that order (default)\n"
            "  --iterations N    recorded round trips (default 20000), after N/10 warm-up ones\n"
            "  --cpus LIST       CPU for each role in order: client,kernel,server (futex3),\n"
            "                    client,middle,server (relay), client,server (futex2, spin2).\n"
            "                    '-' leaves a role to the scheduler. One entry applies to\n"
            "                    every role; a 2-process pattern given three entries uses the\n"
            "                    first and the last. Default: '-' for every role.\n"
            "  --spin N          futex patterns: spin N times on the word before sleeping\n"
            "                    (default 0 = sleep at once)\n"
            "  --json            one JSON object per line\n"
            "\n"
            "Exit status: 0 ok, 1 a run failed (a role hung, died or could not start), 2 bad options.\n");
}

static _Noreturn void bad_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "nkfloor: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage(stderr);
    exit(2);
}

static bool parse_long(const char *s, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

// The --cpus list as given: 1 to 3 entries, each a CPU number or NK_CPU_ANY.
struct cpu_list {
    int n;
    int cpu[NK_MAX_ROLES];
};

static bool parse_cpus(const char *s, struct cpu_list *out) {
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    out->n = 0;
    // Split by hand: strtok would silently skip empty entries like "0,,1".
    for (char *p = buf;; ) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (out->n == NK_MAX_ROLES)
            return false;
        long v;
        if (strcmp(p, "-") == 0)
            out->cpu[out->n++] = NK_CPU_ANY;
        else if (parse_long(p, 0, CPU_SETSIZE - 1, &v))
            out->cpu[out->n++] = (int)v;
        else
            return false;
        if (!comma)
            break;
        p = comma + 1;
    }
    return true;
}

// Roles get CPUs in order; see the usage text for the two shorthand forms.
static bool cpus_for(const struct cpu_list *list, int nroles, int cpus[NK_MAX_ROLES]) {
    if (list->n == 1) {
        for (int r = 0; r < nroles; r++)
            cpus[r] = list->cpu[0];
    } else if (list->n == nroles) {
        for (int r = 0; r < nroles; r++)
            cpus[r] = list->cpu[r];
    } else if (nroles == 2 && list->n == 3) {
        cpus[0] = list->cpu[0];
        cpus[1] = list->cpu[2];
    } else {
        return false;
    }
    return true;
}

static void format_cpus(const int cpus[], int n, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (int r = 0; r < n; r++) {
        if (cpus[r] == NK_CPU_ANY)
            len += snprintf(buf + len, size - len, "%s-", r ? "," : "");
        else
            len += snprintf(buf + len, size - len, "%s%d", r ? "," : "", cpus[r]);
    }
}

static void print_result(const struct pattern *p, const struct nk_run *run,
                         const struct nk_stats *st, bool json) {
    char cpus[64], spin[32];
    format_cpus(run->cpus, run->nroles, cpus, sizeof cpus);
    // --spin has no meaning for spin2 (always spins) or relay (blocks in
    // recv); say so rather than print a number that was never used.
    if (p->uses_spin)
        snprintf(spin, sizeof spin, "%ld", run->spin);
    else
        snprintf(spin, sizeof spin, "%s", json ? "null" : "-");
    if (json)
        printf("{\"pattern\":\"%s\",\"cpus\":\"%s\",\"spin\":%s,\"iterations\":%ld,"
               "\"median_ns\":%llu,\"p99_ns\":%llu,\"mean_ns\":%.1f,\"calls_per_sec\":%.1f}\n",
               p->name, cpus, spin, run->iterations, (unsigned long long)st->median_ns,
               (unsigned long long)st->p99_ns, st->mean_ns, st->calls_per_sec);
    else
        printf("%s cpus=%s spin=%s iterations=%ld median_ns=%llu p99_ns=%llu mean_ns=%.1f "
               "calls_per_sec=%.1f\n",
               p->name, cpus, spin, run->iterations, (unsigned long long)st->median_ns,
               (unsigned long long)st->p99_ns, st->mean_ns, st->calls_per_sec);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *pattern_name = "all";
    long iterations = 20000, spin = 0;
    struct cpu_list cpu_list = {1, {NK_CPU_ANY}};
    const char *cpus_arg = "-";
    bool json = false;

    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(opt, "--json") == 0) {
            json = true;
            continue;
        }
        // Options taking a value accept both "--opt VALUE" and "--opt=VALUE".
        const char *names[] = {"--pattern", "--iterations", "--cpus", "--spin"};
        const char *value = NULL;
        int which = -1;
        for (int k = 0; k < 4 && which < 0; k++) {
            size_t len = strlen(names[k]);
            if (strcmp(opt, names[k]) == 0) {
                if (i + 1 >= argc)
                    bad_usage("%s needs a value", opt);
                which = k;
                value = argv[++i];
            } else if (strncmp(opt, names[k], len) == 0 && opt[len] == '=') {
                which = k;
                value = opt + len + 1;
            }
        }
        switch (which) {
        case 0:
            pattern_name = value;
            break;
        case 1:
            if (!parse_long(value, 1, 100000000, &iterations))
                bad_usage("--iterations must be a number from 1 to 100000000, not '%s'", value);
            break;
        case 2:
            if (!parse_cpus(value, &cpu_list))
                bad_usage("--cpus must be 1 to 3 comma-separated CPU numbers or '-', not '%s'", value);
            cpus_arg = value;
            break;
        case 3:
            if (!parse_long(value, 0, 1000000000, &spin))
                bad_usage("--spin must be a number from 0 to 1000000000, not '%s'", value);
            break;
        default:
            bad_usage("unknown option '%s'", opt);
        }
    }

    bool all = strcmp(pattern_name, "all") == 0;
    const struct pattern *selected[NPATTERNS];
    int nselected = 0;
    for (int k = 0; k < NPATTERNS; k++)
        if (all || strcmp(pattern_name, patterns[k].name) == 0)
            selected[nselected++] = &patterns[k];
    if (nselected == 0)
        bad_usage("unknown pattern '%s'", pattern_name);

    // Check every CPU and every pattern's role count before running anything,
    // so "all" can't fail halfway through on an option error.
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        perror("nkfloor: sched_getaffinity");
        return 1;
    }
    for (int k = 0; k < cpu_list.n; k++)
        if (cpu_list.cpu[k] != NK_CPU_ANY && !CPU_ISSET(cpu_list.cpu[k], &allowed)) {
            fprintf(stderr, "nkfloor: cpu %d is not available to this process (%d CPUs allowed)\n",
                    cpu_list.cpu[k], CPU_COUNT(&allowed));
            return 2;
        }
    struct nk_run runs[NPATTERNS];
    for (int k = 0; k < nselected; k++) {
        const struct pattern *p = selected[k];
        runs[k] = (struct nk_run){
            .pattern = p->name,
            .nroles = p->nroles,
            .iterations = iterations,
            .warmup = iterations / 10,
            .spin = spin,
        };
        if (!cpus_for(&cpu_list, p->nroles, runs[k].cpus)) {
            fprintf(stderr, "nkfloor: %s has %d roles; --cpus '%s' has %d entries\n", p->name,
                    p->nroles, cpus_arg, cpu_list.n);
            usage(stderr);
            return 2;
        }
    }

    // Samples go in shared memory: the client role, a forked child, writes
    // them and this (parent) process reads them after the child exits.
    size_t bytes = (size_t)iterations * sizeof(uint64_t);
    uint64_t *samples = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (samples == MAP_FAILED) {
        perror("nkfloor: mmap samples");
        return 1;
    }

    for (int k = 0; k < nselected; k++) {
        const struct pattern *p = selected[k];
        struct nk_run *run = &runs[k];
        run->samples = samples;
        // Two spinners on one CPU only hand off when the scheduler preempts
        // one of them (milliseconds per hop), which measures the time slice,
        // not a handoff.
        if (p->run == nk_run_spin2 && run->cpus[0] != NK_CPU_ANY && run->cpus[0] == run->cpus[1]) {
            fprintf(stderr, "nkfloor: spin2 needs the client and server on different CPUs (got %d,%d)%s\n",
                    run->cpus[0], run->cpus[1], all ? "; skipped" : "");
            if (all)
                continue;
            return 2;
        }
        if (p->run(run) != 0) {
            fprintf(stderr, "nkfloor: %s: run failed\n", p->name);
            return 1;
        }
        struct nk_stats st;
        nk_stats_compute(samples, (size_t)iterations, &st);
        print_result(p, run, &st, json);
    }
    munmap(samples, bytes);
    return 0;
}
