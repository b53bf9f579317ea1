// The container's init between clone() and the exec of tsrunc-init.
//
// This code runs in a child cloned from a multithreaded Node process: other
// threads' locks (malloc's, stdio's) may be held forever, so everything here is
// async-signal-safe. Only syscalls, stack buffers and reads of the prepared
// Plan. On failure the child writes {step, errno, index} to the error pipe and
// exits; on success the exec closes the (O_CLOEXEC) pipe and the parent reads EOF.
//
// Usually the child shares Node's memory (CLONE_VM, see spawn.cc), on a stack
// of its own, until its exec: what it writes in memory is its stack, g_plan,
// g_fd_dir, the plan's argv slot for the executable it resolved and its
// mounts' source_fd (the parent reads the plan no more), and the calling
// thread's errno (see spawn.cc, share_memory).
//
// procfs: the child never trusts a path under /proc. The container's /proc is
// whatever its mounts put there (a host directory bound over it, reached
// through a symlink an earlier mount planted, ...): a sysctl, an LSM label or
// a mount through /proc/self/fd/N would go where that says. Everything goes
// below plan->proc_fd instead, the host's procfs root, opened and verified by
// the parent, walked without crossing a mount and checked to land on procfs.
// Raw syscalls for set*id: glibc's wrappers would signal the threads of the
// process whose memory this is.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <linux/keyctl.h>
#include <dirent.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdpass.h"
#include "plan.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace tsrunc {

const char* const kStepNames[STEP_COUNT] = {
#define X(id, name) name,
    TSRUNC_STEPS(X)
#undef X
};

