// spawn(plan) and release(handle): the parent's half of creating a container.
//
// spawn() opens what the child needs, clones it with the new namespaces and
// returns at once with its pid; the child waits. The caller (TypeScript) then
// does what must happen before the container runs (cgroups, id maps, state
// file) and calls release(), which lets the child go and reads back either
// EOF (tsrunc-init was exec'd) or the step that failed.
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/nsfs.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "plan.h"

extern char** environ;

// clone3 with a stack of its own for the child, which starts in fn(arg) and
// never returns (fn execs or _exits). Returns the pid, or -errno. libc has no
// public clone3 wrapper, and a child on a new stack cannot return into the
// C++ frame that called the syscall: the parent's frame is live in the same
// memory (CLONE_VM).
extern "C" long tsrunc_clone3(struct clone_args* args, size_t size, int (*fn)(void*), void* arg);
#if defined(__x86_64__)
__asm__(
    ".text\n.globl tsrunc_clone3\n.type tsrunc_clone3,@function\ntsrunc_clone3:\n"
    " mov %rdx, %r8\n"       // fn and arg survive the syscall in r8, r9
    " mov %rcx, %r9\n"
    " mov $435, %eax\n"      // __NR_clone3
    " syscall\n"
    " test %rax, %rax\n"
    " jnz 1f\n"
    " xor %ebp, %ebp\n"      // child: outermost frame, on the new stack
    " mov %r9, %rdi\n"
    " call *%r8\n"
    " mov %eax, %edi\n"
    " mov $60, %eax\n"       // __NR_exit, should fn return
    " syscall\n"
    " hlt\n"
    "1: ret\n"
    ".size tsrunc_clone3, .-tsrunc_clone3\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n.globl tsrunc_clone3\n.type tsrunc_clone3,%function\ntsrunc_clone3:\n"
    " mov x10, x2\n"
    " mov x11, x3\n"
    " mov x8, #435\n"
    " svc #0\n"
    " cbnz x0, 1f\n"
    " mov x29, xzr\n"
    " mov x30, xzr\n"
    " mov x0, x11\n"
    " blr x10\n"
    " mov x8, #93\n"
    " svc #0\n"
    " brk #0\n"
    "1: ret\n"
    ".size tsrunc_clone3, .-tsrunc_clone3\n");
#else
#error "tsrunc: add tsrunc_clone3 for this architecture"
#endif

namespace tsrunc {

namespace {
// config-linux.md's name of a CLONE_NEW* namespace type.
std::string ns_name(int nstype) {
  switch (nstype) {
    case CLONE_NEWNS: return "mount";
    case CLONE_NEWCGROUP: return "cgroup";
    case CLONE_NEWUTS: return "uts";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWNET: return "network";
    case CLONE_NEWTIME: return "time";
    default: return "unknown (" + std::to_string(nstype) + ")";
  }
}

std::string str(const Napi::Object& o, const char* key, bool* present = nullptr) {
  Napi::Value v = o.Get(key);
  bool ok = v.IsString();
  if (present) *present = ok;
  return ok ? v.As<Napi::String>().Utf8Value() : std::string();
}

double num(const Napi::Object& o, const char* key, double dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
}

unsigned long long big(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return v.IsNumber() ? (unsigned long long)v.As<Napi::Number>().Int64Value() : 0;
}

bool flag(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

template <typename F>
void each(const Napi::Object& o, const char* key, F fn) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) return;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) fn(a.Get(i));
}

// A list of CPU numbers (each below CPU_SETSIZE: plan.ts checks) as a
// sched_setaffinity(2) mask; false where the key is absent.
bool cpus(const Napi::Object& o, const char* key, cpu_set_t* set) {
  CPU_ZERO(set);
  if (!o.Get(key).IsArray()) return false;
  each(o, key, [&](Napi::Value v) {
    double n = v.As<Napi::Number>().DoubleValue();
    if (n >= 0 && n < CPU_SETSIZE) CPU_SET((int)n, set);
  });
  return true;
}

std::vector<std::string> strings(const Napi::Object& o, const char* key) {
  std::vector<std::string> out;
  each(o, key, [&](Napi::Value v) { out.push_back(v.As<Napi::String>().Utf8Value()); });
  return out;
}

[[noreturn]] void throw_errno(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  throw e;
}

