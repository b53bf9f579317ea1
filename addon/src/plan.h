// The flat plan that the cloned child executes.
//
// Everything the child needs is prepared here, in the parent, before clone():
// strings are NUL-terminated in std::string storage and exposed as raw
// `const char*` arrays, so the child only reads memory and makes syscalls.
// The child never allocates, never throws and never touches stdio
// (DEVELOPERS.md, invariant 1).
#pragma once

#include <sched.h>
#include <string>
#include <vector>
#include <sys/types.h>

#include "../steps.h"

namespace tsrunc {

// The steps (their numbers and names) are in steps.h, shared with tsrunc-init.
enum Step : int {
#define X(id, name) STEP_##id,
  TSRUNC_STEPS(X)
#undef X
  STEP_COUNT
};

// What the child writes to the error pipe when a step fails. One record is
// not a failure: {STEP_CHILD_PID, pid} says which process the container's
// process is, when joining a pid namespace took one more fork.
struct ChildError {
  int step;
  int err;    // errno
  int index;  // which mount/device/... (or -1)
};

struct MountOp {
  std::string source;   // host path for binds (absolute), or fs source
  std::string target;   // container path (absolute, lexical, no "..")
  std::string fstype;
  std::string data;
  unsigned long flags = 0;      // MS_* applied at mount time
  unsigned long remount = 0;    // for binds: MS_RDONLY|MS_NOSUID|... applied by remount
  std::vector<unsigned long> propagation;  // MS_SHARED|MS_REC ... applied after
  // rro, rnosuid, ...: mount_setattr(2) MOUNT_ATTR_* on the whole tree.
  unsigned long long attr_set = 0, attr_clr = 0;
  // idmap/ridmap: the parent clones the source tree (open_tree(2)) and
  // id-maps it while it is still in the host's user namespace (the
  // filesystem's owner must allow it); the child only moves it in place.
  int idmap_tree_fd = -1;
  bool copy_up = false;  // tmpcopyup: what was under the target is copied into the new tmpfs
  bool idmap_recursive = false;
  std::string idmap_uid_map, idmap_gid_map;  // /proc/<pid>/uid_map text
  // Binds: an O_PATH fd of the source, opened by the child in its final mount
  // namespace while it is still the host's uid 0 (before it becomes root of a
  // new user namespace, whose mapped uid may not search the source's
  // parents: runc opens them before it enters the user namespace too).
  // Written by the child only (see child.cc's list of shared writes).
  int source_fd = -1;
  bool bind = false;
  bool has_source = false;
  bool has_type = false;
  bool has_data = false;
};

struct DeviceOp {
  std::string path;  // container path
  mode_t mode = 0;   // S_IFCHR/S_IFBLK/S_IFIFO | permissions
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool bind = false;  // user namespace: bind-mount the host node instead of mknod
};

struct SymlinkOp {
  std::string target;  // what the link points to
  std::string path;    // container path of the link
};

struct SysctlOp {
  std::string path;  // /proc/sys/... (built in TypeScript from the key); opened below the procfs handle
  std::string value;
};

struct RlimitOp {
  int resource;
  unsigned long long soft, hard;
};

struct NsJoin {
  int fd;      // opened in the parent
  int nstype;  // CLONE_NEW*
};

// A hook the child runs itself (createContainer), or that tsrunc-init runs
// (startContainer: encoded in the init blob).
struct HookOp {
  std::string path;
  std::vector<std::string> args, env;
  int timeout = 0;  // seconds, 0: none
  std::vector<const char*> argv, envp;  // views, filled by finalize()
};

// For a hook's failure, ChildError.err is the raw wait status, or this.
constexpr int kHookTimedOut = 0x10000;

struct Plan {
  int clone_flags = 0;            // CLONE_NEW* to create at clone()
  int unshare_flags = 0;          // CLONE_NEW* to create after the joins (a joined user namespace must own them)
  bool userns_root = false;
  bool loopback_up = false;       // a new network namespace: `lo` up, as runc does
  bool make_cwd = false;          // create process.cwd in the rootfs when missing (runc, for init)
  std::string timens_offsets;     // written to /proc/self/timens_offsets after unshare(CLONE_NEWTIME)       // in a new user namespace: setresuid/gid(0) once the parent wrote the maps
  std::vector<NsJoin> joins;      // namespaces joined by path
  bool wait_for_parent = true;    // block until the parent says go (id maps, hooks, state)
  // The cgroup, entered as the child is born, never by writing its pid to
  // cgroup.procs afterwards: that write takes the kernel's global threadgroup
  // lock, whose first taker waits an RCU grace period (5-16 ms on a 250 Hz
  // kernel). v2: clone3(CLONE_INTO_CGROUP) with this directory fd. v1: the
  // child writes "0" to each hierarchy's `tasks` file, which moves only the
  // writing thread (the whole child: it has one) and needs no such lock.
  int cgroup_fd = -1;
  std::vector<int> cgroup_tasks_fds;
  // setns() into a pid namespace moves only later children: fork once more
  // (CLONE_PARENT, so the process is still tsrunc's child) after the joins.
  bool fork_after_setns = false;
  std::string keyring;            // join a new session keyring of this name
  bool has_keyring = false;

  // Terminal: a pty made inside the container; its master goes out over
  // console_fd (a unix socket), the slave becomes stdio and controlling tty.
  int console_fd = -1;
  unsigned short console_rows = 0, console_cols = 0;
  bool mount_console = false;     // bind the slave onto /dev/console (init only)

  std::string hostname;
  bool has_hostname = false;
  std::string domainname;
  bool has_domainname = false;