namespace {

constexpr int kPathMax = 4096;

Plan* g_plan;
// The verified /proc/self/fd of this process (see fd_ref), opened on first use
// (after the fork into a joined pid namespace, so "self" is the right process).
int g_fd_dir;

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

[[noreturn]] void fail(int step, int index = -1, int err = -1) {
  ChildError e{step, err < 0 ? errno : err, index};
  // A short write to a pipe of 12 bytes is atomic; nothing else to do if it fails.
  ssize_t n = write(g_plan->error_fd, &e, sizeof e);
  (void)n;
  _exit(1);
}

size_t slen(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

// Appends src to dst (capacity kPathMax); false when it does not fit.
bool append(char* dst, size_t* len, const char* src, size_t n) {
  if (*len + n + 1 > kPathMax) return false;
  for (size_t i = 0; i < n; i++) dst[*len + i] = src[i];
  *len += n;
  dst[*len] = 0;
  return true;
}

// Opens `rel` below the host's procfs root (plan->proc_fd): no symlink out of
// it, no magic link, no mount crossed, and the file must be on procfs.
// Returns -1 with errno set (EXDEV: not procfs) on failure.
int proc_open(const char* rel, int flags) {
  struct open_how how = {};
  how.flags = (unsigned long long)(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = (int)syscall(SYS_openat2, g_plan->proc_fd, rel, &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  if (fd < 0) return -1;
  struct statfs st;
  if (fstatfs(fd, &st) < 0 || st.f_type != PROC_SUPER_MAGIC) {
    close(fd);
    errno = EXDEV;
    return -1;
  }
  return fd;
}

// fd in decimal, into buf (>= 12 bytes).
const char* fd_ref_name(char* buf, int fd) {
  char digits[12];
  int d = 0, n = 0;
  unsigned v = (unsigned)fd;
  do {
    digits[d++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (d) buf[n++] = digits[--d];
  buf[n] = 0;
  return buf;
}

// The name of fd for mount(2) and friends, which take paths: "<fd>", relative
// to a cwd that is this process's verified /proc/self/fd (so it follows that
// fd's magic link, never the container's /proc). Callers keep no other
// relative path in use: the cwd stays there until the next fchdir/chdir, and
// paths in the root are opened from kRoot, not AT_FDCWD.
const char* fd_ref(char* buf, int fd) {
  if (g_fd_dir < 0) {
    g_fd_dir = proc_open("self/fd", O_PATH | O_DIRECTORY);
    if (g_fd_dir < 0) fail(STEP_PROCFS, 0);
  }
  if (fchdir(g_fd_dir) < 0) fail(STEP_PROCFS, 0);
  return fd_ref_name(buf, fd);
}

// Opens `path` (absolute inside the container) relative to the rootfs,
// resolving every symlink and ".." as if rootfs were "/" (CVE-2021-30465):
// nothing can lead the open out of the container's root.
// kRoot as rootfd: the process's root ("/"), whatever its cwd (fd_ref moves it).
constexpr int kRoot = -1000;

int open_in_root(int rootfd, const char* path, int flags) {
  struct open_how how = {};
  how.flags = (unsigned long long)(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int own = -1;
  if (rootfd == kRoot) {
    own = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (own < 0) return -1;
    rootfd = own;
  }
  while (*path == '/') path++;
  if (!*path) path = ".";
  int fd;
  do {
    fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  if (own >= 0) {
    int e = errno;
    close(own);
    errno = e;
  }
  return fd;
}

// Splits path into its parent (opened, created as needed) and last component.
// Returns the parent's fd; *base points into path.
int open_parent_in_root(int rootfd, const char* path, const char** base, int step, int index);

// mkdir -p inside the root. Each component is created at a parent resolved in
// the root, so a symlink planted along the way cannot redirect the mkdir.
void mkdir_all_in_root(int rootfd, const char* path, int step, int index) {
  char prefix[kPathMax];
  size_t len = 0;
  prefix[0] = 0;
  const char* p = path;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char* start = p;
    while (*p && *p != '/') p++;
    size_t parent_len = len;
    if (!append(prefix, &len, "/", 1) || !append(prefix, &len, start, (size_t)(p - start)))
      fail(step, index, ENAMETOOLONG);
    int fd = open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
    if (fd >= 0) {
      close(fd);
      continue;
    }
    if (errno != ENOENT) fail(step, index);
    // Cut the prefix at the parent to open it; the component follows the '/'.
    prefix[parent_len] = 0;
    int parent = open_in_root(rootfd, parent_len ? prefix : "/", O_PATH | O_DIRECTORY);
    prefix[parent_len] = '/';
    if (parent < 0) fail(step, index);
    if (mkdirat(parent, prefix + parent_len + 1, 0755) < 0 && errno != EEXIST) fail(step, index);
    close(parent);
  }
}

int open_parent_in_root(int rootfd, const char* path, const char** base, int step, int index) {
  char parent[kPathMax];
  size_t n = slen(path);
  while (n > 1 && path[n - 1] == '/') n--;  // trailing slashes
  size_t cut = n;
  while (cut > 0 && path[cut - 1] != '/') cut--;
  *base = path + cut;
  size_t plen = 0;
  parent[0] = 0;
  if (!append(parent, &plen, path, cut)) fail(step, index, ENAMETOOLONG);
  if (plen == 0) append(parent, &plen, "/", 1);
  mkdir_all_in_root(rootfd, parent, step, index);
  int fd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
  if (fd < 0) fail(step, index);
  return fd;
}

// Copies the last component (it may carry trailing slashes) into out.
void base_name(const char* base, char* out) {
  size_t i = 0;
  while (base[i] && base[i] != '/' && i < kPathMax - 1) {
    out[i] = base[i];
    i++;
  }
  out[i] = 0;
}

// Makes sure a mount target exists inside the root: a directory, or an empty
// file when a file is bind-mounted. Returns an O_PATH fd to it; *created
// says whether it had to be made.
int make_target(int rootfd, const char* target, bool dir, int step, int index, bool* created = nullptr) {
  int fd = open_in_root(rootfd, target, O_PATH);
  if (created) *created = fd < 0;
  if (fd >= 0) return fd;
  if (errno != ENOENT) fail(step, index);
  const char* base;
  int parent = open_parent_in_root(rootfd, target, &base, step, index);
  char name[kPathMax];
  base_name(base, name);
  if (dir) {
    if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) fail(step, index);
  } else {
    int f = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0 && errno != EEXIST) fail(step, index);
    if (f >= 0) close(f);
  }
  close(parent);
  fd = open_in_root(rootfd, target, O_PATH);
  if (fd < 0) fail(step, index);
  return fd;
}

// Mount flags that a bind remount must keep: in a user namespace the kernel
// refuses to clear nosuid/nodev/noexec/atime flags locked on the source.
unsigned long locked_flags(const char* path) {
  struct statfs st;
  if (statfs(path, &st) < 0) return 0;
  unsigned long f = 0;
  if (st.f_flags & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flags & ST_NODEV) f |= MS_NODEV;
  if (st.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flags & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flags & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flags & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

// From <linux/mount.h>, which clashes with glibc's <sys/mount.h>.
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

struct MountAttr {
  unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

int bind_remount(const char* path, unsigned long flags) {
  unsigned long base = MS_REMOUNT | MS_BIND;
  if (mount(nullptr, path, nullptr, base | flags, nullptr) == 0) return 0;
  if (errno != EPERM) return -1;
  return mount(nullptr, path, nullptr, base | flags | locked_flags(path), nullptr);
}

// Whether a comma-separated fs option list has an option starting so.
bool has_option(const std::string& data, const char* prefix) {
  size_t n = slen(prefix);
  for (size_t i = 0; i + n <= data.size(); i++)
    if ((i == 0 || data[i - 1] == ',') && data.compare(i, n, prefix) == 0) return true;
  return false;
}

// tmpcopyup: copies the tree at `from` (a directory fd) into `to`, keeping
// modes, owners and symlinks. Stack buffers only; depth is bounded.
void copy_tree(int from, int to, int depth, int idx) {
  if (depth > 32) fail(STEP_TMPCOPYUP, idx, ELOOP);
  char buf[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, from, buf, sizeof buf);
    if (n < 0) fail(STEP_TMPCOPYUP, idx);
    if (n == 0) break;
    for (long off = 0; off < n;) {
      struct linux_dirent64 {
        unsigned long long d_ino;
        long long d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
      }* d = reinterpret_cast<linux_dirent64*>(buf + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]))) continue;
      struct stat st;
      if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) fail(STEP_TMPCOPYUP, idx);
      if (S_ISDIR(st.st_mode)) {
        if (mkdirat(to, name, st.st_mode & 07777) < 0 && errno != EEXIST) fail(STEP_TMPCOPYUP, idx);
        int sf = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int tf = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sf < 0 || tf < 0) fail(STEP_TMPCOPYUP, idx);
        copy_tree(sf, tf, depth + 1, idx);
        close(sf);
        close(tf);
      } else if (S_ISREG(st.st_mode)) {
        int sf = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int tf = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
        if (sf < 0 || tf < 0) fail(STEP_TMPCOPYUP, idx);
        char data[8192];
        ssize_t r;
        while ((r = read(sf, data, sizeof data)) > 0)
          if (write(tf, data, (size_t)r) != r) fail(STEP_TMPCOPYUP, idx);
        if (r < 0) fail(STEP_TMPCOPYUP, idx);
        close(sf);
        close(tf);
      } else if (S_ISLNK(st.st_mode)) {
        char target[kPathMax];
        ssize_t len = readlinkat(from, name, target, sizeof target - 1);
        if (len < 0) fail(STEP_TMPCOPYUP, idx);
        target[len] = 0;
        if (symlinkat(target, to, name) < 0) fail(STEP_TMPCOPYUP, idx);
      } else {
        if (mknodat(to, name, st.st_mode, st.st_rdev) < 0) fail(STEP_TMPCOPYUP, idx);
      }
      if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) fail(STEP_TMPCOPYUP, idx);
      if (!S_ISLNK(st.st_mode) && fchmodat(to, name, st.st_mode & 07777, 0) < 0) fail(STEP_TMPCOPYUP, idx);
    }
  }
}

void do_mounts(Plan* p, int rootfd) {
  char tpath[32], spath[32];
  for (size_t i = 0; i < p->mounts.size(); i++) {
    const MountOp& m = p->mounts[i];
    int idx = (int)i;
    bool dir = true;
    if (m.bind) {
      struct stat st;
      if (m.idmap_tree_fd >= 0 ? fstat(m.idmap_tree_fd, &st) < 0 : fstat(m.source_fd, &st) < 0) fail(STEP_MOUNT, idx);
      dir = S_ISDIR(st.st_mode);
    } else if (m.has_type && (m.fstype == "proc" || m.fstype == "sysfs")) {
      // Only ever on a directory: a symlink there (or a file) is refused, as
      // runc refuses it, rather than followed to wherever it points.
      int existing = open_in_root(rootfd, m.target.c_str(), O_PATH | O_NOFOLLOW);
      struct stat st;
      if (existing >= 0 && (fstat(existing, &st) < 0 || !S_ISDIR(st.st_mode))) fail(STEP_MOUNT_TARGET, idx, ENOTDIR);
      if (existing >= 0) close(existing);
    }
    bool created = false;
    int tfd = make_target(rootfd, m.target.c_str(), dir, STEP_MOUNT_TARGET, idx, &created);
    // tmpcopyup: hold on to what the tmpfs will cover, to copy it over after.
    int below = m.copy_up ? open_in_root(rootfd, m.target.c_str(), O_RDONLY | O_DIRECTORY) : -1;
    if (m.copy_up && below < 0) fail(STEP_TMPCOPYUP, idx);
    if (m.idmap_tree_fd >= 0) {
      if (syscall(SYS_move_mount, m.idmap_tree_fd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        fail(STEP_IDMAP, idx);
      close(m.idmap_tree_fd);
    } else if (m.bind) {
      // From the fd opened before the user switch (see MountOp::source_fd).
      if (mount(fd_ref(spath, m.source_fd), fd_ref(tpath, tfd), nullptr, m.flags, nullptr) < 0) fail(STEP_MOUNT, idx);
      close(m.source_fd);
    } else if (mount(m.has_source ? m.source.c_str() : nullptr, fd_ref(tpath, tfd),
                     m.has_type ? m.fstype.c_str() : nullptr, m.flags,
                     m.has_data ? m.data.c_str() : nullptr) < 0) {
      fail(STEP_MOUNT, idx);
    }
    close(tfd);
    if (below >= 0) {
      int above = open_in_root(rootfd, m.target.c_str(), O_RDONLY | O_DIRECTORY);
      if (above < 0) fail(STEP_TMPCOPYUP, idx);
      copy_tree(below, above, 0, idx);
      struct stat st;
      // A directory that was there lends the tmpfs its owner and mode (runc),
      // unless the mount says its own mode= (podman makes its mountpoints
      // 0755 before calling the runtime, and means --tmpfs ...:mode=1777).
      if (!created && !has_option(m.data, "mode=") && fstat(below, &st) == 0) {
        if (fchown(above, st.st_uid, st.st_gid) < 0 || fchmod(above, st.st_mode & 07777) < 0) fail(STEP_TMPCOPYUP, idx);
      }
      close(above);
      close(below);
    }
    if (!m.bind && m.propagation.empty() && !m.attr_set && !m.attr_clr) continue;
    // Re-open: the fd above names the directory under the new mount.
    tfd = open_in_root(rootfd, m.target.c_str(), O_PATH);
    if (tfd < 0) fail(STEP_MOUNT_REMOUNT, idx);
    fd_ref(spath, tfd);
    if (m.bind && m.remount && bind_remount(spath, m.remount) < 0) fail(STEP_MOUNT_REMOUNT, idx);
    for (unsigned long prop : m.propagation)
      if (mount(nullptr, spath, nullptr, prop, nullptr) < 0) fail(STEP_MOUNT_PROPAGATION, idx);
    if (m.attr_set || m.attr_clr) {
      MountAttr a = {m.attr_set, m.attr_clr, 0, 0};
      if (syscall(SYS_mount_setattr, tfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
        fail(STEP_MOUNT_ATTR, idx);
    }
    close(tfd);
  }
}

void do_devices(Plan* p, int rootfd) {
  char name[kPathMax], tpath[32];
  for (size_t i = 0; i < p->devices.size(); i++) {
    const DeviceOp& d = p->devices[i];
    int idx = (int)i;
    const char* base;
    int parent = open_parent_in_root(rootfd, d.path.c_str(), &base, STEP_DEVICE, idx);
    base_name(base, name);
    if (d.bind) {
      int f = openat(parent, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (f < 0) fail(STEP_DEVICE, idx);
      close(f);
      int tfd = open_in_root(rootfd, d.path.c_str(), O_PATH | O_NOFOLLOW);
      if (tfd < 0) fail(STEP_DEVICE, idx);
      if (mount(d.path.c_str(), fd_ref(tpath, tfd), nullptr, MS_BIND, nullptr) < 0)
        fail(STEP_DEVICE, idx);
      close(tfd);
    } else {
      // A leftover node (or anything else) in the way is replaced.
      if (unlinkat(parent, name, 0) < 0 && errno != ENOENT) fail(STEP_DEVICE, idx);
      if (mknodat(parent, name, d.mode, d.dev) < 0) fail(STEP_DEVICE, idx);
      if (fchownat(parent, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0) fail(STEP_DEVICE, idx);
    }
    close(parent);
  }
  for (size_t i = 0; i < p->symlinks.size(); i++) {
    const SymlinkOp& s = p->symlinks[i];
    const char* base;
    int parent = open_parent_in_root(rootfd, s.path.c_str(), &base, STEP_SYMLINK, (int)i);
    base_name(base, name);
    if (symlinkat(s.target.c_str(), parent, name) < 0 && errno != EEXIST) fail(STEP_SYMLINK, (int)i);
    close(parent);
  }
}

void enter_root(Plan* p, int rootfd) {
  if (fchdir(rootfd) < 0) fail(STEP_PIVOT_ROOT);
  if (p->no_pivot) {
    // The host's full proc and sysfs mounts stay in this mount namespace,
    // outside the chroot: detach them (or cover them where that is refused),
    // so that no process of the container can reach them, nor mount a new
    // proc or sysfs on the strength of their being visible (runc 1.1.5).
    for (size_t i = 0; i < p->no_pivot_hide.size(); i++) {
      const char* path = p->no_pivot_hide[i].c_str();
      // A parent detached before took it along: nothing left to do.
      if (mount(nullptr, path, nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
        if (errno == ENOENT || errno == EINVAL) continue;
        fail(STEP_UMOUNT_OLD_ROOT, (int)i);
      }
      if (umount2(path, MNT_DETACH) < 0) {
        if (errno != EINVAL && errno != EPERM) fail(STEP_UMOUNT_OLD_ROOT, (int)i);
        if (mount("tmpfs", path, "tmpfs", 0, nullptr) < 0) fail(STEP_UMOUNT_OLD_ROOT, (int)i);
      }
    }
    if (fchdir(rootfd) < 0) fail(STEP_PIVOT_ROOT);
    if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) fail(STEP_PIVOT_ROOT);
    if (chroot(".") < 0) fail(STEP_PIVOT_ROOT);
  } else {
    // pivot_root(".", ".") stacks the old root on top of the new one; after
    // making it a slave (so the detach cannot propagate to the host) it is
    // lazily unmounted, leaving no path back to the host's filesystem. The
    // cwd is not reliably the old root after the pivot: an fd of it says.
    int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (oldroot < 0) fail(STEP_PIVOT_ROOT);
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail(STEP_PIVOT_ROOT);
    if (fchdir(oldroot) < 0) fail(STEP_UMOUNT_OLD_ROOT);
    close(oldroot);
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) fail(STEP_UMOUNT_OLD_ROOT);
    if (umount2(".", MNT_DETACH) < 0) fail(STEP_UMOUNT_OLD_ROOT);
  }
  if (chdir("/") < 0) fail(STEP_PIVOT_ROOT);
}

// maskedPaths: directories get an empty read-only tmpfs, anything else
// /dev/null. The /dev/null used is checked to really be the 1:3 character
// device, so a container that swapped it for a symlink or a file cannot turn
// the mask into a bind of something else (CVE-2025-31133).
void do_masks(Plan* p) {
  char tpath[32], npath[32];
  int nullfd = -1;
  for (size_t i = 0; i < p->masked_paths.size(); i++) {
    int idx = (int)i;
    int tfd = open_in_root(kRoot, p->masked_paths[i].c_str(), O_PATH | O_NOFOLLOW);
    if (tfd < 0) {
      if (errno == ENOENT) continue;
      fail(STEP_MASK_PATH, idx);
    }
    struct stat st;
    if (fstat(tfd, &st) < 0) fail(STEP_MASK_PATH, idx);
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", fd_ref(tpath, tfd), "tmpfs", MS_RDONLY, "size=0k,mode=0555") < 0)
        fail(STEP_MASK_PATH, idx);
    } else {
      if (nullfd < 0) {
        nullfd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat ns;
        if (nullfd < 0 || fstat(nullfd, &ns) < 0) fail(STEP_MASK_PATH, idx);
        if (!S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3)) fail(STEP_MASK_PATH, idx, EXDEV);
      }
      if (mount(fd_ref(npath, nullfd), fd_ref(tpath, tfd), nullptr, MS_BIND, nullptr) < 0)
        fail(STEP_MASK_PATH, idx);
    }
    close(tfd);
  }
  if (nullfd >= 0) close(nullfd);
}

void do_readonly_paths(Plan* p) {
  char tpath[32];
  for (size_t i = 0; i < p->readonly_paths.size(); i++) {
    int idx = (int)i;
    const char* path = p->readonly_paths[i].c_str();
    int tfd = open_in_root(kRoot, path, O_PATH | O_NOFOLLOW);
    if (tfd < 0) {
      if (errno == ENOENT) continue;
      fail(STEP_READONLY_PATH, idx);
    }
    if (mount(fd_ref(tpath, tfd), tpath, nullptr, MS_BIND | MS_REC, nullptr) < 0)
      fail(STEP_READONLY_PATH, idx);
    close(tfd);
    tfd = open_in_root(kRoot, path, O_PATH | O_NOFOLLOW);
    if (tfd < 0) fail(STEP_READONLY_PATH, idx);
    if (bind_remount(fd_ref(tpath, tfd), MS_RDONLY | MS_REC) < 0) fail(STEP_READONLY_PATH, idx);
    close(tfd);
  }
}

// Through the host's procfs (proc_open), not the container's /proc: a sysctl
// belongs to the namespaces of the process that writes it, whichever procfs
// instance the file is opened in.
void do_sysctls(Plan* p) {
  for (size_t i = 0; i < p->sysctls.size(); i++) {
    const SysctlOp& s = p->sysctls[i];
    const char* rel = s.path.c_str();
    if (s.path.compare(0, 6, "/proc/") != 0) fail(STEP_SYSCTL, (int)i, EINVAL);
    int fd = proc_open(rel + 6, O_WRONLY | O_NOFOLLOW);
    if (fd < 0) fail(STEP_SYSCTL, (int)i);
    if (write(fd, s.value.data(), s.value.size()) < 0) fail(STEP_SYSCTL, (int)i);
    close(fd);
  }
}

// CAP_SYS_ADMIN: what seccomp(2) needs without no_new_privs.
constexpr int kCapSysAdmin = 21;

void set_caps(Plan* p, uint64_t extra) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  for (int w = 0; w < 2; w++) {
    data[w].effective = (uint32_t)((p->cap_effective | extra) >> (32 * w));
    data[w].permitted = (uint32_t)((p->cap_permitted | extra) >> (32 * w));
    data[w].inheritable = (uint32_t)(p->cap_inheritable >> (32 * w));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) fail(STEP_CAPS);
}

// The user and capabilities of the process. `keep`: capabilities it holds on
// to beyond the config's effective and permitted sets (CAP_SYS_ADMIN while
// the child still has a seccomp filter to load; the exec drops it).
void do_user(Plan* p, uint64_t keep) {
  if (p->apply_caps) {
    for (int c = 0; c <= p->last_cap; c++)
      if (!(p->cap_bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        fail(STEP_CAPS, c);
    // Keep the permitted set across setuid; it is trimmed to the config's just after.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(STEP_CAPS);
  }
  if (p->set_user) {
    // Raw syscalls: glibc's setgroups/setres[ug]id signal every thread of the
    // process (__nptl_setxid) and wait for them, which in a child cloned from
    // multithreaded Node waits forever.
    if (syscall(SYS_setgroups, p->additional_gids.size(), p->additional_gids.data()) < 0 && errno != EPERM)
      fail(STEP_SETGROUPS);
    if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0) fail(STEP_SETGID);
    if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0) fail(STEP_SETUID);
  }
  if (p->apply_caps) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(STEP_CAPS);
    set_caps(p, keep);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) fail(STEP_CAPS);
    for (int c = 0; c <= p->last_cap; c++)
      if ((p->cap_ambient & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
        fail(STEP_CAPS, c);
  }
}

// Finds args[0] like execvp would, so that a missing binary fails `create`
// (as runc does) instead of the container after `start`.
void lookup(Plan* p, char* out) {
  const char* name = p->args[0].c_str();
  size_t len = 0;
  out[0] = 0;
  struct stat st;
  bool has_slash = false;
  for (const char* c = name; *c; c++) has_slash |= (*c == '/');
  if (has_slash) {
    if (!append(out, &len, name, slen(name))) fail(STEP_LOOKUP, -1, ENAMETOOLONG);
    if (stat(out, &st) < 0) fail(STEP_LOOKUP);
    if (S_ISDIR(st.st_mode)) fail(STEP_LOOKUP, -1, EISDIR);
    return;
  }
  for (const char* dir : p->path_dirs) {
    len = 0;
    out[0] = 0;
    if (!append(out, &len, dir, slen(dir)) || !append(out, &len, "/", 1) ||
        !append(out, &len, name, slen(name)))
      continue;
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && faccessat(AT_FDCWD, out, X_OK, AT_EACCESS) == 0)
      return;
  }
  fail(STEP_LOOKUP, -1, ENOENT);
}

// The pty is opened in the container (its /dev/ptmx, its devpts), so the
// slave's name means the same inside and outside; only the master leaves.
void setup_console(Plan* p) {
  char tpath[32], spath[32];
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(STEP_CONSOLE);
  int unlock = 0, n = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) fail(STEP_CONSOLE);
  char slave_path[32] = "/dev/pts/";
  size_t len = 9;
  char digits[12];
  int d = 0;
  do {
    digits[d++] = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  while (d) slave_path[len++] = digits[--d];
  slave_path[len] = 0;
  int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail(STEP_CONSOLE);
  // The terminal belongs to the process's user, as runc's fixStdioPermissions
  // makes it: the uid only (devpts's gid=5 stays), and not where the kernel
  // refuses (a uid unmapped in the user namespace, a read-only /dev).
  struct stat sst;
  if (p->set_user && fstat(slave, &sst) == 0 && sst.st_uid != p->uid &&
      fchown(slave, p->uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
    fail(STEP_CONSOLE);
  if (p->console_rows || p->console_cols) {
    struct winsize ws = {};
    ws.ws_row = p->console_rows;
    ws.ws_col = p->console_cols;
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) fail(STEP_CONSOLE);
  }
  // runc sends the pty's name as the message body; engines ignore or log it.
  int err = send_with_fd(p->console_fd, slave_path, len, master);
  if (err) fail(STEP_CONSOLE, -1, err);
  close(master);
  close(p->console_fd);
  if (p->mount_console) {
    // /dev/console must be what it claims: a file or a device node we can
    // mount over, never a symlink planted to redirect the bind (CVE-2025-52565).
    int f = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (f >= 0) close(f);
    int tfd = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (tfd < 0 || fstat(tfd, &st) < 0) fail(STEP_CONSOLE);
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) fail(STEP_CONSOLE, -1, ELOOP);
    if (mount(fd_ref(spath, slave), fd_ref(tpath, tfd), nullptr, MS_BIND, nullptr) < 0) fail(STEP_CONSOLE);
    close(tfd);
  }
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail(STEP_CONSOLE);
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) fail(STEP_CONSOLE);
  if (slave > 2) close(slave);
}

// Runs one hook: state on stdin (a fresh open, so each reads from the start),
// stdout to stderr (the container's stdout is not the hook's), a timeout
// watched through a pidfd. Fails the step on a non-zero exit or a timeout.
void run_hook(Plan* p, const HookOp& h, int index) {
  char spath[32];
  long pid = syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, 0);
  if (pid < 0) fail(STEP_HOOK, index);
  if (pid == 0) {
    // A fresh open of the state memfd (its own offset), through this
    // process's verified /proc/self/fd, leaving the cwd (the rootfs) as it is.
    int fds = proc_open("self/fd", O_PATH | O_DIRECTORY);
    int in = fds < 0 ? -1 : openat(fds, fd_ref_name(spath, p->state_fd), O_RDONLY | O_CLOEXEC);
    if (in < 0 || dup2(in, 0) < 0 || dup2(2, 1) < 0) _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(h.path.c_str(), const_cast<char* const*>(h.argv.data()), const_cast<char* const*>(h.envp.data()));
    _exit(127);
  }
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd >= 0 && h.timeout > 0) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    int r;
    do {
      r = poll(&pfd, 1, h.timeout * 1000);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      kill((pid_t)pid, SIGKILL);
      waitpid((pid_t)pid, nullptr, 0);
      fail(STEP_HOOK, index, kHookTimedOut);
    }
  }
  if (pidfd >= 0) close(pidfd);
  int status = 0;
  while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (status != 0) fail(STEP_HOOK, index, status);
}