// Moves fd to a number >= min (close-on-exec), so that internal fds never sit
// among the fds 3..3+preserve-1 that the caller hands to the container.
int move_above(Napi::Env env, int fd, int min) {
  if (fd < 0 || fd >= min) return fd;
  int nfd = fcntl(fd, F_DUPFD_CLOEXEC, min);
  if (nfd < 0) throw_errno(env, "dup", errno);
  close(fd);
  return nfd;
}

// tsrunc-init is run from a sealed memfd copy: the container's processes can
// see it at /proc/<pid>/exe but can never write through it to a host binary
// (CVE-2019-5736).
int sealed_copy(Napi::Env env, const std::string& path) {
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) throw_errno(env, "open " + path, errno);
  int mfd = (int)syscall(SYS_memfd_create, "tsrunc-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) {
    int e = errno;
    close(src);
    throw_errno(env, "memfd_create", e);
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(src, buf, sizeof buf)) > 0) {
    if (write(mfd, buf, (size_t)n) != n) {
      int e = errno;
      close(src);
      close(mfd);
      throw_errno(env, "copy tsrunc-init", e);
    }
  }
  close(src);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int e = errno;
    close(mfd);
    throw_errno(env, "seal tsrunc-init", e);
  }
  return mfd;
}

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

// The root of this process's procfs, as an O_PATH fd: checked to be procfs
// and its root (inode 1 is the root only on procfs), so that a /proc that is
// something else fails here, by name. -errno on failure.
int open_proc_root() {
  int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct statfs sfs;
  struct stat st;
  if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0 || sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != 1) {
    close(fd);
    return -EXDEV;
  }
  return fd;
}

// Writes text to /proc/<pid>/<name> through a verified procfs: the file is
// opened below the procfs root without crossing a mount or following a
// symlink, and must be on procfs. 0 or an errno.
int proc_write(int pid, const char* name, const std::string& text) {
  int root = open_proc_root();
  if (root < 0) return -root;
  std::string rel = std::to_string(pid) + "/" + name;
  struct open_how how = {};
  how.flags = O_WRONLY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS;
  int fd;
  do {
    fd = (int)syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  int err = fd < 0 ? errno : 0;
  close(root);
  if (err) return err;
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) err = EXDEV;
  else if (write(fd, text.data(), text.size()) != (ssize_t)text.size()) err = errno;
  close(fd);
  return err;
}

// A user namespace holding the given mappings, as an fd, for an id-mapped
// mount: a short-lived child makes it, we write its maps and keep the ns.
int userns_with_maps(Napi::Env env, const std::string& uid_map, const std::string& gid_map) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) throw_errno(env, "pipe", errno);
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, 0);
  if (pid == 0) {
    char c;
    close(p[1]);
    ssize_t n = read(p[0], &c, 1);  // until the parent is done (EOF)
    _exit(n < 0 ? 1 : 0);
  }
  close(p[0]);
  if (pid < 0) {
    close(p[1]);
    throw_errno(env, "clone(CLONE_NEWUSER)", errno);
  }
  int err = proc_write((int)pid, "uid_map", uid_map);
  if (!err) err = proc_write((int)pid, "gid_map", gid_map);
  int nsfd = -1;
  if (!err) {
    std::string path = "/proc/" + std::to_string(pid) + "/ns/user";
    nsfd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) err = errno;
  }
  close(p[1]);
  int status;
  while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (err) throw_errno(env, "id-mapped mount: user namespace", err);
  return nsfd;
}

// A detached, id-mapped copy of an idmap/ridmap mount's source tree.
int idmapped_tree(Napi::Env env, const MountOp& m) {
  int userns = userns_with_maps(env, m.idmap_uid_map, m.idmap_gid_map);
  unsigned recursive = (m.idmap_recursive || (m.flags & MS_REC)) ? AT_RECURSIVE : 0;
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, m.source.c_str(), 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC | recursive);
  if (tree < 0) {
    int e = errno;
    close(userns);
    throw_errno(env, "open_tree " + m.source, e);
  }
  struct {
    unsigned long long attr_set, attr_clr, propagation, userns_fd;
  } attr = {0x00100000 /* MOUNT_ATTR_IDMAP */, 0, 0, (unsigned long long)userns};
  int r = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (m.idmap_recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
  int e = errno;
  close(userns);
  if (r < 0) {
    close(tree);
    throw_errno(env, "id-map " + m.source, e);
  }
  return tree;
}

