/*
 * tsrunc-init: what a container's pid 1 is between setup and the user's program.
 *
 * The cloned child has already done all the setup (namespaces, mounts,
 * pivot_root, user, capabilities) and exec'd this program from a sealed memfd.
 * It is freestanding (no libc, a few KiB) so that a created container costs
 * almost no memory while it waits, and so that nothing of Node is left in it.
 *
 *   argv: tsrunc-init SETTINGS_FD EXECUTABLE ARGV0 ARGV1 ...
 *
 * SETTINGS_FD is a sealed memfd (written by addon/src/spawn.cc, init_blob),
 * all u32 in native byte order:
 *   "TSI4" u32 fifo_fd u32 state_fd u32 nhooks
 *   u32 seccomp_flags u32 seccomp_len u32 listener_fd u32 listener_state_fd
 *   u32 report_fd
 *   seccomp_len struct sock_filter (8 bytes each, at offset 36)
 *   two NUL-ended strings: the AppArmor exec attribute ("exec PROFILE") and
 *   the SELinux label for the user's program, each empty when there is none
 *   per startContainer hook: u32 timeout u32 nargs u32 nenv, then NUL-ended
 *   strings: path, the args, the env
 * (fds are -1 when absent; seccomp_len is 0 when tsrunc-init loads no filter).
 * report_fd is the child's error pipe, passed where there is no fifo (exec,
 * run): a failure to load the filter or to exec the user's program is
 * reported on it as the child's failures are ({step, errno, index}, steps.h),
 * and its close at that exec tells the runtime the user's program runs, so
 * that `exec -d` returns (and writes its pid file) only then.
 * With a fifo it opens it for writing, which blocks until `tsrunc start` opens
 * it for reading; it then sets the LSM labels for the next exec (write_attr
 * below), runs the startContainer hooks, loads the seccomp
 * filter (process.noNewPrivileges only: otherwise the child loaded it while it
 * still had CAP_SYS_ADMIN, see addon/src/seccomp.cc) with seccomp(2), sends
 * its notify fd to the listener when it has one, and writes "0" (or the reason
 * something failed) for `start` to read.
 *
 * Under a seccomp filter: with noNewPrivileges, only what follows the load
 * (sendmsg to a listener, the fifo's write, the user's execve); without it,
 * all of this program runs under the filter the child loaded. So every
 * syscall here either is one of the few a profile must allow (README,
 * "Seccomp"), or has a fallback when a profile refuses it (EPERM, ENOSYS, or
 * whatever errno the profile chose): close -> FD_CLOEXEC, openat -> open,
 * dup3 -> dup2, pidfd_open + ppoll -> wait4(WNOHANG) + nanosleep, openat2 ->
 * openat a component at a time; the
 * signal handlers are a nicety that may be refused. Every fd it opens is
 * close-on-exec, so nothing needs closing after the filter is loaded.
 */
#include <fcntl.h>

#include "../freestanding.h"
#include "../steps.h"

enum {
#define X(id, name) STEP_##id,
  TSRUNC_STEPS(X)
#undef X
};

/* The child's error pipe (see above), or -1. */
static long report_fd = -1;

/* Reports a failed step to the runtime; false when nobody is listening. */
static int report_at(int step, long err, int index) {
  if (report_fd < 0) return 0;
  int rec[3] = {step, (int)(err < 0 ? -err : err), index};
  return sys3(__NR_write, report_fd, (long)rec, sizeof rec) == (long)sizeof rec;
}

static int report(int step, long err) { return report_at(step, err, -1); }

static void say(const char *s) { sys3(__NR_write, 2, (long)s, slen(s)); }

/* openat, or open where a filter refuses openat but still knows open. */
static long open_path(const char *path, long flags) {
  long fd = sys4(__NR_openat, AT_FDCWD, (long)path, flags, 0);
#ifdef __NR_open
  if (fd < 0 && fd != -2 /* ENOENT */ && fd != -6 /* ENXIO */) {
    long fd2 = sys3(__NR_open, (long)path, flags, 0);
    if (fd2 >= 0) return fd2;
  }
#endif
  return fd;
}

