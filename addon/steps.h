/*
 * Each step a container's process can fail at on its way to the user's
 * program, as an X-macro: the cloned child (src/child.cc) and tsrunc-init
 * (init/init.c, for the last steps, taken after its own exec) report
 * {step, errno, index} over the error pipe; TypeScript turns that into a
 * message such as `mount "proc" on /proc: EPERM`. The names are exported to
 * JavaScript (addon.stepName) so there is one list. Plain C: init.c is
 * freestanding.
 */
#pragma once

#define TSRUNC_STEPS(X)                 \
  X(SYNC, "wait for parent")            \
  X(PROCFS, "open procfs")              \
  X(CGROUP, "join cgroup")              \
  X(SETNS, "join namespace")            \
  X(UNSHARE, "create namespaces")       \
  X(USERNS_ROOT, "become root in the user namespace") \
  X(MOUNT_ATTR, "set recursive mount attributes") \
  X(IDMAP, "id-map mount")              \
  X(TMPCOPYUP, "copy up into tmpfs")    \
  X(LOOPBACK, "bring up loopback")      \
  X(MAKE_CWD, "create cwd")             \
  X(CHILD_PID, "report pid")            \
  X(FORK, "fork into pid namespace")    \
  X(KEYRING, "join session keyring")    \
  X(CONSOLE, "set up console")          \
  X(HOOKS_CHECKPOINT, "wait for runtime hooks") \
  X(HOOK, "createContainer hook")       \
  X(SETSID, "setsid")                   \
  X(SETHOSTNAME, "sethostname")         \
  X(SETDOMAINNAME, "setdomainname")     \
  X(ROOT_PROPAGATION, "make / private") \
  X(BIND_ROOTFS, "bind rootfs")         \
  X(OPEN_ROOTFS, "open rootfs")         \
  X(MOUNT_TARGET, "create mount target") \
  X(MOUNT, "mount")                     \
  X(MOUNT_REMOUNT, "remount")           \
  X(MOUNT_PROPAGATION, "set propagation") \
  X(DEVICE, "create device")            \
  X(SYMLINK, "create symlink")          \
  X(PIVOT_ROOT, "pivot_root")           \
  X(UMOUNT_OLD_ROOT, "detach old root") \
  X(READONLY_ROOT, "remount / read-only") \
  X(READONLY_DEV, "remount /dev read-only") \
  X(MASK_PATH, "mask path")             \
  X(READONLY_PATH, "make path read-only") \
  X(SYSCTL, "write sysctl")             \
  X(RLIMIT, "setrlimit")                \
  X(NO_NEW_PRIVS, "set no_new_privs")   \
  X(SETGROUPS, "setgroups")             \
  X(SETGID, "setgid")                   \
  X(SETUID, "setuid")                   \
  X(CAPS, "apply capabilities")         \
  X(TIMENS, "write time namespace offsets") \
  X(PERSONALITY, "set personality")     \
  X(IOPRIO, "set I/O priority")         \
  X(SCHEDULER, "set scheduler")         \
  X(CPU_AFFINITY, "set CPU affinity")   \
  X(LSM_LABEL, "set LSM label")         \
  X(CWD, "chdir to cwd")                \
  X(CWD_OUTSIDE, "cwd outside container") \
  X(LOOKUP, "executable lookup")        \
  X(FDS, "prepare fds")                 \
  X(SECCOMP, "load seccomp filter")     \
  X(SECCOMP_LISTENER, "send seccomp fd to listener") \
  X(EXEC, "exec init")                  \
  X(EXEC_PROCESS, "exec the process")