// A unix stream socket connected to path (close-on-exec).
int connect_unix(Napi::Env env, const std::string& path, const std::string& what) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Napi::Error::New(env, what + " path too long: " + path);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(env, "socket", errno);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int e = errno;
    close(fd);
    throw_errno(env, what + " " + path, e);
  }
  return fd;
}

int sealed_memfd(Napi::Env env, const char* name, const std::string& data) {
  int mfd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) throw_errno(env, "memfd_create", errno);
  if (write(mfd, data.data(), data.size()) != (ssize_t)data.size() ||
      fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0 ||
      lseek(mfd, 0, SEEK_SET) != 0) {  // tsrunc-init read()s it from the start (init.c)
    int e = errno;
    close(mfd);
    throw_errno(env, "write settings memfd", e);
  }
  return mfd;
}

std::unique_ptr<Plan> read_plan(Napi::Env env, const Napi::Object& o) {
  auto p = std::make_unique<Plan>();
  p->clone_flags = (int)num(o, "cloneFlags", 0);
  p->unshare_flags = (int)num(o, "unshareFlags", 0);
  p->userns_root = flag(o, "usernsRoot");
  p->loopback_up = flag(o, "loopbackUp");
  p->make_cwd = flag(o, "makeCwd");
  p->timens_offsets = str(o, "timensOffsets");
  p->personality = (long)num(o, "personality", -1);
  bool has;
  std::string profile = str(o, "apparmorProfile", &has);
  if (has && !profile.empty()) p->apparmor_exec = "exec " + profile;
  p->selinux_exec = str(o, "selinuxLabel");
  p->ioprio = (int)num(o, "ioprio", -1);
  Napi::Value sched = o.Get("scheduler");
  if (sched.IsObject()) {
    Napi::Object sc = sched.As<Napi::Object>();
    p->set_scheduler = true;
    p->sched_policy = (unsigned)num(sc, "policy", 0);
    p->sched_flags = (unsigned)num(sc, "flags", 0);
    p->sched_nice = (int)num(sc, "nice", 0);
    p->sched_priority = (int)num(sc, "priority", 0);
    p->sched_runtime = big(sc, "runtime");
    p->sched_deadline = big(sc, "deadline");
    p->sched_period = big(sc, "period");
  }
  p->set_cpu_initial = cpus(o, "cpuInitial", &p->cpu_initial);
  p->set_cpu_final = cpus(o, "cpuFinal", &p->cpu_final);
  p->cpu_reset = o.Get("cpuReset").ToBoolean();
  if (p->cpu_reset) memset(p->cpu_all, 0xff, sizeof p->cpu_all);
  p->hostname = str(o, "hostname", &p->has_hostname);
  p->domainname = str(o, "domainname", &p->has_domainname);
  p->rootfs = str(o, "rootfs", &p->setup_rootfs);
  p->root_propagation = (unsigned long)num(o, "rootPropagation", MS_SLAVE | MS_REC);
  p->readonly_root = flag(o, "readonlyRoot");
  p->no_pivot = flag(o, "noPivot");
  p->no_pivot_hide = strings(o, "noPivotHide");
  p->dev_readonly_flags = (unsigned long)num(o, "devReadonlyFlags", 0);
  p->wait_for_parent = true;
  p->fork_after_setns = flag(o, "forkAfterSetns");
  p->keyring = str(o, "keyring", &p->has_keyring);
  p->setsid = !o.Get("setsid").IsBoolean() || flag(o, "setsid");

  each(o, "mounts", [&](Napi::Value v) {
    Napi::Object m = v.As<Napi::Object>();
    MountOp op;
    op.source = str(m, "source", &op.has_source);
    op.target = str(m, "target");
    op.fstype = str(m, "type", &op.has_type);
    op.data = str(m, "data", &op.has_data);
    op.flags = (unsigned long)num(m, "flags", 0);
    op.remount = (unsigned long)num(m, "remount", 0);
    op.bind = flag(m, "bind");
    op.attr_set = (unsigned long long)num(m, "attrSet", 0);
    op.idmap_uid_map = str(m, "idmapUidMap");
    op.idmap_gid_map = str(m, "idmapGidMap");
    op.idmap_recursive = flag(m, "idmapRecursive");
    op.copy_up = flag(m, "copyUp");
    op.attr_clr = (unsigned long long)num(m, "attrClr", 0);
    each(m, "propagation", [&](Napi::Value f) { op.propagation.push_back((unsigned long)f.As<Napi::Number>().Int64Value()); });
    p->mounts.push_back(std::move(op));
  });
  each(o, "devices", [&](Napi::Value v) {
    Napi::Object d = v.As<Napi::Object>();
    DeviceOp op;
    op.path = str(d, "path");
    op.mode = (mode_t)num(d, "mode", 0);
    op.dev = makedev((unsigned)num(d, "major", 0), (unsigned)num(d, "minor", 0));
    op.uid = (uid_t)num(d, "uid", 0);
    op.gid = (gid_t)num(d, "gid", 0);
    op.bind = flag(d, "bind");
    p->devices.push_back(std::move(op));
  });
  each(o, "symlinks", [&](Napi::Value v) {
    Napi::Object s = v.As<Napi::Object>();
    p->symlinks.push_back({str(s, "target"), str(s, "path")});
  });
  p->masked_paths = strings(o, "maskedPaths");
  p->readonly_paths = strings(o, "readonlyPaths");
  each(o, "sysctls", [&](Napi::Value v) {
    Napi::Object s = v.As<Napi::Object>();
    p->sysctls.push_back({str(s, "path"), str(s, "value")});
  });
  each(o, "rlimits", [&](Napi::Value v) {
    Napi::Object r = v.As<Napi::Object>();
    p->rlimits.push_back({(int)num(r, "resource", 0), big(r, "soft"), big(r, "hard")});
  });

  p->no_new_privs = flag(o, "noNewPrivileges");
  p->uid = (uid_t)num(o, "uid", 0);
  p->gid = (gid_t)num(o, "gid", 0);
  each(o, "additionalGids", [&](Napi::Value v) { p->additional_gids.push_back((gid_t)v.As<Napi::Number>().Uint32Value()); });
  p->umask = (int)num(o, "umask", -1);

  Napi::Value caps = o.Get("capabilities");
  if (caps.IsObject()) {
    Napi::Object c = caps.As<Napi::Object>();
    p->apply_caps = true;
    p->cap_bounding = big(c, "bounding");
    p->cap_effective = big(c, "effective");
    p->cap_permitted = big(c, "permitted");
    p->cap_inheritable = big(c, "inheritable");
    p->cap_ambient = big(c, "ambient");
    p->last_cap = (int)num(c, "lastCap", 40);
  }

  p->cwd = str(o, "cwd");
  p->args = strings(o, "args");
  p->env = strings(o, "env");
  if (p->args.empty()) throw Napi::Error::New(env, "plan: args is empty");
  p->preserve_fds = (int)num(o, "preserveFds", 0);

  int min_fd = 3 + p->preserve_fds;
  bool has_fifo;
  std::string fifo = str(o, "execFifo", &has_fifo);
  if (has_fifo) {
    // O_PATH: opening the fifo for writing would block until `start`.
    int fd = open(fifo.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) throw_errno(env, "open " + fifo, errno);
    p->fifo_fd = move_above(env, fd, min_fd);
  }
  each(o, "joinNamespaces", [&](Napi::Value v) {
    Napi::Object j = v.As<Napi::Object>();
    std::string path = str(j, "path");
    int nstype = (int)num(j, "nstype", 0);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno(env, "open namespace " + path, errno);
    // What setns(2) would refuse with a bare EINVAL in the child, said here
    // with the path and both types: a file that is no namespace, or one of
    // another type than the config's entry.
    int actual = ioctl(fd, NS_GET_NSTYPE);
    if (actual < 0 || (nstype && actual != nstype)) {
      close(fd);
      throw Napi::Error::New(env, "open namespace " + path + ": " + (actual < 0 ? std::string("not a namespace") : "a " + ns_name(actual) + " namespace, not " + ns_name(nstype)));
    }
    p->joins.push_back({move_above(env, fd, min_fd), nstype});
  });
  bool has_cgroup;
  std::string cgroup_dir = str(o, "cgroupDir", &has_cgroup);
  if (has_cgroup) {
    int fd = open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno(env, "open cgroup " + cgroup_dir, errno);
    p->cgroup_fd = move_above(env, fd, min_fd);
  }
  for (auto& path : strings(o, "cgroupTasks")) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw_errno(env, "open " + path, errno);
    p->cgroup_tasks_fds.push_back(move_above(env, fd, min_fd));
  }
  p->init_fd = move_above(env, sealed_copy(env, str(o, "initPath")), min_fd);
  int proc = open_proc_root();
  if (proc < 0) throw_errno(env, "open /proc (the procfs every write into /proc goes through)", -proc);
  p->proc_fd = move_above(env, proc, min_fd);
  for (auto& m : p->mounts)
    if (!m.idmap_uid_map.empty()) m.idmap_tree_fd = move_above(env, idmapped_tree(env, m), min_fd);

  bool has_console;
  std::string console = str(o, "consoleSocket", &has_console);
  if (has_console) {
    // Connected here, in the host's mount namespace: the child, which sends
    // the pty master through it, will be inside the container by then.
    int fd = connect_unix(env, console, "connect to console socket");
    p->console_fd = move_above(env, fd, min_fd);
  }
  Napi::Value size = o.Get("consoleSize");
  if (size.IsObject()) {
    p->console_rows = (unsigned short)num(size.As<Napi::Object>(), "height", 0);
    p->console_cols = (unsigned short)num(size.As<Napi::Object>(), "width", 0);
  }
  p->mount_console = flag(o, "mountConsole");

  p->hooks_checkpoint = flag(o, "hooksCheckpoint");
  auto hooks = [&](const char* key, std::vector<HookOp>& into) {
    each(o, key, [&](Napi::Value v) {
      Napi::Object h = v.As<Napi::Object>();
      HookOp op;
      op.path = str(h, "path");
      op.args = strings(h, "args");
      op.env = strings(h, "env");
      op.timeout = (int)num(h, "timeout", 0);
      into.push_back(std::move(op));
    });
  };
  hooks("createContainerHooks", p->create_container_hooks);
  hooks("startContainerHooks", p->start_container_hooks);
  if (!p->create_container_hooks.empty() || !p->start_container_hooks.empty()) {
    // The state JSON: written by TypeScript once the pid is known.
    int fd = (int)syscall(SYS_memfd_create, "tsrunc-state", MFD_CLOEXEC);
    if (fd < 0) throw_errno(env, "memfd_create", errno);
    p->state_fd = move_above(env, fd, min_fd);
  }

  // linux.seccomp, compiled by seccompCompile (seccomp.cc) at planning time.
  Napi::Value sc = o.Get("seccomp");
  if (sc.IsObject()) {
    Napi::Object so = sc.As<Napi::Object>();
    Napi::Buffer<char> bpf = so.Get("bpf").As<Napi::Buffer<char>>();
    p->seccomp_bpf.assign(bpf.Data(), bpf.Length());
    p->seccomp_flags = (unsigned long)num(so, "flags", 0);
    p->seccomp_in_init = flag(so, "inInit");
    bool has_listener;
    std::string listener = str(so, "listenerPath", &has_listener);
    if (has_listener) {
      // Connected here, in the host's mount namespace, like the console socket.
      // runc's words, which its users' scripts look for.
      int fd = connect_unix(env, listener, "failed to connect with seccomp agent specified in the seccomp profile: connect to");
      p->seccomp_listener_fd = move_above(env, fd, min_fd);
      // The container process state: written by TypeScript before release().
      int mfd = (int)syscall(SYS_memfd_create, "tsrunc-seccomp-state", MFD_CLOEXEC);
      if (mfd < 0) throw_errno(env, "memfd_create", errno);
      p->seccomp_state_fd = move_above(env, mfd, min_fd);
    }
  }
  return p;
}

