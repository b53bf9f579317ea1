// The addon's JavaScript surface: spawn/release (spawn.cc) and the few
// syscalls Node does not offer (flock, mkfifo, waitpid, pidfd polling), and
// the file-system calls tsrunc makes in place of node:fs (fs.cc).
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <pthread.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "functions.h"
#include "plan.h"

namespace tsrunc {

Napi::Value Spawn(const Napi::CallbackInfo& info);
Napi::Value Release(const Napi::CallbackInfo& info);
Napi::Value ProcWrite(const Napi::CallbackInfo& info);
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info);
Napi::Value SdStartTransientUnit(const Napi::CallbackInfo& info);
Napi::Value SdStopUnit(const Napi::CallbackInfo& info);
Napi::Value SdSetUnitProperties(const Napi::CallbackInfo& info);
Napi::Value SdResetFailedUnit(const Napi::CallbackInfo& info);
Napi::Value SdManagerProperty(const Napi::CallbackInfo& info);
Napi::Value SdSessionBusOwnerUid(const Napi::CallbackInfo& info);
Napi::Value SeccompCompile(const Napi::CallbackInfo& info);  // seccomp.cc
Napi::Value SeccompInfo(const Napi::CallbackInfo& info);
void DropStubEnviron();  // environ.cc

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

// stepName(step): the name of a child's setup step (plan.h), or undefined.
// A function, not an array made at load: its ~50 strings cost every verb
// ~0.05 ms under Bun's N-API, and only a failed create or exec reads one.
Napi::Value StepName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int step = info[0].As<Napi::Number>().Int32Value();
  if (step < 0 || step >= STEP_COUNT) return env.Undefined();
  return Napi::String::New(env, kStepNames[step]);
}

// sameFile(fd, path): whether path still names the file fd is open on (the
// same inode on the same device); false when path cannot be stat'ed. What a
// lock on a directory checks once it holds the lock: that the directory was
// not removed (and perhaps made again) meanwhile. One call rather than
// statSync and fstatSync with their Stats objects: ~0.1 ms of every verb
// that locks, under Bun.
Napi::Value SameFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  struct stat ours, now;
  bool same = fstat(fd, &ours) == 0 && stat(path.c_str(), &now) == 0 && ours.st_ino == now.st_ino && ours.st_dev == now.st_dev;
  return Napi::Boolean::New(env, same);
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

// pidfd_open(pid, 0)'s errors for a pid that names no process: ESRCH (no
// such pid), and where the number now names a thread of another process
// (pidfd_open is for thread-group leaders), EINVAL on Linux 6.1 and ENOENT
// on 6.18 (both seen): an init that died and was reaped, its pid taken by a thread
// at once, as happens under load.
bool no_such_process(int err) { return err == ESRCH || err == EINVAL || err == ENOENT; }

// pidfd_open(pid): the pidfd, -1 when no process has that pid, or throws.
int open_pidfd(Napi::Env env, int pid) {
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0 && !no_such_process(errno)) throw errno_error(env, "pidfd_open", errno);
  return pidfd < 0 ? -1 : pidfd;
}

