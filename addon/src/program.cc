// Running a host program and reading what it prints: `ps` runs ps(1), as
// runc does. Why not node:child_process: under Bun (dist/tsrunc) loading it
// costs ~1 ms of a verb that runc does in ~13 ms, and its spawnSync starts an
// event loop of its own for one pipe.
//
// posix_spawnp, not fork: glibc's posix_spawn is clone(CLONE_VM|CLONE_VFORK)
// and runs nothing but the file actions and execve in the child, so it is
// safe in this multithreaded process (invariant 1). The child gets default
// signal dispositions and an empty mask (Node and Bun ignore SIGPIPE, and an
// ignored disposition survives execve), /dev/null as stdin, and one pipe as
// both stdout and stderr (runc's CombinedOutput). No fd of ours reaches it:
// every fd tsrunc opens is O_CLOEXEC.
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "functions.h"

extern char** environ;

namespace tsrunc {

namespace {

// (file, args) -> { status, signal, output } once the program has exited, or
// -errno when it could not be started (posix_spawnp's error: ENOENT for a
// program not in PATH). file is looked up in PATH; args do not include it.
Napi::Value RunProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file = info[0].As<Napi::String>().Utf8Value();
  Napi::Array args = info[1].As<Napi::Array>();
  std::vector<std::string> strs{file};
  for (uint32_t i = 0; i < args.Length(); i++) strs.push_back(args.Get(i).As<Napi::String>().Utf8Value());
  std::vector<char*> argv;
  for (auto& s : strs) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) return Napi::Number::New(env, -errno);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int err = posix_spawnp(&pid, file.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  if (err) {
    close(out[0]);
    return Napi::Number::New(env, -err);
  }

  std::string output;
  char buf[16384];
  for (;;) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, (size_t)n);
  }
  close(out[0]);
  int ws = 0;
  long w;
  while ((w = waitpid(pid, &ws, 0)) < 0 && errno == EINTR) {
  }
  // w < 0 (ECHILD: reaped by someone else) leaves both null, as for a program
  // whose end is unknown.
  Napi::Object r = Napi::Object::New(env);
  r.Set("status", w > 0 && WIFEXITED(ws) ? Napi::Number::New(env, WEXITSTATUS(ws)) : env.Null());
  r.Set("signal", w > 0 && WIFSIGNALED(ws) ? Napi::Number::New(env, WTERMSIG(ws)) : env.Null());
  r.Set("output", Napi::String::New(env, output));
  return r;
}

}  // namespace

const NamedFunction kProgramFunctions[] = {{"runProgram", RunProgram}};
const size_t kProgramFunctionCount = sizeof(kProgramFunctions) / sizeof(kProgramFunctions[0]);

}  // namespace tsrunc