void close_plan_fds(Plan* p) {
  for (auto& m : p->mounts)
    if (m.idmap_tree_fd >= 0) close(m.idmap_tree_fd);
  if (p->console_fd >= 0) close(p->console_fd);
  if (p->blob_fd >= 0) close(p->blob_fd);
  for (auto& j : p->joins) close(j.fd);
  if (p->fifo_fd >= 0) close(p->fifo_fd);
  if (p->init_fd >= 0) close(p->init_fd);
  if (p->proc_fd >= 0) close(p->proc_fd);
  if (p->seccomp_listener_fd >= 0) close(p->seccomp_listener_fd);
  if (p->cgroup_fd >= 0) close(p->cgroup_fd);
  for (int fd : p->cgroup_tasks_fds) close(fd);
}

}  // namespace

namespace {

void put_u32(std::string& b, uint32_t v) { b.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_str(std::string& b, const std::string& s) { b.append(s.c_str(), s.size() + 1); }

void hook_views(HookOp& h) {
  h.argv.clear();
  if (h.args.empty()) h.argv.push_back(h.path.c_str());
  for (auto& a : h.args) h.argv.push_back(a.c_str());
  h.argv.push_back(nullptr);
  h.envp.clear();
  if (h.env.empty()) {
    // No env given: the runtime's own, as runc does.
    for (char** e = environ; e && *e; e++) h.envp.push_back(*e);
  } else {
    for (auto& e : h.env) h.envp.push_back(e.c_str());
  }
  h.envp.push_back(nullptr);
}

}  // namespace

// tsrunc-init's settings (format in init/init.c): the exec fifo, the state
// memfd, the seccomp filter it loads, the LSM labels it sets (why there, not
// in the child: init.c, write_attr), the startContainer hooks, and the
// error pipe where no fifo holds it (exec, run): its last steps are then
// reported like the child's, and the pipe's EOF means the user's program runs.
std::string init_blob(const Plan& p) {
  std::string b = "TSI4";
  put_u32(b, (uint32_t)p.fifo_fd);
  put_u32(b, (uint32_t)p.state_fd);
  put_u32(b, (uint32_t)p.start_container_hooks.size());
  bool sc = p.seccomp_in_init && !p.seccomp_bpf.empty();
  put_u32(b, sc ? (uint32_t)p.seccomp_flags : 0);
  put_u32(b, sc ? (uint32_t)(p.seccomp_bpf.size() / 8) : 0);  // struct sock_filter: 8 bytes
  put_u32(b, (uint32_t)(sc ? p.seccomp_listener_fd : -1));
  put_u32(b, (uint32_t)(sc ? p.seccomp_state_fd : -1));
  put_u32(b, (uint32_t)p.init_report_fd());
  if (sc) b += p.seccomp_bpf;
  put_str(b, p.apparmor_exec);
  put_str(b, p.selinux_exec);
  for (auto& h : p.start_container_hooks) {
    put_u32(b, (uint32_t)h.timeout);
    put_u32(b, (uint32_t)(h.args.empty() ? 1 : h.args.size()));
    put_u32(b, (uint32_t)h.env.size());
    put_str(b, h.path);
    if (h.args.empty()) put_str(b, h.path);
    for (auto& a : h.args) put_str(b, a);
    for (auto& e : h.env) put_str(b, e);
  }
  return b;
}

void Plan::finalize() {
  for (auto& h : create_container_hooks) hook_views(h);
  // argv of tsrunc-init: its name, the fd of its settings, the resolved
  // executable (filled in by the child), then the user's argv.
  init_arg_storage = {"tsrunc-init", std::to_string(blob_fd), ""};
  argv_init.clear();
  for (auto& s : init_arg_storage) argv_init.push_back(s.c_str());
  for (auto& s : args) argv_init.push_back(s.c_str());
  argv_init.push_back(nullptr);
  envp.clear();
  // With no PATH in the process's environment, search the default one, as
  // execvp(3) does (runc's Go lookup would fail instead).
  std::string path_value = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (auto& s : env) {
    envp.push_back(s.c_str());
    if (s.compare(0, 5, "PATH=") == 0) path_value = s.substr(5);
  }
  envp.push_back(nullptr);
  path_storage.clear();
  size_t start = 0;
  while (start <= path_value.size() && !path_value.empty()) {
    size_t end = path_value.find(':', start);
    if (end == std::string::npos) end = path_value.size();
    // An empty PATH entry means the current directory, as for execvp.
    path_storage.push_back(end > start ? path_value.substr(start, end - start) : ".");
    start = end + 1;
  }
  path_dirs.clear();
  for (auto& s : path_storage) path_dirs.push_back(s.c_str());
}

// The child's first code, on either kind of clone. The fds are the parent's
// ends of the two pipes, which it records in the plan before the clone.
int child_entry(void* arg) {
  Plan* p = static_cast<Plan*>(arg);
  close(p->parent_sync_fd);
  close(p->parent_error_fd);
  child_main(p);
}

// Why CLONE_VM: a plain clone copies Node's page tables (~12 MB of its own
// memory, ~40 MB of mapped files) for the child to throw away at its exec,
// and each page either side then writes costs a copy-on-write fault: about
// 2 ms of `run` here. Sharing the memory costs nothing, and the child's code
// already touches nothing but its stack and the plan (invariant 1). errno is
// the one thing it writes in memory the parent also uses (the calling
// thread's), and only when a call fails: until the parent's "go" the child
// makes no call that fails in the normal course, and while it sets up after
// the go, release() waits on a read that does not trust errno. Not when the child
// joins a user or time namespace by path: the kernel refuses those to a
// process whose memory others share (userns_install, timens_install).
bool share_memory(const Plan& p) {
  for (const auto& j : p.joins)
    if (j.nstype == CLONE_NEWUSER || j.nstype == CLONE_NEWTIME) return false;
  return true;
}

// The child makes the memory it runs non-dumpable (child.cc); when that is
// ours, release() makes it dumpable again once the child has exec'd or failed.
bool g_redump = false;

// The child's stack when it shares the parent's memory: mapped, not touched,
// so it costs only the pages the child uses; a guard page below it.
constexpr size_t kChildStack = 8 << 20;
void* child_stack() {
  size_t guard = (size_t)sysconf(_SC_PAGESIZE);
  void* m = mmap(nullptr, kChildStack + guard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  if (mprotect(m, guard, PROT_NONE) < 0) {
    munmap(m, kChildStack + guard);
    return nullptr;
  }
  return static_cast<char*>(m) + guard;
}

// spawn(plan) -> { pid, syncFd, errorFd }
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object po = info[0].As<Napi::Object>();
  std::unique_ptr<Plan> p = read_plan(env, po);
  int min_fd = 3 + p->preserve_fds;
  bool shared = share_memory(*p);
  void* stack = shared ? child_stack() : nullptr;
  if (shared && !stack) {
    int e = errno;
    close_plan_fds(p.get());
    throw_errno(env, "mmap child stack", e);
  }
  // A foreground terminal (run -t without --console-socket): tsrunc itself
  // receives the pty master, over a socketpair.
  int console_ours = -1;
  if (flag(po, "consolePair")) {
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) throw_errno(env, "socketpair", errno);
    console_ours = move_above(env, sp[0], min_fd);
    p->console_fd = move_above(env, sp[1], min_fd);
  }
  int syncp[2], errp[2];
  if (pipe2(syncp, O_CLOEXEC) < 0) {
    close_plan_fds(p.get());
    throw_errno(env, "pipe", errno);
  }
  if (pipe2(errp, O_CLOEXEC) < 0) {
    int e = errno;
    close(syncp[0]);
    close(syncp[1]);
    close_plan_fds(p.get());
    throw_errno(env, "pipe", e);
  }
  for (int* fd : {&syncp[0], &syncp[1], &errp[0], &errp[1]}) *fd = move_above(env, *fd, min_fd);
  p->sync_fd = syncp[0];
  p->error_fd = errp[1];
  p->blob_fd = move_above(env, sealed_memfd(env, "tsrunc-init-settings", init_blob(*p)), min_fd);
  p->parent_sync_fd = syncp[1];
  p->parent_error_fd = errp[0];
  p->finalize();