// Lets a created container run: opening the exec fifo for reading releases
// tsrunc-init's blocking open for writing; after the startContainer hooks it
// writes "0", or why they failed. Returns true, that reason, or false when
// the init died first (watched with a pidfd, so `start` never hangs).
Napi::Value OpenExecFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int pid = info[1].As<Napi::Number>().Int32Value();
  // The pidfd first: until the fifo is opened the init is blocked in its
  // open, so it can only be gone now if it died before `start`. Once the
  // fifo is open it may write "0", exec, exit and be reaped (engines reap at
  // once) before we look: its "0" in the fifo is what counts then.
  int pidfd = open_pidfd(env, pid);
  if (pidfd < 0) return Napi::Boolean::New(env, false);
  int fifo = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0) {
    int e = errno;
    close(pidfd);
    throw errno_error(env, "open " + path, e);
  }
  Napi::Value result = Napi::Boolean::New(env, false);
  char buf[512];
  size_t got = 0;
  bool init_gone = false;
  for (;;) {
    struct pollfd fds[2] = {{fifo, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int r = poll(fds, init_gone ? 1 : 2, init_gone ? 0 : -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(fifo, buf + got, sizeof buf - 1 - got);
      if (n > 0) {
        got += (size_t)n;
        if (buf[0] == '0') {
          result = Napi::Boolean::New(env, true);
          break;
        }
        continue;  // a failure message: read it to its end (EOF)
      }
      if (n == 0 && got > 0) break;                 // the writer is done
      if (n < 0 && errno != EAGAIN) break;
    }
    if (init_gone) break;                            // nothing more will come
    if (fds[1].revents) init_gone = true;            // read what it left, once more
  }
  if (got > 0 && buf[0] != '0') {
    buf[got] = 0;
    result = Napi::String::New(env, buf);
  }
  close(pidfd);
  close(fifo);
  return result;
}

// Polls a pidfd until its process is gone (true) or timeoutMs passes (false).
bool poll_pidfd(int pidfd, int timeout) {
  struct pollfd pfd = {pidfd, POLLIN, 0};
  int r;
  do {
    r = poll(&pfd, 1, timeout);
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

// pidfdWait(pid, timeoutMs) -> true when the process is gone. For our own
// children only: their pid stays theirs until we reap them. Another
// process's pid can be freed and taken between any two calls: pidfdOpen.
Napi::Value PidfdWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  int pidfd = open_pidfd(env, pid);
  if (pidfd < 0) return Napi::Boolean::New(env, true);
  bool gone = poll_pidfd(pidfd, timeout);
  close(pidfd);
  return Napi::Boolean::New(env, gone);
}

// pidfdOpen(pid) -> a pidfd (close-on-exec), or -1 when no process has that
// pid. The pidfd names that very process for as long as it is open: once
// the caller has checked through /proc that it is the one meant (its start
// time), signals sent through it cannot reach a process that took the pid
// since (the container's init, which another process reaps: kill, delete).
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Number::New(env, open_pidfd(env, info[0].As<Napi::Number>().Int32Value()));
}

// pidfdSignal(pidfd, signal) -> false when the process has exited.
Napi::Value PidfdSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0) {
    if (errno == ESRCH) return Napi::Boolean::New(env, false);
    throw errno_error(env, "pidfd_send_signal", errno);
  }
  return Napi::Boolean::New(env, true);
}

// pidfdPoll(pidfd, timeoutMs) -> true when the process is gone.
Napi::Value PidfdPoll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  return Napi::Boolean::New(env, poll_pidfd(pidfd, timeout));
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

// recvFd(sock) -> the fd carried by one SCM_RIGHTS message (the pty master).
Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  char data[256];
  struct iovec iov = {data, sizeof data};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw errno_error(env, "recvmsg", errno);
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  if (!cm || cm->cmsg_type != SCM_RIGHTS) throw Napi::Error::New(env, "no fd received on the console socket");
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return Napi::Number::New(env, fd);
}

// setWinsize(fd, rows, cols): TIOCSWINSZ on a pty.
Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  struct winsize ws = {};
  ws.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  ws.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSWINSZ, &ws) < 0)
    throw errno_error(info.Env(), "TIOCSWINSZ", errno);
  return info.Env().Undefined();
}

// ttyRaw(fd) -> Buffer with the old termios (undefined if fd is no tty):
// a foreground terminal passes every key, Ctrl-C included, to the container.
Napi::Value TtyRaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct termios old;
  if (tcgetattr(fd, &old) < 0) return env.Undefined();
  struct termios raw = old;
  cfmakeraw(&raw);
  raw.c_oflag |= OPOST | ONLCR;  // keep output processing, like runc's raw mode
  if (tcsetattr(fd, TCSANOW, &raw) < 0) throw errno_error(env, "tcsetattr", errno);
  return Napi::Buffer<char>::Copy(env, reinterpret_cast<char*>(&old), sizeof old);
}

Napi::Value TtyRestore(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> b = info[1].As<Napi::Buffer<char>>();
  if (b.Length() == sizeof(struct termios)) tcsetattr(fd, TCSANOW, reinterpret_cast<struct termios*>(b.Data()));
  return info.Env().Undefined();
}

