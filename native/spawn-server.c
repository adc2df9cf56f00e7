/*
 * Overseer's native spawn server: the Perl server's protocol (see src/os/line-spawn-protocol.ts), with
 * each process started by posix_spawn. glibc starts it with clone(CLONE_VM|CLONE_VFORK): no page table
 * is copied and no page becomes copy-on-write, which is most of what a fork costs where page faults are
 * dear (measured on a paravirtualised 2-core VM: the Perl server and its forked children took 16 ms of
 * CPU per launch, this server 4-6 ms). `npm run build` compiles it when a C compiler is there
 * (native/build.mjs); without one, the Perl server is used.
 *
 * Requests on stdin: a byte length on a line, then NUL-separated fields: id, directory, log file,
 * program, the count and then the arguments, the count and then name and value of each variable to
 * set, the count and then the names to remove. Answers on stdout, one line each: `ready` once,
 * `s ID PID START-TIME`, `e ID ERROR`, `x ID CODE SIGNAL` (`-` for none). It exits when stdin closes;
 * the processes it started run on (each is a session of its own).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef POSIX_SPAWN_SETSID
#error "posix_spawn cannot start a process in a session of its own here"
#endif

extern char **environ;

static int wake[2];

/* Only a write to a pipe: the main loop reaps. No wake-up is lost, unlike a handler run between ops. */
static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  ssize_t ignored = write(wake[1], "x", 1);
  (void)ignored;
  errno = saved;
}

static void *must(void *p) {
  if (p == NULL) {
    static const char oom[] = "overseer spawn server: out of memory\n";
    ssize_t ignored = write(2, oom, sizeof oom - 1);
    (void)ignored;
    _exit(70);
  }
  return p;
}

/* One line on stdout, newlines in it turned to spaces: the engine reads line by line. */
static void answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void answer(const char *fmt, ...) {
  char line[8192];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, args);
  va_end(args);
  if (n < 0) return;
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  for (int i = 0; i < n; i++)
    if (line[i] == '\n') line[i] = ' ';
  line[n++] = '\n';
  for (int done = 0; done < n;) {
    ssize_t wrote = write(1, line + done, (size_t)(n - done));
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) _exit(0); /* the engine is gone */
    done += (int)wrote;
  }
}

#define NAME(x) { x, #x }
static const struct { int code; const char *name; } ERRNOS[] = {
  NAME(ENOENT), NAME(EACCES), NAME(ENOEXEC), NAME(ENOTDIR), NAME(ELOOP), NAME(ENAMETOOLONG), NAME(E2BIG),
  NAME(ENOMEM), NAME(EAGAIN), NAME(EPERM), NAME(EISDIR), NAME(ETXTBSY), NAME(EMFILE), NAME(ENFILE),
  NAME(EINVAL), NAME(EFAULT), NAME(EIO),
};
static const struct { int code; const char *name; } SIGNALS[] = {
  NAME(SIGHUP), NAME(SIGINT), NAME(SIGQUIT), NAME(SIGILL), NAME(SIGTRAP), NAME(SIGABRT), NAME(SIGBUS),
  NAME(SIGFPE), NAME(SIGKILL), NAME(SIGUSR1), NAME(SIGSEGV), NAME(SIGUSR2), NAME(SIGPIPE), NAME(SIGALRM),
  NAME(SIGTERM), NAME(SIGCHLD), NAME(SIGCONT), NAME(SIGSTOP), NAME(SIGTSTP), NAME(SIGTTIN), NAME(SIGTTOU),
  NAME(SIGURG), NAME(SIGXCPU), NAME(SIGXFSZ), NAME(SIGVTALRM), NAME(SIGPROF), NAME(SIGWINCH), NAME(SIGIO),
  NAME(SIGSYS),
};

static const char *errno_name(int code) {
  for (size_t i = 0; i < sizeof ERRNOS / sizeof ERRNOS[0]; i++)
    if (ERRNOS[i].code == code) return ERRNOS[i].name;
  return "error";
}

static const char *signal_name(int code) {
  for (size_t i = 0; i < sizeof SIGNALS / sizeof SIGNALS[0]; i++)
    if (SIGNALS[i].code == code) return SIGNALS[i].name;
  return "-";
}

/* Field 22 of /proc/PID/stat (clock ticks since boot), after the command name's last ')'; "-" if unknown. */
static void start_time(pid_t pid, char *out, size_t size) {
  char path[64], stat[1024];
  snprintf(out, size, "-");
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (n <= 0) return;
  stat[n] = '\0';
  char *field = strrchr(stat, ')');
  if (field == NULL) return;
  field += 2; /* field 3 */
  for (int index = 3; index < 22 && field != NULL; index++) {
    field = strchr(field, ' ');
    if (field != NULL) field++;
  }
  if (field == NULL) return;
  size_t length = strcspn(field, " ");
  if (length == 0 || length >= size) return;
  memcpy(out, field, length);
  out[length] = '\0';
}

/* The processes started and not yet reaped, with the id of the request that started each. */
static pid_t *running_pid;
static char **running_id;
static size_t running_count, running_size;

static void remember(pid_t pid, const char *id) {
  if (running_count == running_size) {
    running_size = running_size == 0 ? 64 : running_size * 2;
    running_pid = must(realloc(running_pid, running_size * sizeof *running_pid));
    running_id = must(realloc(running_id, running_size * sizeof *running_id));
  }
  running_pid[running_count] = pid;
  running_id[running_count] = must(strdup(id));
  running_count++;
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < running_count; i++) {
      if (running_pid[i] != pid) continue;
      if (WIFSIGNALED(status)) answer("x %s - %s", running_id[i], signal_name(WTERMSIG(status)));
      else answer("x %s %d -", running_id[i], WEXITSTATUS(status));
      free(running_id[i]);
      running_count--;
      running_pid[i] = running_pid[running_count];
      running_id[i] = running_id[running_count];
      break;
    }
  }
}

