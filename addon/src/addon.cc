// The addon's JavaScript surface: spawn/release (spawn.cc) and the few
// syscalls Node does not offer (flock, mkfifo, waitpid, pidfd polling).
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plan.h"

namespace tsrunc {

Napi::Value Spawn(const Napi::CallbackInfo& info);
Napi::Value Release(const Napi::CallbackInfo& info);

namespace {

Napi::Error errno_error(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

// flock(fd, exclusive, wait): false when wait is false and the lock is held.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].As<Napi::Boolean>().Value() ? LOCK_EX : LOCK_SH;
  if (!info[2].As<Napi::Boolean>().Value()) op |= LOCK_NB;
  int r;
  do {
    r = flock(fd, op);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    throw errno_error(env, "flock", errno);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = (mode_t)info[1].As<Napi::Number>().Uint32Value();
  if (mkfifo(path.c_str(), mode) < 0) throw errno_error(env, "mkfifo " + path, errno);
  // mkfifo is subject to the umask; the mode asked for is the mode meant.
  if (chmod(path.c_str(), mode) < 0) throw errno_error(env, "chmod " + path, errno);
  return env.Undefined();
}

// Lets a created container run: opening the exec fifo for reading releases
// tsrunc-init's blocking open for writing; its byte says it got through.
// Returns false when the container's init died first (watched with a pidfd,
// so a dead container never leaves `start` hanging).
Napi::Value OpenExecFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int pid = info[1].As<Napi::Number>().Int32Value();
  int fifo = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0) throw errno_error(env, "open " + path, errno);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    int e = errno;
    close(fifo);
    if (e == ESRCH) return Napi::Boolean::New(env, false);
    throw errno_error(env, "pidfd_open", e);
  }
  bool ok = false;
  for (;;) {
    struct pollfd fds[2] = {{fifo, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int r = poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & POLLIN) {
      char c;
      if (read(fifo, &c, 1) == 1) {
        ok = true;
        break;
      }
    }
    if (fds[1].revents) break;
    if (fds[0].revents & POLLHUP) {
      // The writer came and went without a byte: it failed.
      break;
    }
  }
  close(pidfd);
  close(fifo);
  return Napi::Boolean::New(env, ok);
}

// pidfdWait(pid, timeoutMs) -> true when the process is gone (any process,
// not only our children: created containers belong to whoever reaps them).
Napi::Value PidfdWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    if (errno == ESRCH) return Napi::Boolean::New(env, true);
    throw errno_error(env, "pidfd_open", errno);
  }
  struct pollfd pfd = {pidfd, POLLIN, 0};
  int r;
  do {
    r = poll(&pfd, 1, timeout);
  } while (r < 0 && errno == EINTR);
  close(pidfd);
  return Napi::Boolean::New(env, r > 0);
}

// tryWait(pid) -> null while the child runs, else { code, signal }. `run`
// calls it on SIGCHLD: no thread pool, no thread to join at exit.
Napi::Value TryWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  int status = 0;
  int r;
  do {
    r = waitpid(pid, &status, WNOHANG | __WALL);
  } while (r < 0 && errno == EINTR);
  if (r < 0) throw errno_error(env, "waitpid", errno);
  if (r == 0) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  if (WIFSIGNALED(status)) {
    o.Set("code", env.Null());
    o.Set("signal", Napi::Number::New(env, WTERMSIG(status)));
  } else {
    o.Set("code", Napi::Number::New(env, WEXITSTATUS(status)));
    o.Set("signal", env.Null());
  }
  return o;
}

// Reaps a child without blocking (cleanup after a failed create).
Napi::Value Reap(const Napi::CallbackInfo& info) {
  int pid = info[0].As<Napi::Number>().Int32Value();
  int status;
  while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
  }
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("release", Napi::Function::New(env, Release));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("openExecFifo", Napi::Function::New(env, OpenExecFifo));
  exports.Set("pidfdWait", Napi::Function::New(env, PidfdWait));
  exports.Set("tryWait", Napi::Function::New(env, TryWait));
  exports.Set("reap", Napi::Function::New(env, Reap));
  Napi::Array steps = Napi::Array::New(env, STEP_COUNT);
  for (uint32_t i = 0; i < STEP_COUNT; i++) steps.Set(i, Napi::String::New(env, kStepNames[i]));
  exports.Set("steps", steps);
  return exports;
}

}  // namespace tsrunc

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tsrunc::Init(env, exports); }
NODE_API_MODULE(tsrunc, InitModule)