// getWinsize(fd) -> { rows, cols } or undefined.
Napi::Value GetWinsize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct winsize ws = {};
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCGWINSZ, &ws) < 0) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("rows", Napi::Number::New(env, ws.ws_row));
  o.Set("cols", Napi::Number::New(env, ws.ws_col));
  return o;
}

// copyInThread(from, to): copies until EOF or an error, on a detached thread
// of its own. For stdin -> pty master: a read that may block forever must not
// sit in libuv's pool, which exit() joins.
void* copy_loop(void* arg) {
  int* fds = static_cast<int*>(arg);
  int from = fds[0], to = fds[1];
  delete[] fds;
  char buf[8192];
  for (;;) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(to, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return nullptr;
      off += w;
    }
  }
  return nullptr;
}

Napi::Value CopyInThread(const Napi::CallbackInfo& info) {
  int* fds = new int[2]{info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value()};
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // Nothing of Node may run on it, and no signal should land there.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pthread_create(&t, &attr, copy_loop, fds);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    delete[] fds;
    throw errno_error(info.Env(), "pthread_create", r);
  }
  return info.Env().Undefined();
}

// Reaps a child (cleanup after a failed create or exec): waitpid blocks, so
// callers first see it gone with pidfdWait (a SIGKILL in a frozen cgroup lands
// only at the thaw).
Napi::Value Reap(const Napi::CallbackInfo& info) {
  int pid = info[0].As<Napi::Number>().Int32Value();
  int status;
  while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
  }
  return info.Env().Undefined();
}

// exitNow(code): _exit(2), skipping Node's teardown (joining its worker
// threads, freeing the heap: ~1 ms that a short-lived CLI need not pay).
// Only for after every 'exit' listener has run and all output was written
// synchronously.
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  _exit(info[0].As<Napi::Number>().Int32Value());
}

}  // namespace

const NamedFunction kFunctions[] = {
    {"spawn", Spawn},
    {"release", Release},
    {"procWrite", ProcWrite},
    {"seccompCompile", SeccompCompile},
    {"seccompInfo", SeccompInfo},
    {"flock", Flock},
    {"sameFile", SameFile},
    {"mkfifo", Mkfifo},
    {"openExecFifo", OpenExecFifo},
    {"pidfdWait", PidfdWait},
    {"pidfdOpen", PidfdOpen},
    {"pidfdSignal", PidfdSignal},
    {"pidfdPoll", PidfdPoll},
    {"tryWait", TryWait},
    {"reap", Reap},
    {"exitNow", ExitNow},
    {"attachDeviceFilter", AttachDeviceFilter},
    {"sdStartTransientUnit", SdStartTransientUnit},
    {"sdStopUnit", SdStopUnit},
    {"sdSetUnitProperties", SdSetUnitProperties},
    {"sdResetFailedUnit", SdResetFailedUnit},
    {"sdManagerProperty", SdManagerProperty},
    {"sdSessionBusOwnerUid", SdSessionBusOwnerUid},
    {"recvFd", RecvFd},
    {"setWinsize", SetWinsize},
    {"ttyRaw", TtyRaw},
    {"copyInThread", CopyInThread},
    {"ttyRestore", TtyRestore},
    {"getWinsize", GetWinsize},
    {"stepName", StepName},
};

// fn(name): the function of that name (src/addon.ts calls it once per name).
Napi::Value Fn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  const struct {
    const NamedFunction* table;
    size_t count;
  } tables[] = {{kFunctions, sizeof(kFunctions) / sizeof(kFunctions[0])},
                {kFsFunctions, kFsFunctionCount},
                {kProgramFunctions, kProgramFunctionCount},
                {kEnvironFunctions, kEnvironFunctionCount}};
  for (const auto& t : tables)
    for (size_t i = 0; i < t.count; i++)
      if (name == t.table[i].name) return Napi::Function::New(env, t.table[i].fn, t.table[i].name);
  throw Napi::TypeError::New(env, "tsrunc's addon has no function " + name);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  DropStubEnviron();
  exports.Set("fn", Napi::Function::New(env, Fn, "fn"));
  return exports;
}

}  // namespace tsrunc

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tsrunc::Init(env, exports); }
NODE_API_MODULE(tsrunc, InitModule)
