/*
 * tsrunc-launch: the tsrunc command itself. scripts/bundle.mjs copies it to
 * dist/tsrunc (the package's `bin`, what engines are given as their runtime)
 * and it starts Node on the CLI beside it:
 *
 *   dist/tsrunc        this program
 *   dist/node          the Node to run: a link to the Node that installed the
 *                      package (npm), to node_modules/node (a checkout), or
 *                      Node itself (a release tarball)
 *   dist/node.flags    that Node's flags, one line (scripts/bundle.mjs: why each)
 *   dist/tsrunc.cjs    the CLI (src/cli/boot.ts)
 *
 * `dist/tsrunc ARGS...` execs `dist/node FLAGS... dist/tsrunc.cjs ARGS...` with
 * the environment as it is. dist/ is where this file really is
 * (/proc/self/exe), so a symlink to it (/usr/local/bin/tsrunc, npm's bin
 * link) and a moved or copied tree work, and nothing names a path of the
 * machine that built it. Without dist/node (an `npm install
 * --ignore-scripts`, which skips scripts/install.mjs) it runs `node` from PATH
 * without flags: node.flags were chosen for dist/node.
 *
 * Freestanding (see ../freestanding.h): no dynamic loader, no libc start; it
 * costs less than the kernel's own #! handling did for the old dist/tsrunc.
 */
#include "../freestanding.h"

#define MAX_WORDS 32
#define PATH_MAX_ 4096

static void say(const char *s) { sys3(__NR_write, 2, (long)s, slen(s)); }

static void die(const char *msg, const char *arg, int code) {
  say("tsrunc: ");
  say(msg);
  say(arg);
  say("\n");
  sys3(__NR_exit_group, code, 0, 0);
  for (;;) {
  }
}

/* dst = a + b, NUL-ended; dies when it does not fit. */
static void join(char *dst, long cap, const char *a, long alen, const char *b) {
  long n = 0;
  for (long i = 0; i < alen; i++) {
    if (n + 1 >= cap) die("path too long: ", a, 2);
    dst[n++] = a[i];
  }
  for (; *b; b++) {
    if (n + 1 >= cap) die("path too long: ", a, 2);
    dst[n++] = *b;
  }
  dst[n] = 0;
}

static char self[PATH_MAX_];
static char node[PATH_MAX_];
static char script[PATH_MAX_];
static char flagsPath[PATH_MAX_];
static char flags[1024];

void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;

  long len = sys4(__NR_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)self, sizeof self - 1);
  if (len <= 0 || len >= (long)sizeof self - 1) die("cannot read /proc/self/exe (is /proc mounted?)", "", 2);
  self[len] = 0;
  long dir = len;
  while (dir > 0 && self[dir - 1] != '/') dir--;  /* self[0, dir) is "/.../dist/" */
  join(node, sizeof node, self, dir, "node");
  join(script, sizeof script, self, dir, "tsrunc.cjs");
  join(flagsPath, sizeof flagsPath, self, dir, "node.flags");

  /* node.flags: the words of one line; a missing file means no flags. */
  long nflags = 0;
  long fd = sys4(__NR_openat, AT_FDCWD, (long)flagsPath, O_RDONLY | O_CLOEXEC, 0);
  if (fd >= 0) {
    long r, got = 0;
    while (got < (long)sizeof flags - 1 && (r = sys3(__NR_read, fd, (long)flags + got, sizeof flags - 1 - got)) > 0) got += r;
    sys3(__NR_close, fd, 0, 0);
    if (got == sizeof flags - 1) die("too long: ", flagsPath, 2);
    flags[got] = 0;
    nflags = 1;
  }
  char *words[MAX_WORDS];
  long n = 0;
  for (char *c = flags; nflags && *c;) {
    while (*c == ' ' || *c == '\t' || *c == '\n') *c++ = 0;
    if (!*c) break;
    if (n == MAX_WORDS) die("too many flags in ", flagsPath, 2);
    words[n++] = c;
    while (*c && *c != ' ' && *c != '\t' && *c != '\n') c++;
  }

  const char *nargv[1 + MAX_WORDS + 1 + argc];
  long k = 0;
  nargv[k++] = node;
  for (long i = 0; i < n; i++) nargv[k++] = words[i];
  nargv[k++] = script;
  for (long i = 1; i < argc; i++) nargv[k++] = argv[i];
  nargv[k] = 0;
  long r = sys3(__NR_execve, (long)node, (long)nargv, (long)envp);
  if (r != -2 /* ENOENT */) die("cannot exec ", node, 127);

  /* No dist/node: `node` from PATH, without the flags that were dist/node's. */
  k = 1;
  nargv[k++] = script;
  for (long i = 1; i < argc; i++) nargv[k++] = argv[i];
  nargv[k] = 0;
  const char *path = 0;
  for (char **e = envp; *e; e++)
    if ((*e)[0] == 'P' && (*e)[1] == 'A' && (*e)[2] == 'T' && (*e)[3] == 'H' && (*e)[4] == '=') path = *e + 5;
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    const char *end = path;
    while (*end && *end != ':') end++;
    if (end > path) {
      join(node, sizeof node, path, end - path, "/node");
      nargv[0] = node;
      sys3(__NR_execve, (long)node, (long)nargv, (long)envp);
    }
    path = *end ? end + 1 : end;
  }
  join(node, sizeof node, self, dir, "node");
  say("tsrunc: no Node to run: ");
  say(node);
  say(" is missing and there is no node in PATH (install Node >= 22, then reinstall tsrunc)\n");
  sys3(__NR_exit_group, 127, 0, 0);
  for (;;) {
  }
}