/* Gone from this process, or at least from the user's program: 0, or -1
   when neither close nor FD_CLOEXEC was allowed. */
static int drop_fd(long fd) {
  if (sys3(__NR_close, fd, 0, 0) == 0) return 0;
  return sys3(__NR_fcntl, fd, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */) == 0 ? 0 : -1;
}

static void die(const char *what, const char *arg, long err) {
  char num[12];
  int i = 11;
  unsigned long e = (unsigned long)(err < 0 ? -err : err);
  num[i] = 0;
  do {
    num[--i] = (char)('0' + e % 10);
    e /= 10;
  } while (e && i > 0);
  say("tsrunc-init: ");
  say(what);
  say(" ");
  say(arg);
  say(": errno ");
  say(num + i);
  say("\n");
  sys3(__NR_exit_group, 127, 0, 0);
  for (;;) {
  }
}

/* As pid 1 of its namespace, this process would ignore every signal it has
   no handler for: `tsrunc kill ID TERM` on a created container would do
   nothing (runc's Go init dies of it). Until the exec, these signals end it
   the way they end any process; the exec resets the handlers. */
static void on_signal(int sig) { sys3(__NR_exit_group, 128 + sig, 0, 0); }

struct ksigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};

static void die_on_signals(void) {
  static const int sigs[] = {1, 2, 3, 10, 12, 13, 14, 15}; /* HUP INT QUIT USR1 USR2 PIPE ALRM TERM */
  struct ksigaction sa = {on_signal, 0, 0, ~0UL};          /* the handler never returns */
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sys4(__NR_rt_sigaction, sigs[i], (long)&sa, 0, sizeof sa.mask);
}

static char settings[1 << 20] __attribute__((aligned(8)));
static const char *hook_argv[256], *hook_envp[256];

static unsigned u32(const char **p) {
  unsigned v;
  __builtin_memcpy(&v, *p, 4);
  *p += 4;
  return v;
}

static const char *next_str(const char **p) {
  const char *s = *p;
  *p += slen(s) + 1;
  return s;
}