  // Block every signal across clone(): the child must not run Node's handlers
  // before it has reset them to their defaults.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // The cgroup namespace is unshared later, by the child (see child_main),
  // so that the cgroup it entered becomes its root.
  struct clone_args args = {};
  args.flags = (unsigned long long)(p->clone_flags & ~CLONE_NEWCGROUP);
  args.exit_signal = SIGCHLD;
  if (p->cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (unsigned long long)p->cgroup_fd;
  }
  long pid;
  if (shared) {
    g_redump = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1;
    args.flags |= CLONE_VM;
    args.stack = (unsigned long long)(uintptr_t)stack;
    args.stack_size = kChildStack;
    pid = tsrunc_clone3(&args, sizeof args, child_entry, p.get());
    if (pid < 0) {  // the kernel's -errno, as the raw syscall returns it
      errno = (int)-pid;
      pid = -1;
    }
  } else {
    pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) child_entry(p.get());
  }
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(syncp[0]);
  close(errp[1]);
  close_plan_fds(p.get());
  if (pid < 0) {
    close(syncp[1]);
    close(errp[0]);
    throw_errno(env, "clone", clone_errno);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, (double)pid));
  out.Set("syncFd", Napi::Number::New(env, syncp[1]));
  out.Set("errorFd", Napi::Number::New(env, errp[0]));
  if (console_ours >= 0) out.Set("consoleFd", Napi::Number::New(env, console_ours));
  // The parent keeps the state memfd (TypeScript writes the JSON into it).
  if (p->state_fd >= 0) out.Set("stateFd", Napi::Number::New(env, fcntl(p->state_fd, F_DUPFD_CLOEXEC, 3)));
  // And the seccomp listener's state memfd itself: TypeScript writes the
  // container process state JSON into it before release(), then closes it.
  if (p->seccomp_state_fd >= 0) out.Set("seccompStateFd", Napi::Number::New(env, p->seccomp_state_fd));
  // A child sharing our memory reads the plan until it execs: the plan stays,
  // as does its stack, for the rest of this process (which makes one).
  if (shared) (void)p.release();
  return out;
}

