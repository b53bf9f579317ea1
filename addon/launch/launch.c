/*
 * tsrunc-launch: the interpreter on dist/tsrunc's #! line, which starts Node
 * with the flags scripts/bundle.mjs chose for it (why each: there).
 *
 * Linux hands a #! interpreter everything after its path as one argument:
 *
 *   #!/abs/build/Release/tsrunc-launch /abs/path/to/node --flag-a --flag-b
 *
 * runs `tsrunc-launch "/abs/path/to/node --flag-a --flag-b" dist/tsrunc ARGS...`.
 * This splits that argument at spaces and execs
 * `/abs/path/to/node --flag-a --flag-b dist/tsrunc ARGS...` with the
 * environment as it is: what `#!/usr/bin/env -S node FLAGS` does (no quoting,
 * no variables), without a dynamically linked program's start, ~0.7 ms on
 * every tsrunc command. It is freestanding (see ../freestanding.h).
 */
#include "../freestanding.h"

#define MAX_WORDS 32

static void say(const char *s) { sys3(__NR_write, 2, (long)s, slen(s)); }

static void die(const char *msg, const char *arg, int code) {
  say("tsrunc-launch: ");
  say(msg);
  say(arg);
  say("\n");
  sys3(__NR_exit_group, code, 0, 0);
  for (;;) {
  }
}

void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc < 3) die("the interpreter of dist/tsrunc's #! line: tsrunc-launch \"NODE [FLAGS...]\" SCRIPT [ARGS...]", "", 2);
  /* The words of the #! argument, split in place (it is our own copy). */
  char *words[MAX_WORDS];
  long n = 0;
  for (char *c = argv[1]; *c;) {
    while (*c == ' ' || *c == '\t') *c++ = 0;
    if (!*c) break;
    if (n == MAX_WORDS) die("too many words on the #! line: ", argv[1], 2);
    words[n++] = c;
    while (*c && *c != ' ' && *c != '\t') c++;
  }
  if (n == 0) die("no Node on the #! line", "", 2);
  const char *nargv[n + argc];
  long k = 0;
  for (long i = 0; i < n; i++) nargv[k++] = words[i];
  for (long i = 2; i < argc; i++) nargv[k++] = argv[i];
  nargv[k] = 0;
  long r = sys3(__NR_execve, (long)words[0], (long)nargv, (long)envp);
  die(r == -2 ? "no such file: " : "cannot exec: ", words[0], 127);
}
