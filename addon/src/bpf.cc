// attachDeviceFilter(cgroupDirFd, insns): cgroup v2 device control. The
// program (built in TypeScript, src/cgroups/bpf.ts) is loaded as a
// BPF_PROG_TYPE_CGROUP_DEVICE program and attached to the container's cgroup
// with BPF_F_ALLOW_MULTI; the programs attached before it are then detached,
// so that `update` replaces the filter rather than stacking another (as runc).
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <linux/bpf.h>
#include <napi.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tsrunc {

namespace {

long bpf(int cmd, union bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

Napi::Error bpf_error(Napi::Env env, const char* what, int err) {
  Napi::Error e = Napi::Error::New(env, std::string("cgroup device filter: ") + what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

}  // namespace

Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
  static const char license[] = "Apache";

  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns.Data();
  attr.insn_cnt = (uint32_t)(insns.Length() / sizeof(struct bpf_insn));
  attr.license = (uint64_t)(uintptr_t)license;
  // The verifier gives up with EAGAIN when a signal is pending for the
  // thread (a child's SIGCHLD, a timer), and the longer it runs the likelier
  // that is: a guest under emulation met it in CI, and a steady stream of
  // signals would fail every try. So signals are blocked for the load (they
  // are delivered after it; SIGKILL cannot be blocked, and ends the process
  // anyway), and a load that still meets EAGAIN is tried again, as libbpf
  // and runc's cilium/ebpf do.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  int prog = -1;
  for (int tries = 0; tries < 10; tries++) {
    prog = (int)bpf(BPF_PROG_LOAD, &attr);
    if (prog >= 0 || errno != EAGAIN) break;
  }
  int load_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  errno = load_errno;
  if (prog < 0) throw bpf_error(env, "BPF_PROG_LOAD", errno);

  // What is attached now, to detach once ours is in (never a moment without a filter).
  uint32_t ids[64];
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)dirfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = 64;
  uint32_t old = 0;
  if (bpf(BPF_PROG_QUERY, &attr) == 0) old = attr.query.prog_cnt;

  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)dirfd;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &attr) < 0) {
    int e = errno;
    close(prog);
    throw bpf_error(env, "BPF_PROG_ATTACH", e);
  }
  close(prog);  // the attachment holds it

  for (uint32_t i = 0; i < old && i < 64; i++) {
    memset(&attr, 0, sizeof attr);
    attr.prog_id = ids[i];
    int fd = (int)bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0) continue;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)dirfd;
    attr.attach_bpf_fd = (uint32_t)fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    bpf(BPF_PROG_DETACH, &attr);
    close(fd);
  }
  return env.Undefined();
}

}  // namespace tsrunc