static int same_name(const char *entry, const char *name) {
  size_t length = strlen(name);
  return strncmp(entry, name, length) == 0 && entry[length] == '=';
}

/* The server's environment (the engine's, inherited) with the request's changes; its last set_count
   entries are made here (the caller frees them), the rest are environ's. `count` is how many in all. */
static char **environment(char **set, size_t set_count, char **unset, size_t unset_count, size_t *count_out) {
  size_t inherited = 0;
  while (environ[inherited] != NULL) inherited++;
  char **env = must(calloc(inherited + set_count + 1, sizeof *env));
  size_t count = 0;
  for (size_t i = 0; i < inherited; i++) {
    int changed = 0;
    for (size_t j = 0; j < set_count && !changed; j++) changed = same_name(environ[i], set[2 * j]);
    for (size_t j = 0; j < unset_count && !changed; j++) changed = same_name(environ[i], unset[j]);
    if (!changed) env[count++] = environ[i];
  }
  for (size_t j = 0; j < set_count; j++) {
    size_t name = strlen(set[2 * j]), value = strlen(set[2 * j + 1]);
    char *entry = must(malloc(name + value + 2));
    memcpy(entry, set[2 * j], name);
    entry[name] = '=';
    memcpy(entry + name + 1, set[2 * j + 1], value + 1);
    env[count++] = entry;
  }
  *count_out = count;
  return env;
}

static void launch(char **field, size_t fields) {
  size_t at = 0;
#define NEXT() (at < fields ? field[at++] : NULL)
  char *id = NEXT(), *cwd = NEXT(), *log = NEXT(), *file = NEXT(), *argc_text = NEXT();
  if (argc_text == NULL) return;
  size_t argc = strtoul(argc_text, NULL, 10);
  if (at + argc > fields) return;
  char **argv = must(calloc(argc + 2, sizeof *argv));
  argv[0] = file;
  for (size_t i = 0; i < argc; i++) argv[i + 1] = NEXT();
  char *set_text = NEXT();
  size_t set_count = set_text == NULL ? 0 : strtoul(set_text, NULL, 10);
  if (at + 2 * set_count > fields) set_count = 0;
  char **set = field + at;
  at += 2 * set_count;
  char *unset_text = NEXT();
  size_t unset_count = unset_text == NULL ? 0 : strtoul(unset_text, NULL, 10);
  if (at + unset_count > fields) unset_count = 0;
  char **unset = field + at;
#undef NEXT

  size_t env_count;
  char **env = environment(set, set_count, unset, unset_count, &env_count);
  int log_fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (log_fd < 0) {
    answer("e %s cannot open log file %s: %s", id, log, strerror(errno));
  } else {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    posix_spawn_file_actions_addchdir_np(&actions, cwd);
    posix_spawnattr_init(&attributes);
    /* Its own session, no blocked signals and every handler at its default, as a spawn from Node; but
       glibc leaves its two internal signals (32, 33: not in a full sigset_t) ignored, and glibc and
       musl programs install their own handlers for those. */
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int failed = posix_spawnp(&pid, file, &actions, &attributes, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(log_fd);
    if (failed != 0) {
      int enterable = access(cwd, X_OK) == 0;
      answer("e %s spawn %s %s%s%s%s", id, file, errno_name(failed), enterable ? "" : " (cannot enter ", enterable ? "" : cwd, enterable ? "" : ")");
    } else {
      char started[32];
      start_time(pid, started, sizeof started);
      remember(pid, id);
      answer("s %s %d %s", id, (int)pid, started);
    }
  }
  for (size_t j = env_count - set_count; j < env_count; j++) free(env[j]);
  free(env);
  free(argv);
}

int main(void) {
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return 70;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_child;
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&action.sa_mask);
  sigaction(SIGCHLD, &action, NULL);
  /* A SIGCHLD blocked by whoever started us would never wake the loop. */
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  sigprocmask(SIG_UNBLOCK, &child, NULL);
  signal(SIGPIPE, SIG_IGN);

  answer("ready");
  size_t size = 1 << 16, length = 0;
  char *buffer = must(malloc(size));
  for (;;) {
    struct pollfd watched[2] = { { 0, POLLIN, 0 }, { wake[0], POLLIN, 0 } };
    if (poll(watched, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 70;
    }
    if (watched[1].revents != 0) {
      char drained[256];
      while (read(wake[0], drained, sizeof drained) > 0) {}
      reap();
    }
    if ((watched[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    if (size - length < 4096) buffer = must(realloc(buffer, size *= 2));
    ssize_t got = read(0, buffer + length, size - length);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return 0;
    }
    if (got == 0) return 0;
    length += (size_t)got;
    for (;;) {
      char *newline = memchr(buffer, '\n', length);
      if (newline == NULL) break;
      size_t head = (size_t)(newline - buffer) + 1, payload = strtoul(buffer, NULL, 10);
      if (length < head + payload) {
        if (size < head + payload + 1) buffer = must(realloc(buffer, size = head + payload + 1));
        break;
      }
      char *request = must(malloc(payload + 1));
      memcpy(request, buffer + head, payload);
      request[payload] = '\0';
      size_t fields = 1;
      for (size_t i = 0; i < payload; i++) fields += request[i] == '\0';
      char **field = must(calloc(fields, sizeof *field));
      field[0] = request;
      for (size_t i = 0, f = 1; i < payload; i++)
        if (request[i] == '\0') field[f++] = request + i + 1;
      launch(field, fields);
      free(field);
      free(request);
      memmove(buffer, buffer + head + payload, length - head - payload);
      length -= head + payload;
    }
  }
}