  bool setup_rootfs = true;       // false: share the host's filesystem (no mount namespace)
  std::string rootfs;
  unsigned long root_propagation = 0;  // MS_SLAVE|MS_REC by default
  bool readonly_root = false;
  bool no_pivot = false;
  // --no-pivot: full proc and sysfs mounts outside the rootfs (from the
  // parent's mountinfo), detached before the MS_MOVE so that the container
  // cannot reach or re-mount them (runc 1.1.5's msMoveRoot).
  std::vector<std::string> no_pivot_hide;
  // A read-only /dev is mounted read-write, and made read-only (a bind
  // remount with these flags) once the devices, links and console are in it,
  // as runc does. 0: nothing to do.
  unsigned long dev_readonly_flags = 0;
  // O_PATH fd of the root of the host's procfs, opened and verified in the
  // parent before the container exists: every write into procfs (sysctls,
  // timens_offsets) and every /proc/self/fd path the child uses
  // goes below it, never through the container's /proc, which a mount in the
  // config may have replaced (CVE-2019-19921, CVE-2025-52881).
  int proc_fd = -1;

  std::vector<MountOp> mounts;
  std::vector<DeviceOp> devices;
  std::vector<SymlinkOp> symlinks;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::vector<SysctlOp> sysctls;
  std::vector<RlimitOp> rlimits;

  bool no_new_privs = false;
  bool set_user = true;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  int umask = -1;

  // Set by tsrunc-init, for its exec of the user's program (init/init.c, write_attr):
  std::string apparmor_exec;      // "exec <profile>" for /proc/<pid>/attr/apparmor/exec
  std::string selinux_exec;       // the label for /proc/<pid>/attr/exec
  long personality = -1;          // persona for personality(2), -1: leave it
  int ioprio = -1;                // ioprio_set(2) value, -1: leave it
  bool set_scheduler = false;
  unsigned sched_policy = 0, sched_flags = 0;
  int sched_nice = 0, sched_priority = 0;
  unsigned long long sched_runtime = 0, sched_deadline = 0, sched_period = 0;
  // process.execCPUAffinity (exec only; child.cc says when each applies).
  bool set_cpu_initial = false, set_cpu_final = false;
  cpu_set_t cpu_initial, cpu_final;
  // Without a final set: every CPU, which the kernel narrows to the cgroup's
  // cpuset (src/container/affinity.ts). 8192 CPUs, the most x86-64 kernels
  // are built for: a mask of glibc's 1024 would keep a larger machine's
  // processes off its CPUs past 1023.
  bool cpu_reset = false;
  unsigned long cpu_all[8192 / (8 * sizeof(unsigned long))];

  bool apply_caps = false;
  unsigned long long cap_bounding = 0, cap_effective = 0, cap_permitted = 0,
                     cap_inheritable = 0, cap_ambient = 0;
  int last_cap = 40;

  std::string cwd;
  std::vector<std::string> args;
  std::vector<std::string> env;
  bool setsid = true;

  int preserve_fds = 0;  // fds 3 .. 3+n-1 reach the container
  int fifo_fd = -1;      // O_PATH fd of the exec fifo (create), -1 for run
  int init_fd = -1;      // sealed memfd holding tsrunc-init
  int sync_fd = -1;      // read end: parent's "go" (and "go on" after the hooks checkpoint)
  // Hooks: the child stops after the mounts so that the parent can run the
  // prestart and createRuntime hooks, then runs createContainer ones itself.
  bool hooks_checkpoint = false;
  std::vector<HookOp> create_container_hooks;
  std::vector<HookOp> start_container_hooks;
  int state_fd = -1;     // memfd: the state JSON the hooks get on stdin
  int blob_fd = -1;      // sealed memfd: tsrunc-init's settings (see init/init.c)
  int error_fd = -1;     // write end: ChildError on failure, EOF at the exec (of the user's program without a fifo)
  int parent_sync_fd = -1;   // the parent's ends of those pipes, which the child closes first
  int parent_error_fd = -1;

  // linux.seccomp (seccomp.cc): a BPF program compiled in the parent, loaded
  // by the child just before its exec, CAP_SYS_ADMIN kept until then
  // (no_new_privs false) or by tsrunc-init just before the user's exec.
  std::string seccomp_bpf;        // struct sock_filter[] as bytes; empty: no filter
  unsigned long seccomp_flags = 0;  // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool seccomp_in_init = false;   // tsrunc-init loads it (the init blob carries it)
  int seccomp_listener_fd = -1;   // SCMP_ACT_NOTIFY: connected to listenerPath
  int seccomp_state_fd = -1;      // memfd: the container process state JSON for it

  // Raw views for the child, filled by finalize(); valid while the vectors live.
  std::vector<const char*> argv_init;  // tsrunc-init argv
  std::vector<const char*> envp;
  std::vector<std::string> init_arg_storage;
  std::vector<const char*> path_dirs;  // PATH entries for the lookup
  std::vector<std::string> path_storage;

  void finalize();
  // The error pipe tsrunc-init keeps until the user's exec, where no fifo
  // holds it back (exec, run): -1 otherwise (spawn.cc, init_blob).
  int init_report_fd() const { return fifo_fd < 0 ? error_fd : -1; }
};

// Runs in the cloned child. Never returns.
[[noreturn]] void child_main(Plan* plan);

// seccomp.cc, in the child: load_seccomp() loads the filter when the child is
// the one to (last before the exec); pass_seccomp_fds() keeps what tsrunc-init needs
// to load it and reach the listener open across the exec (just before it).
void load_seccomp(Plan* p);
void pass_seccomp_fds(Plan* p);

extern const char* const kStepNames[STEP_COUNT];

}  // namespace tsrunc