// Opens every bind source (MountOp::source_fd) and returns an O_PATH fd of the
// rootfs (-1 without one). Called in the container's final mount namespace
// (fds of another namespace's mounts cannot be bound) and before the child
// becomes root of a new user namespace: until then it is the host's uid 0,
// the owner of a 0700 directory of root's, as runc's parent is when it opens
// them.
int open_sources(Plan* p) {
  for (size_t i = 0; i < p->mounts.size(); i++) {
    MountOp& m = p->mounts[i];
    if (!m.bind || m.idmap_tree_fd >= 0) continue;
    m.source_fd = open(m.source.c_str(), O_PATH | O_CLOEXEC);
    if (m.source_fd < 0) fail(STEP_MOUNT, (int)i);
  }
  if (!p->setup_rootfs) return -1;
  int fd = open(p->rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(STEP_OPEN_ROOTFS);
  return fd;
}

// "/proc/self/fd/<fd>" through the container's own /proc, into path (>= 40
// bytes); true only when it leads to fd's own file, which a mount over /proc
// could make it not do. (The container's mount namespace is this process's
// alone until the exec, so nothing changes it between the check and the use.)
bool container_fd_path(char* path, int fd) {
  const char prefix[] = "/proc/self/fd/";
  size_t n = 0;
  for (; prefix[n]; n++) path[n] = prefix[n];
  char digits[12];
  for (const char* c = fd_ref_name(digits, fd); *c; c++) path[n++] = *c;
  path[n] = 0;
  int opened = open(path, O_PATH | O_CLOEXEC);
  struct stat a, b;
  // The raw fstat: glibc's goes through newfstatat, one more syscall a
  // profile would have to allow when this runs under the filter (README).
  bool same = opened >= 0 && syscall(SYS_fstat, opened, &a) == 0 && syscall(SYS_fstat, fd, &b) == 0 &&
              a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  if (opened >= 0) close(opened);
  return same;
}

// tsrunc-init reopens the exec fifo through the container's /proc/self/fd (it
// has no other way in), and writes into it only if what it opened is the
// fifo. A /proc that a mount made something else would fail it at `start`:
// found out here, it fails `create` instead, with nothing written anywhere.
void check_fifo_reachable(Plan* p) {
  char path[40];
  if (!container_fd_path(path, p->fifo_fd)) fail(STEP_PROCFS, -1, EXDEV);
}

// A new network namespace has `lo`, down; runc brings it up.
void loopback_up() {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) fail(STEP_LOOPBACK);
  struct ifreq ifr = {};
  __builtin_memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) fail(STEP_LOOPBACK);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) fail(STEP_LOOPBACK);
  close(sock);
}

