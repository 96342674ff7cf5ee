// spawnbench: whole-process timing of a command, as the kubelet experiences it (fork, exec, stdin
// from a file, wait). Prints one JSON object per run so Benchmarks/run can tabulate and keep history.
//
//   spawnbench [--runs N] [--warmup N] [--parallel P] [--inputs K] [--label TEXT] --stdin FILE -- PROGRAM ARGS...
//
// Sequential mode (default): N timed runs after the warm-up; reports median, p90, p99, min, mean wall
// time and the largest peak RSS of any run (ru_maxrss from wait4).
// Parallel mode (--parallel P): starts P processes at once, N times; reports the wall time of each
// batch and the throughput in processes per second. Any non-zero exit fails the benchmark.
// With --inputs K, "%d" in the --stdin path is replaced by (process number mod K), so the processes of
// a batch read K different requests (for example K images). In parallel mode "%d" in an argument is
// replaced by the process number within the batch (for example one config per process).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static const char *input_path(const char *pattern, int inputs, int number) {
  static char path[4096];
  if (inputs <= 0) return pattern;
  snprintf(path, sizeof path, pattern, number % inputs);
  return path;
}

static pid_t start(char **argv, const char *input, int number) {
  pid_t pid = fork();
  if (pid == 0) {
    for (char **arg = argv; *arg; arg++) {
      if (strstr(*arg, "%d")) {
        char *expanded = malloc(strlen(*arg) + 16);
        sprintf(expanded, *arg, number);
        *arg = expanded;
      }
    }
    int in = open(input, O_RDONLY);
    int null = open("/dev/null", O_WRONLY);
    if (in < 0 || null < 0) _exit(126);
    dup2(in, 0);
    dup2(null, 1);
    dup2(null, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

// Waits for pid; returns its peak RSS in KiB, or -1 if it failed.
static long finish(pid_t pid, const char *label) {
  int status;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) { perror("wait4"); exit(2); }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "spawnbench: %s: command failed (status %d)\n", label, status);
    return -1;
  }
  return usage.ru_maxrss;
}

int main(int argc, char **argv) {
  int runs = 200, warmup = 10, parallel = 0, inputs = 0;
  const char *input = "/dev/null", *label = "command";
  int i = 1;
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--parallel") && i + 1 < argc) parallel = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--inputs") && i + 1 < argc) inputs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--stdin") && i + 1 < argc) input = argv[++i];
    else if (!strcmp(argv[i], "--label") && i + 1 < argc) label = argv[++i];
    else if (!strcmp(argv[i], "--")) { i++; break; }
    else { fprintf(stderr, "spawnbench: unknown option %s\n", argv[i]); return 2; }
  }
  if (i >= argc || runs < 1) {
    fprintf(stderr, "usage: spawnbench [--runs N] [--warmup N] [--parallel P] [--inputs K] [--label TEXT] --stdin FILE -- PROGRAM ARGS...\n");
    return 2;
  }
  char **command = argv + i;
  double *times = calloc(runs, sizeof(double));
  long peak = 0;

  if (parallel > 0) {
    pid_t *pids = calloc(parallel, sizeof(pid_t));
    for (int run = -warmup; run < runs; run++) {
      double begin = now_ms();
      for (int p = 0; p < parallel; p++) pids[p] = start(command, input_path(input, inputs, p), p);
      for (int p = 0; p < parallel; p++) {
        long rss = finish(pids[p], label);
        if (rss < 0) return 1;
        if (rss > peak) peak = rss;
      }
      if (run >= 0) times[run] = now_ms() - begin;
    }
  } else {
    for (int run = -warmup; run < runs; run++) {
      double begin = now_ms();
      long rss = finish(start(command, input_path(input, inputs, run < 0 ? 0 : run), 0), label);
      if (rss < 0) return 1;
      if (run >= 0) times[run] = now_ms() - begin;
      if (rss > peak) peak = rss;
    }
  }

  double sum = 0;
  for (int run = 0; run < runs; run++) sum += times[run];
  qsort(times, runs, sizeof(double), compare);
  double median = times[runs / 2];
  printf("{\"label\":\"%s\",\"runs\":%d,\"parallel\":%d,\"median_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
         "\"min_ms\":%.3f,\"mean_ms\":%.3f,\"peak_rss_kib\":%ld",
         label, runs, parallel, median, times[(int)(runs * 0.9)], times[(int)(runs * 0.99)], times[0], sum / runs, peak);
  if (parallel > 0) printf(",\"processes_per_second\":%.1f", parallel / (median / 1e3));
  printf("}\n");
  return 0;
}
