/*
 * tsrunc-init: what a created container's pid 1 is while it waits for `start`.
 *
 * The cloned child has already done all the setup (namespaces, mounts,
 * pivot_root, user, capabilities) and exec'd this program from a sealed memfd.
 * It is freestanding (no libc, a few KiB) so that a created container costs
 * almost no memory while it waits, and so that nothing of Node is left in it.
 *
 *   argv: tsrunc-init FIFO_FD EXECUTABLE ARGV0 ARGV1 ...   (FIFO_FD -1: no wait)
 *
 * It opens the exec fifo for writing (this blocks until `tsrunc start` opens
 * it for reading), writes one byte, closes it, then execs the user's process.
 */
#include <asm/unistd.h>
#include <fcntl.h>

#if defined(__x86_64__)
static long sys4(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call start_c\n hlt\n");
#elif defined(__aarch64__)
static long sys4(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
__asm__(".text\n.global _start\n_start:\n mov x0, sp\n bl start_c\n brk #0\n");
#else
#error "tsrunc-init: add the syscall stub for this architecture"
#endif

#define sys3(n, a, b, c) sys4(n, a, b, c, 0)

static unsigned slen(const char *s) {
  unsigned n = 0;
  while (s[n]) n++;
  return n;
}

static void say(const char *s) { sys3(__NR_write, 2, (long)s, slen(s)); }

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

void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc < 4) die("usage:", "tsrunc-init FIFO_FD EXECUTABLE ARGV...", 22);

  const char *f = argv[1];
  if (f[0] != '-') {
    die_on_signals();
    /* /proc/self/fd/N: reopening the O_PATH fd is the only way to open the
       fifo for writing without a path into the host's state directory. */
    char path[40] = "/proc/self/fd/";
    unsigned n = 14, i = 0;
    long fd = 0;
    while (f[i] && n < sizeof path - 1) {
      fd = fd * 10 + (f[i] - '0');
      path[n++] = f[i++];
    }
    path[n] = 0;
    long w = sys3(__NR_openat, AT_FDCWD, (long)path, O_WRONLY | O_CLOEXEC);
    if (w < 0) die("open exec fifo", path, w);
    long r = sys3(__NR_write, w, (long)"0", 1);
    if (r != 1) die("write exec fifo", path, r);
    sys3(__NR_close, w, 0, 0);
    sys3(__NR_close, fd, 0, 0);
  }
  long r = sys3(__NR_execve, (long)argv[2], (long)(argv + 3), (long)envp);
  die("exec", argv[2], r);
}