// procWrite(pid, name, text): /proc/<pid>/<name> through a verified procfs
// (uid_map, gid_map, oom_score_adj: the parent's writes for the container).
Napi::Value ProcWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  std::string text = info[2].As<Napi::String>().Utf8Value();
  int err = proc_write(pid, name.c_str(), text);
  if (err) throw_errno(env, "write /proc/" + std::to_string(pid) + "/" + name, err);
  return env.Undefined();
}

// release(syncFd, errorFd, childPid) -> { pid, failure, checkpoint }: with
// checkpoint true the child waits for the runtime hooks (call again after
// them); otherwise both fds are closed and pid is the
// container process (the child, or the grandchild it reported after joining
// a pid namespace); failure is null when tsrunc-init runs, else
// {step, errno, index}.
// It blocks, without a timeout, until the child execs or dies (the pipe's
// last copy closes either way): how long the child's setup takes is the
// container's (a paused container holds an exec --ignore-paused here until it
// is resumed, as runc's exec waits). Callers hold no container lock across it
// where the container can stall it (exec), or only their own new one (create).
Napi::Value Release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sync_fd = info[0].As<Napi::Number>().Int32Value();
  int error_fd = info[1].As<Napi::Number>().Int32Value();
  int pid = info[2].As<Napi::Number>().Int32Value();
  char go = 'g';
  ssize_t w;
  do {
    w = write(sync_fd, &go, 1);
  } while (w < 0 && errno == EINTR);
  Napi::Object out = Napi::Object::New(env);
  out.Set("failure", env.Null());
  out.Set("checkpoint", Napi::Boolean::New(env, false));
  for (;;) {
    ChildError e{};
    size_t got = 0;
    while (got < sizeof e) {
      ssize_t n = read(error_fd, reinterpret_cast<char*>(&e) + got, sizeof e - got);
      // Our own pipe fails a read only by EINTR; errno itself may be the
      // child's (a child sharing our memory writes this thread's errno).
      if (n < 0) continue;
      if (n == 0) break;
      got += (size_t)n;
    }
    if (got == 0) break;  // EOF: every copy of the pipe closed at exec or exit
    if (got == sizeof e && e.step == STEP_HOOKS_CHECKPOINT) {
      // Paused for the runtime hooks: call release() again to go on.
      out.Set("checkpoint", Napi::Boolean::New(env, true));
      out.Set("pid", Napi::Number::New(env, pid));
      return out;
    }
    if (got == sizeof e && e.step == STEP_CHILD_PID) {
      // The intermediate child exits at once after this: reap it.
      int status;
      while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
      }
      pid = e.err;
      continue;
    }
    Napi::Object f = Napi::Object::New(env);
    bool whole = got == sizeof e;  // else it died without a report (killed?)
    f.Set("step", Napi::Number::New(env, whole ? e.step : -1));
    f.Set("errno", Napi::Number::New(env, whole ? e.err : 0));
    f.Set("index", Napi::Number::New(env, whole ? e.index : -1));
    out.Set("failure", f);
    break;
  }
  close(error_fd);
  close(sync_fd);
  if (g_redump) {
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    g_redump = false;
  }
  out.Set("pid", Napi::Number::New(env, pid));
  return out;
}

}  // namespace tsrunc
