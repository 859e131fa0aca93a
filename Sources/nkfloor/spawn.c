// Process roles: fork, pin, supervise.
//
// Every role (the client included) runs in a forked child and the parent only
// supervises. That way the parent can notice any role dying — the client too —
// and the children are all set up the same way.
#define _GNU_SOURCE
#include "nkfloor.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Set in each child so nk_child_error can name the pattern and role.
static const char *child_pattern = "?";
static const char *child_role = "?";

void nk_child_error(const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "nkfloor: %s: %s: %s\n", child_pattern, child_role, msg);
}

uint64_t nk_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int child_setup(const struct nk_run *run, int role, pid_t parent) {
    // If the supervisor dies, take the roles with it rather than leave
    // spinners burning a CPU. Re-check the parent afterwards: it may have died
    // between fork() and prctl().
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
        nk_child_error("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
        return -1;
    }
    if (getppid() != parent)
        return -1;
    int cpu = run->cpus[role];
    if (cpu != NK_CPU_ANY) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            nk_child_error("cannot pin to cpu %d: %s", cpu, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void report(const struct nk_run *run, const char *const role_names[],
                   const pid_t pid[], const int role[], const int status[], int n) {
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < n; k++) {
            if (WIFSIGNALED(status[k]) != (pass == 0))
                continue;
            if (WIFSIGNALED(status[k]))
                fprintf(stderr, "nkfloor: %s: %s (pid %d) died: %s\n", run->pattern,
                        role_names[role[k]], (int)pid[k], strsignal(WTERMSIG(status[k])));
            else
                fprintf(stderr, "nkfloor: %s: %s (pid %d) failed with exit status %d\n",
                        run->pattern, role_names[role[k]], (int)pid[k], WEXITSTATUS(status[k]));
        }
}

int nk_spawn(const struct nk_run *run, const char *const role_names[],
             nk_role_fn fn, void *ctx, void (*parent_after_fork)(void *ctx)) {
    pid_t pids[NK_MAX_ROLES] = {0};
    pid_t self = getpid();
    int live = 0;
    bool failed = false;

    fflush(NULL); // don't let children inherit (and later re-print) buffered output
    for (int r = 0; r < run->nroles; r++) {
        pid_t pid = fork();
        if (pid == 0) {
            child_pattern = run->pattern;
            child_role = role_names[r];
            int rc = child_setup(run, r, self) == 0 ? fn(r, ctx) : 1;
            fflush(NULL);
            _exit(rc);
        }
        if (pid < 0) {
            fprintf(stderr, "nkfloor: %s: fork for %s: %s\n", run->pattern,
                    role_names[r], strerror(errno));
            failed = true;
            break;
        }
        pids[r] = pid;
        live++;
    }
    if (parent_after_fork)
        parent_after_fork(ctx);

    // A role that started but lost its peers would time out on its own within
    // NK_TIMEOUT_SEC; killing the survivors right away just makes failure quick.
    if (failed)
        for (int r = 0; r < run->nroles; r++)
            if (pids[r] > 0)
                kill(pids[r], SIGKILL);

    // When one role fails its peers fail right behind it (EOF, broken pipe,
    // timeout), and waitpid(-1) hands zombies back oldest first, not in the
    // order they died. So on the first failure, collect every role that has
    // already ended, then report deaths by signal (the likely cause) before
    // exits with an error status (the likely consequences).
    pid_t dead_pid[NK_MAX_ROLES];
    int dead_role[NK_MAX_ROLES], dead_status[NK_MAX_ROLES], ndead = 0;
    bool collecting = false;
    while (live > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, collecting ? WNOHANG : 0);
        if (pid == 0 || (pid < 0 && errno != EINTR)) {
            if (pid < 0 && !collecting) {
                fprintf(stderr, "nkfloor: %s: waitpid: %s\n", run->pattern, strerror(errno));
                return -1;
            }
            // Everything already dead is collected: report, then kill the rest.
            collecting = false;
            report(run, role_names, dead_pid, dead_role, dead_status, ndead);
            for (int k = 0; k < run->nroles; k++)
                if (pids[k] > 0)
                    kill(pids[k], SIGKILL);
            continue;
        }
        if (pid < 0)
            continue; // EINTR
        int r = 0;
        while (r < run->nroles && pids[r] != pid)
            r++;
        if (r == run->nroles)
            continue; // not one of ours
        pids[r] = 0;
        live--;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            continue;
        if (failed && !collecting)
            continue; // a survivor we killed ourselves
        if (!failed)
            failed = collecting = true;
        dead_pid[ndead] = pid;
        dead_role[ndead] = r;
        dead_status[ndead++] = status;
    }
    if (collecting) // the last role standing was the one that failed
        report(run, role_names, dead_pid, dead_role, dead_status, ndead);
    return failed ? -1 : 0;
}