// What sigaction() may change: not KILL and STOP, and not the two signals
// glibc keeps for itself (32, 33), which it refuses with EINVAL, an errno
// write the parent could see (see spawn.cc, share_memory).
bool settable(int s) { return s != SIGKILL && s != SIGSTOP && !(s >= __SIGRTMIN && s < SIGRTMIN); }

void reset_signals() {
  struct sigaction sa = {};
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    if (settable(s)) sigaction(s, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace

[[noreturn]] void child_main(Plan* p) {
  g_plan = p;
  g_fd_dir = -1;
  // Dispositions first: the parent blocked every signal around clone(), so
  // none of Node's handlers can run here. (The table is the child's own:
  // CLONE_VM without CLONE_SIGHAND.)
  struct sigaction sa = {};
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    if (settable(s)) sigaction(s, &sa, nullptr);

  // Into the container's v1 cgroups first, so that everything the child
  // does is charged and limited there (see Plan::cgroup_tasks_fds).
  for (size_t i = 0; i < p->cgroup_tasks_fds.size(); i++) {
    if (write(p->cgroup_tasks_fds[i], "0", 1) < 0) fail(STEP_CGROUP, (int)i);
    close(p->cgroup_tasks_fds[i]);
  }
  if (p->cgroup_fd >= 0) close(p->cgroup_fd);

  if (p->wait_for_parent) {
    char go;
    ssize_t n;
    do {
      n = read(p->sync_fd, &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(1);  // the parent gave up: leave quietly
  }
  // execCPUAffinity's initial CPUs, for the setup from here on. The
  // runtime-spec means them for before the move into the container's
  // cgroup, but nothing of the child's runs there: it is born in the cgroup
  // on v2, and on v1 writes itself into it first. Not before the go: a call
  // that may fail writes errno, which is the parent's while memory is shared
  // (spawn.cc, share_memory). Refused (EINVAL: none of them in the
  // container's cpuset), the setup runs where the cpuset lets it: a one-off
  // setting that final ends anyway.
  if (p->set_cpu_initial && syscall(SYS_sched_setaffinity, 0, sizeof p->cpu_initial, &p->cpu_initial) < 0 &&
      errno != EINVAL)
    fail(STEP_CPU_AFFINITY, 0);
  // Until the exec this process runs Node's memory. Non-dumpable, no process
  // of the container can open its /proc/<pid>/exe (the host's node binary)
  // or its memory (CVE-2019-5736). The flag belongs to the memory: with
  // CLONE_VM tsrunc is non-dumpable too until release() sees the exec. The
  // exec of tsrunc-init gives the child memory of its own. Set only now,
  // after the parent's go: until then the child is alone in the namespaces
  // clone made and has joined none, and a non-dumpable child's /proc files
  // belong to root, which keeps a non-root parent from writing its id maps
  // (runc's nsexec is dumpable for that write too).
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  umask(0);

  for (size_t i = 0; i < p->joins.size(); i++) {
    if (setns(p->joins[i].fd, p->joins[i].nstype) < 0) fail(STEP_SETNS, (int)i);
    close(p->joins[i].fd);
  }
  if (p->unshare_flags && unshare(p->unshare_flags) < 0) fail(STEP_UNSHARE);
  if (!p->timens_offsets.empty()) {
    // Only before any process enters the new time namespace: the fork below.
    int fd = proc_open("self/timens_offsets", O_WRONLY);
    if (fd < 0 || write(fd, p->timens_offsets.data(), p->timens_offsets.size()) < 0) fail(STEP_TIMENS);
    close(fd);
  }
  if (p->fork_after_setns) {
    long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid < 0) fail(STEP_FORK);
    if (pid > 0) {
      ChildError rec{STEP_CHILD_PID, (int)pid, -1};
      ssize_t w = write(p->error_fd, &rec, sizeof rec);
      _exit(w == (ssize_t)sizeof rec ? 0 : 1);
    }
  }
  // Still the host's uid 0, in the final mount namespace: open what the
  // mapped root may not be able to reach (a source below a 0700 directory).
  int rootfs_src = open_sources(p);
  // The parent has written the id maps; root of the new user namespace owns
  // the namespaces created with it, so every mount below is allowed.
  if (p->userns_root) {
    if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0) fail(STEP_USERNS_ROOT);
    if (syscall(SYS_setgroups, 0, nullptr) < 0 && errno != EPERM) fail(STEP_USERNS_ROOT);
  }
  if (p->has_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->keyring.c_str()) < 0 &&
      errno != ENOSYS)
    fail(STEP_KEYRING);
  // The cgroup namespace is unshared only now that the parent has put us in
  // the container's cgroup, so that cgroup becomes its root.
  if ((p->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) fail(STEP_SETNS);
  if (p->setsid && setsid() < 0) fail(STEP_SETSID);

  if (p->loopback_up) loopback_up();
  if (p->has_hostname && sethostname(p->hostname.data(), p->hostname.size()) < 0) fail(STEP_SETHOSTNAME);
  if (p->has_domainname && setdomainname(p->domainname.data(), p->domainname.size()) < 0)
    fail(STEP_SETDOMAINNAME);

  if (p->setup_rootfs) {
    // Slave first, whatever rootfsPropagation says: nothing done here may
    // reach the host, and a shared or unbindable parent would refuse the
    // bind and pivot_root below. The configured propagation is set on the
    // container's root once it is the root.
    if (mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) fail(STEP_ROOT_PROPAGATION);
    // The rootfs bound onto itself (a mount point for pivot_root), from the
    // fd opened before the user switch: a recursive clone of its tree, moved
    // over it. The clone's fd is the new mount's root.
    int rootfd = (int)syscall(SYS_open_tree, rootfs_src, "", 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
    if (rootfd < 0) fail(STEP_BIND_ROOTFS);
    if (syscall(SYS_move_mount, rootfd, "", rootfs_src, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      fail(STEP_BIND_ROOTFS);
    close(rootfs_src);
    do_mounts(p, rootfd);
    do_devices(p, rootfd);
    if (p->hooks_checkpoint) {
      // prestart and createRuntime hooks run now, in the parent.
      ChildError rec{STEP_HOOKS_CHECKPOINT, 0, -1};
      if (write(p->error_fd, &rec, sizeof rec) != (ssize_t)sizeof rec) _exit(1);
      char go;
      ssize_t n;
      do {
        n = read(p->sync_fd, &go, 1);
      } while (n < 0 && errno == EINTR);
      if (n != 1) _exit(1);
    }
    // createContainer hooks: in the container's mount namespace, before the
    // pivot, with the rootfs as their cwd (runtime-spec, and runc), so that
    // "./lib/..." names the container's.
    if (!p->create_container_hooks.empty() && fchdir(rootfd) < 0) fail(STEP_HOOK, 0);
    for (size_t i = 0; i < p->create_container_hooks.size(); i++) run_hook(p, p->create_container_hooks[i], (int)i);
    if (p->make_cwd) mkdir_all_in_root(rootfd, p->cwd.c_str(), STEP_MAKE_CWD, -1);
    enter_root(p, rootfd);
    close(rootfd);
    if (p->root_propagation != (MS_SLAVE | MS_REC) && mount(nullptr, "/", nullptr, p->root_propagation, nullptr) < 0)
      fail(STEP_ROOT_PROPAGATION);
    // Sysctls first: /proc/sys is usually among the readonlyPaths (runc's order).
    do_sysctls(p);
    if (p->readonly_root && bind_remount("/", MS_RDONLY) < 0) fail(STEP_READONLY_ROOT);
    do_masks(p);
    do_readonly_paths(p);
    if (p->fifo_fd >= 0) check_fifo_reachable(p);
  } else {
    do_sysctls(p);
  }
  if (p->console_fd >= 0) setup_console(p);
  if (p->dev_readonly_flags) {
    // A read-only /dev, now that its nodes, links and console are in.
    char dpath[32];
    int dfd = open_in_root(kRoot, "/dev", O_PATH | O_NOFOLLOW);
    if (dfd < 0 || bind_remount(fd_ref(dpath, dfd), p->dev_readonly_flags) < 0) fail(STEP_READONLY_DEV);
    close(dfd);
  }

  for (size_t i = 0; i < p->rlimits.size(); i++) {
    struct rlimit64 rl = {p->rlimits[i].soft, p->rlimits[i].hard};
    if (prlimit64(0, (__rlimit_resource)p->rlimits[i].resource, &rl, nullptr) < 0) fail(STEP_RLIMIT, (int)i);
  }

  // Kept across exec, so set here for the user's process.
  if (p->personality >= 0 && syscall(SYS_personality, (unsigned long)p->personality) < 0) fail(STEP_PERSONALITY);
  if (p->ioprio >= 0 && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, p->ioprio) < 0) fail(STEP_IOPRIO);
  if (p->set_scheduler) {
    struct {
      uint32_t size, policy;
      uint64_t flags;
      int32_t nice;
      uint32_t priority;
      uint64_t runtime, deadline, period;
    } attr = {48, p->sched_policy, p->sched_flags, p->sched_nice, (uint32_t)p->sched_priority,
              p->sched_runtime, p->sched_deadline, p->sched_period};
    if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) fail(STEP_SCHEDULER);
  }
  // execCPUAffinity's final CPUs, or else every CPU the cgroup's cpuset has
  // (not those of tsrunc's caller: src/container/affinity.ts), now that the
  // process is in the container's cgroup; kept across the exec. Before the
  // seccomp filter: tsrunc's own work does not depend on it. The reset cannot
  // be refused for its CPUs (the kernel keeps the cpuset's); where it fails
  // otherwise, the process keeps its CPUs, as it did before the reset was.
  if (p->set_cpu_final) {
    if (syscall(SYS_sched_setaffinity, 0, sizeof p->cpu_final, &p->cpu_final) < 0) fail(STEP_CPU_AFFINITY, 1);
  } else if (p->cpu_reset) {
    syscall(SYS_sched_setaffinity, 0, sizeof p->cpu_all, p->cpu_all);
  }
  // From here to the exec of tsrunc-init, the order is set by the seccomp
  // filter (see seccomp.cc): without no_new_privs the child loads it, which
  // needs CAP_SYS_ADMIN, so the process keeps CAP_SYS_ADMIN in its effective
  // and permitted sets until the load; everything tsrunc does itself comes
  // before it, so that no profile can refuse tsrunc its own work. After it,
  // only the exec: execve computes the new permitted and effective sets from
  // the inheritable, ambient and bounding sets alone (no file capabilities on
  // tsrunc-init's memfd), and those already are the config's, so the kept
  // CAP_SYS_ADMIN ends there without a capset the filter could refuse.
  bool child_loads = !p->seccomp_bpf.empty() && !p->seccomp_in_init;
  uint64_t keep = 0;
  if (child_loads && p->apply_caps && !((p->cap_effective & p->cap_permitted) & (1ULL << kCapSysAdmin)))
    keep = 1ULL << kCapSysAdmin;
  // Without process.capabilities a non-root user keeps none across setuid:
  // load while still root (everything below then runs under the filter).
  if (child_loads && !p->apply_caps) load_seccomp(p);

  // The cwd while still root (as runc): a directory only root can enter works
  // for a root process too. Refused (EACCES, EPERM: root of a user namespace
  // that the directory's owner is not mapped into), it is tried again as the
  // user, who may own it (runc's finalizeNamespace).
  bool cwd_pending = chdir(p->cwd.c_str()) < 0;
  if (cwd_pending && errno != EACCES && errno != EPERM) fail(STEP_CWD);
  do_user(p, keep);
  if (cwd_pending && chdir(p->cwd.c_str()) < 0) fail(STEP_CWD);
  if (p->umask >= 0) umask((mode_t)p->umask); else umask(022);

  // A cwd reached through a leaked fd (/proc/self/fd/N) would sit outside the
  // container's root; the kernel then reports it as "(unreachable)/..."
  // (CVE-2024-21626).
  char cwd[kPathMax];
  if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0 || cwd[0] != '/') fail(STEP_CWD_OUTSIDE, -1, EPERM);

  char exe[kPathMax];
  lookup(p, exe);
  p->argv_init[2] = exe;

  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(STEP_NO_NEW_PRIVS);

  // Every fd but stdio and the preserved ones is closed at exec. The exec
  // fifo survives one exec (tsrunc-init closes it before the user's exec).
  // Without close_range (kernel < 5.11; or refused by a filter the parent
  // process runs under), fd by fd up to the limit.
  if (syscall(SYS_close_range, 3 + p->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    if (errno != ENOSYS && errno != EPERM && errno != EINVAL) fail(STEP_FDS);
    struct rlimit64 rl;
    long limit = prlimit64(0, RLIMIT_NOFILE, nullptr, &rl) == 0 && rl.rlim_cur < (1u << 20) ? (long)rl.rlim_cur : 1L << 20;
    for (long fd = 3 + p->preserve_fds; fd < limit; fd++) fcntl((int)fd, F_SETFD, FD_CLOEXEC);
  }
  // Node marks even 0, 1 and 2 close-on-exec at startup: clear it on stdio too.
  for (int fd = 0; fd < 3 + p->preserve_fds; fd++)
    if (fcntl(fd, F_SETFD, 0) < 0 && errno != EBADF) fail(STEP_FDS, fd);
  // What tsrunc-init needs survives this one exec; it closes them itself.
  // Without a fifo, so does the error pipe (plan.h, init_report_fd).
  for (int fd : {p->fifo_fd, p->blob_fd, p->start_container_hooks.empty() ? -1 : p->state_fd, p->init_report_fd()})
    if (fd >= 0 && fcntl(fd, F_SETFD, 0) < 0) fail(STEP_FDS);

  pass_seccomp_fds(p);  // seccomp.cc: what tsrunc-init needs to load it
  reset_signals();

  if (child_loads && p->apply_caps) {
    load_seccomp(p);  // seccomp.cc
  }
  syscall(SYS_execveat, p->init_fd, "", p->argv_init.data(), p->envp.data(), AT_EMPTY_PATH);
  // A filter that predates execveat (or refuses it): the same file through
  // procfs, when the container has it at /proc.
  if (errno == ENOSYS || errno == EPERM) {
    int err = errno;
    char self[40];
    if (container_fd_path(self, p->init_fd)) syscall(SYS_execve, self, p->argv_init.data(), p->envp.data());
    errno = err;
  }
  fail(STEP_EXEC);
}

}  // namespace tsrunc