static void put_num(char *buf, unsigned *n, long v) {
  char d[20];
  int k = 0;
  unsigned long u = (unsigned long)(v < 0 ? -v : v);
  if (v < 0) buf[(*n)++] = '-';
  do {
    d[k++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  while (k) buf[(*n)++] = d[--k];
}

struct kts {
  long sec, nsec;
};
struct kpollfd {
  int fd;
  short events, revents;
};

struct kiovec {
  const void *base;
  unsigned long len;
};
struct kmsghdr {
  void *name;
  int namelen;
  struct kiovec *iov;
  unsigned long iovlen;
  void *control;
  unsigned long controllen;
  int flags;
};
struct kfprog {
  unsigned short len;
  const void *filter;
};

/* Loads the filter (seccomp(2), SECCOMP_SET_MODE_FILTER); with a listener,
   sends it the container process state (read from its memfd into buf, before
   the filter could forbid that) with the notify fd attached. 0 or -errno;
   *what and *step say which step failed. */
static long load_seccomp(unsigned flags, unsigned len, const void *prog, long listener, long state_fd, char *buf,
                         long cap, const char **what, int *step) {
  long n = 0, r;
  if (listener >= 0) {
    *what = "read seccomp listener state", *step = STEP_SECCOMP_LISTENER;
    while ((r = sys4(__NR_pread64, state_fd, (long)buf + n, cap - n, n)) > 0) n += r;
    if (r < 0) return r;
    if (n == 0 || n == cap) return -61; /* ENODATA: none, or more than we hold */
    drop_fd(state_fd);
  }
  struct kfprog fp = {(unsigned short)len, prog};
  *what = "load seccomp filter", *step = STEP_SECCOMP;
  long fd = sys3(__NR_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, flags, (long)&fp);
  if (fd < 0 || listener < 0) return fd < 0 ? fd : 0;
  *what = "send seccomp fd to listener", *step = STEP_SECCOMP_LISTENER;
  /* struct cmsghdr {size_t len; int level, type;} + one int, padded (CMSG_SPACE). */
  struct {
    unsigned long len;
    int level, type, fd, pad;
  } control = {16 + 4 /* CMSG_LEN(sizeof(int)) */, 1 /* SOL_SOCKET */, 1 /* SCM_RIGHTS */, (int)fd, 0};
  long sent = 0;
  while (sent < n) {
    struct kiovec iov = {buf + sent, (unsigned long)(n - sent)};
    struct kmsghdr msg = {0, 0, &iov, 1, sent ? 0 : &control, sent ? 0 : sizeof control, 0};
    r = sys3(__NR_sendmsg, listener, (long)&msg, 0x4000 /* MSG_NOSIGNAL */);
    if (r == -4) continue; /* EINTR */
    if (r <= 0) return r < 0 ? r : -32;
    sent += r;
  }
  /* The connection ends here, so that an agent reading to EOF goes on at
     once; if a profile refuses close, at the exec (close-on-exec, made so in
     start_c). The notify fd is close-on-exec from the kernel. */
  sys3(__NR_close, listener, 0, 0);
  return 0;
}

/* Runs one startContainer hook in the container; returns its wait status,
   0x10000 on a timeout, or -errno when it could not be started. */
static long run_hook(const char **p, long state_fd) {
  unsigned timeout = u32(p), nargs = u32(p), nenv = u32(p);
  const char *path = next_str(p);
  if (nargs > 255 || nenv > 255) return -7;
  for (unsigned i = 0; i < nargs; i++) hook_argv[i] = next_str(p);
  hook_argv[nargs] = 0;
  for (unsigned i = 0; i < nenv; i++) hook_envp[i] = next_str(p);
  hook_envp[nenv] = 0;
  long pid = sys4(__NR_clone, 17 /* SIGCHLD */, 0, 0, 0);
  if (pid < 0) return pid;
  if (pid == 0) {
    char sp[40] = "/proc/self/fd/";
    unsigned n = 14;
    put_num(sp, &n, state_fd);
    sp[n] = 0;
    /* Close-on-exec, as everything of ours: the hook gets stdio, nothing more. */
    long in = open_path(sp, O_RDONLY | O_CLOEXEC);
    /* The container's /proc: the hook reads its state only from the state
       memfd itself (see the exec fifo's check below), or does not run. */
    unsigned long opened[32], state[32];
    if (in >= 0 && (sys3(__NR_fstat, in, (long)opened, 0) < 0 || sys3(__NR_fstat, state_fd, (long)state, 0) < 0 ||
                    opened[0] != state[0] || opened[1] != state[1]))
      sys3(__NR_exit_group, 126, 0, 0);
    if (in >= 0 && sys3(__NR_dup3, in, 0, 0) < 0) {
#ifdef __NR_dup2
      sys3(__NR_dup2, in, 0, 0);
#endif
    }
    if (sys3(__NR_dup3, 2, 1, 0) < 0) {
#ifdef __NR_dup2
      sys3(__NR_dup2, 2, 1, 0);
#endif
    }
    sys3(__NR_execve, (long)path, (long)hook_argv, (long)hook_envp);
    sys3(__NR_exit_group, 127, 0, 0);
  }
  int status = 0;
  if (timeout) {
    long pidfd = sys3(434 /* pidfd_open */, pid, 0, 0);
    long r = -1;
    if (pidfd >= 0) {
      struct kpollfd pfd = {(int)pidfd, 1 /* POLLIN */, 0};
      struct kts ts = {(long)timeout, 0};
      r = sys4(__NR_ppoll, (long)&pfd, 1, (long)&ts, 0);
      drop_fd(pidfd);
    }
    if (r < 0) {
      /* No pidfd (kernel < 5.3, or a filter that predates it): poll the
         child every 10 ms; without nanosleep either, wait without a limit. */
      struct kts tick = {0, 10000000};
      for (unsigned long waited = 0; r < 0; waited += 10) {
        long w = sys4(__NR_wait4, pid, (long)&status, 1 /* WNOHANG */, 0);
        if (w == pid) return status;
        if (w < 0 && w != -4) break;
        if (waited >= (unsigned long)timeout * 1000) r = 0;
        else if (sys3(__NR_nanosleep, (long)&tick, 0, 0) < 0) break;
      }
    }
    if (r == 0) {
      sys3(__NR_kill, pid, 9, 0);
      sys4(__NR_wait4, pid, 0, 0, 0);
      return 0x10000;
    }
  }
  while (sys4(__NR_wait4, pid, (long)&status, 0, 0) == -4 /* EINTR */) {
  }
  return status;
}

/* Writes a failed step's reason where the runtime reads it (the error pipe,
   the fifo for `start`, else stderr) and exits. index: as the child's
   failures have it (which of the step's items), -1 for none. */
static void fail_step(int step, int index, const char *what, long err, long w) {
  if (report_at(step, err, index)) sys3(__NR_exit_group, 1, 0, 0);
  char msg[160];
  unsigned n = 0;
  for (const char *c = what; *c && n < 100; c++) msg[n++] = *c;
  for (const char *c = ": errno "; *c; c++) msg[n++] = *c;
  put_num(msg, &n, err < 0 ? -err : err);
  msg[n] = 0;
  if (w >= 0) sys3(__NR_write, w, (long)msg, n);
  else say("tsrunc-init: "), say(msg), say("\n");
  sys3(__NR_exit_group, 1, 0, 0);
}

struct kopen_how {
  unsigned long flags, mode, resolve;
};

#define PROC_SUPER_MAGIC 0x9fa0
#ifndef O_PATH
#define O_PATH 010000000 /* fcntl.h has it under _GNU_SOURCE only */
#endif

/* Whether fd is on a procfs: 0, or -EXDEV. */
static long on_procfs(long fd) {
  unsigned long st[32];
  long r = sys3(__NR_fstatfs, fd, (long)st, 0);
  if (r < 0) return r;
  return st[0] == PROC_SUPER_MAGIC ? 0 : -18 /* EXDEV */;
}

/* Opens /proc/<pid>/attr/<name> (name: "apparmor/exec" or "exec") for
   writing, under root, the container's procfs root. openat2 resolves it with
   no symlink and no mount crossed; where a seccomp filter predates openat2
   (ENOSYS, or the EPERM of a default action), openat a component at a time,
   O_NOFOLLOW, each on root's device (a bind mount of another procfs file of
   the same instance is what that walk cannot tell: only a process already
   privileged in this mount namespace could have made one). */
static long open_attr(long root, unsigned long root_dev, const char *pid, const char *name) {
  char path[64];
  unsigned n = 0;
  for (const char *c = pid; *c; c++) path[n++] = *c;
  for (const char *c = "/attr/"; *c; c++) path[n++] = *c;
  for (const char *c = name; *c; c++) path[n++] = *c;
  path[n] = 0;
  struct kopen_how how = {O_WRONLY | O_CLOEXEC, 0, 0x01 | 0x02 | 0x04 | 0x08};
  /* RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH */
  long fd = sys4(437 /* openat2 */, root, (long)path, (long)&how, sizeof how);
  if (fd != -38 /* ENOSYS */ && fd != -1 /* EPERM */) return fd;
  unsigned long st[32];
  long dir = root;
  char *c = path;
  for (;;) {
    char *e = c;
    while (*e && *e != '/') e++;
    int last = !*e;
    *e = 0;
    fd = sys4(__NR_openat, dir, (long)c, last ? O_WRONLY | O_CLOEXEC | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (dir != root) drop_fd(dir);
    if (fd < 0) return fd;
    if (sys3(__NR_fstat, fd, (long)st, 0) < 0 || st[0] != root_dev) {
      drop_fd(fd);
      return -18; /* EXDEV */
    }
    if (last) return fd;
    dir = fd;
    c = e + 1;
  }
}

/* Sets an LSM label for the next exec, the user's program's (and the
   startContainer hooks', as in runc). Here, not in the cloned child: a label
   written to attr/exec applies at the writer's next exec, and the child's
   next exec is this program's, under which a profile would then have to let
   the container exec its own program (runc and crun ask no such thing of a
   profile, nor of an SELinux domain, whose entrypoint this memfd is not).
   The kernel takes attr writes only from the process image (mm) that opened
   the file (5.10 and 6.1 both refuse a write after an exec with EPERM), so
   the child cannot open it for us: it is opened here,
   through the container's /proc: a
   procfs root, the file itself on procfs, so that no mount or link in the
   container can make this write land elsewhere (runc's CVE-2025-52881).
   names: the attr files to try, in order (AppArmor's own, then the shared
   one). 0 or -errno. */
static long write_attr(const char *const *names, unsigned nnames, const char *text) {
  long root = open_path("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) return root == -2 /* ENOENT */ || root == -40 /* ELOOP */ || root == -20 /* ENOTDIR */ ? -18 : root;
  unsigned long st[32]; /* st_dev, st_ino lead struct stat */
  long r = on_procfs(root);
  if (r == 0 && (r = sys3(__NR_fstat, root, (long)st, 0)) == 0 && st[1] != 1 /* PROC_ROOT_INO */) r = -18;
  char pid[24];
  unsigned n = 0;
  put_num(pid, &n, sys3(__NR_getpid, 0, 0, 0));
  pid[n] = 0;
  long fd = -2; /* ENOENT */
  for (unsigned i = 0; r == 0 && i < nnames && fd == -2; i++) fd = open_attr(root, st[0], pid, names[i]);
  drop_fd(root);
  if (r < 0) return r;
  if (fd < 0) return fd;
  r = on_procfs(fd);
  if (r == 0) {
    r = sys3(__NR_write, fd, (long)text, slen(text));
    if (r >= 0) r = 0;
  }
  drop_fd(fd);
  return r;
}

void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc < 4) die("usage:", "tsrunc-init SETTINGS_FD EXECUTABLE ARGV...", 22);

  long sfd = 0;
  for (const char *c = argv[1]; *c; c++) sfd = sfd * 10 + (*c - '0');
  long len = 0, r;
  /* read: its writer left the memfd's offset at 0 (spawn.cc, sealed_memfd). */
  while ((r = sys3(__NR_read, sfd, (long)settings + len, (long)sizeof settings - len)) > 0 || r == -4)
    if (r > 0) len += r;
  if (r < 0) die("read settings", argv[1], r);
  drop_fd(sfd);
  if (len < 36 || settings[0] != 'T' || settings[1] != 'S' || settings[2] != 'I' || settings[3] != '4')
    die("bad settings", argv[1], 22);
  const char *p = settings + 4;
  long fifo_fd = (int)u32(&p), state_fd = (int)u32(&p);
  unsigned nhooks = u32(&p);
  unsigned sc_flags = u32(&p), sc_len = u32(&p);
  long listener = (int)u32(&p), listener_state = (int)u32(&p);
  report_fd = (int)u32(&p);
  const char *sc_prog = p;
  p += (unsigned long)sc_len * 8;
  const char *apparmor = next_str(&p), *selinux = next_str(&p);
  /* Ours alone: no startContainer hook (nor the user's program) inherits them.
     (Under a filter that refuses fcntl, a hook may see the state fd.) */
  if (state_fd >= 0) sys3(__NR_fcntl, state_fd, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
  if (listener >= 0) {
    sys3(__NR_fcntl, listener, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
    sys3(__NR_fcntl, listener_state, 2, 1);
  }
  /* Open until the user's exec, never in it. Where a filter refuses fcntl,
     closed now (the runtime then goes on from here); where it refuses close
     too, the pipe would reach the user's program and hold the runtime until
     that exits: fail instead (README, "Seccomp": close or fcntl). */
  if (report_fd >= 0) {
    long r = sys3(__NR_fcntl, report_fd, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
    if (r < 0 && sys3(__NR_close, report_fd, 0, 0) < 0) {
      report(STEP_FDS, r);
      sys3(__NR_exit_group, 1, 0, 0);
    }
    if (r < 0) report_fd = -1;
  }

  long w = -1;
  if (fifo_fd >= 0) {
    die_on_signals();
    /* /proc/self/fd/N: reopening the O_PATH fd is the only way to open the
       fifo for writing without a path into the host's state directory. */
    char path[40] = "/proc/self/fd/";
    unsigned n = 14;
    put_num(path, &n, fifo_fd);
    path[n] = 0;
    w = open_path(path, O_WRONLY | O_CLOEXEC);
    if (w < 0) die("open exec fifo", path, w);
    /* That /proc is the container's, which a mount in its config may have
       made something other than procfs: nothing is written unless what was
       opened is the fifo itself (st_dev and st_ino lead struct stat on every
       architecture this builds for). */
    unsigned long opened[32], fifo[32];
    if (sys3(__NR_fstat, w, (long)opened, 0) < 0 || sys3(__NR_fstat, fifo_fd, (long)fifo, 0) < 0 ||
        opened[0] != fifo[0] || opened[1] != fifo[1])
      die("open exec fifo: not the fifo", path, -18 /* EXDEV */);
    /* A path into the host's state directory: never the user's program's. */
    if (drop_fd(fifo_fd) < 0) die("close exec fifo", path, -1);
  }
  if (*apparmor) {
    static const char *const names[] = {"apparmor/exec", "exec"};
    long r5 = write_attr(names, 2, apparmor);
    if (r5 < 0) fail_step(STEP_LSM_LABEL, 0, "set AppArmor profile", r5, w);
  }
  if (*selinux) {
    static const char *const names[] = {"exec"};
    long r5 = write_attr(names, 1, selinux);
    if (r5 < 0) fail_step(STEP_LSM_LABEL, 1, "set SELinux label", r5, w);
  }
  for (unsigned i = 0; i < nhooks; i++) {
    long st = run_hook(&p, state_fd);
    if (st != 0) {
      /* `start` reads this and fails; without a fifo (`run`), stderr. */
      char msg[300] = "startContainer hook #";
      unsigned n = 21;
      put_num(msg, &n, i);
      const char *what = st == 0x10000 ? ": timed out"
                         : st < 0            ? ": could not run, errno "
                         : (st & 0x7f)       ? ": killed by signal "
                                             : ": exit status ";
      for (const char *c = what; *c; c++) msg[n++] = *c;
      if (st != 0x10000) put_num(msg, &n, st < 0 ? -st : (st & 0x7f) ? (st & 0x7f) : (st >> 8) & 0xff);
      msg[n] = 0;
      if (w >= 0) sys3(__NR_write, w, (long)msg, n);
      else say(msg), say("\n");
      sys3(__NR_exit_group, 1, 0, 0);
    }
  }
  if (state_fd >= 0) drop_fd(state_fd);
  if (sc_len) {
    /* Last but the fifo's "0": a failure here still reaches `start`. */
    const char *what = "";
    int step = STEP_SECCOMP;
    long r4 = load_seccomp(sc_flags, sc_len, sc_prog, listener, listener_state, settings + len,
                           (long)sizeof settings - len, &what, &step);
    if (r4 < 0) fail_step(step, -1, what, r4, w);
  }
  if (w >= 0) {
    long r2 = sys3(__NR_write, w, (long)"0", 1);
    if (r2 != 1) die("write exec fifo", "", r2);
    /* Opened close-on-exec: `start` sees its end at the exec. */
  }
  long r3 = sys3(__NR_execve, (long)argv[2], (long)(argv + 3), (long)envp);
  if (report(STEP_EXEC_PROCESS, r3)) sys3(__NR_exit_group, 127, 0, 0);
  die("exec", argv[2], r3);
}
