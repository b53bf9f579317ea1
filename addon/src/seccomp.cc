// linux.seccomp: compiled here, in the parent, with libseccomp; loaded with
// the raw seccomp(2) syscall by the process that runs under it.
//
// libseccomp allocates, so it never runs in the cloned child (async-signal-
// safe only) nor in tsrunc-init (no libc): seccompCompile() turns the config
// into a classic BPF program (struct sock_filter[]) that travels as bytes, in
// the Plan for the child and in the settings blob for tsrunc-init.
//
// Who loads it (as runc decides), and when: as late as the rules allow, so
// that tsrunc's own work (cwd, user, executable lookup, fds, signals) is done
// before any profile can refuse it:
//  - process.noNewPrivileges false: seccomp(2) needs CAP_SYS_ADMIN, which the
//    container's capabilities may not keep, so the child loads it at the end
//    of its setup, holding on to CAP_SYS_ADMIN until then (child_main); after
//    it come only the final capset (when CAP_SYS_ADMIN is to go) and the exec
//    of tsrunc-init, which then runs under the filter (as runc's init does
//    for its exec fifo and startContainer hooks). init/init.c says which of
//    its syscalls fall back when refused.
//  - noNewPrivileges true: no privilege is needed, so tsrunc-init loads it
//    after the startContainer hooks, just before the exec of the user's
//    program (see init/init.c); the child only keeps the listener's fds open
//    across its exec (pass_seccomp_fds).
// The syscalls a profile must allow for tsrunc to reach the user's program
// are listed in README.md ("Seccomp"); test/seccomp.test.ts holds tsrunc to
// that list. An old allowlist works because of the -ENOSYS stub (below).
//
// SCMP_ACT_NOTIFY: the filter is loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER
// and the notify fd goes to linux.seccomp.listenerPath: the parent connects to
// it before clone (spawn.cc), TypeScript writes the container process state
// JSON into a memfd before it lets the child go, and the loader sends that
// JSON with the fd (SCM_RIGHTS) in one message, then closes the connection.
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <napi.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "fdpass.h"
#include "plan.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif

namespace tsrunc {

namespace {

struct Named {
  const char* name;
  unsigned long value;
};

// The spec's flags and what seccomp(2) calls them. TSYNC is accepted and
// dropped: the loading process is single-threaded.
const Named kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

const Named kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// The return values are the kernel's SECCOMP_RET_* (libseccomp's SCMP_ACT_*
// are the same numbers). SCMP_ACT_KILL is KILL_THREAD, as in libseccomp.
const Named kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

// The architectures the spec names; the installed libseccomp says which it knows.
const char* const kArchNames[] = {
    "SCMP_ARCH_X86",       "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",   "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",    "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",     "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",      "SCMP_ARCH_SH",        "SCMP_ARCH_SHEB",
};

template <size_t N>
bool lookup(const Named (&table)[N], const std::string& name, unsigned long* out) {
  for (auto& e : table)
    if (name == e.name) {
      *out = e.value;
      return true;
    }
  return false;
}

// SCMP_ARCH_X86_64 -> libseccomp's "x86_64" -> its token (0: unknown to it).
uint32_t arch_token(const std::string& name) {
  if (name.compare(0, 10, "SCMP_ARCH_") != 0) return 0;
  std::string lower;
  for (char c : name.substr(10)) lower += (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return seccomp_arch_resolve_name(lower.c_str());
}

std::string str(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

uint64_t u64(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return v.IsNumber() ? (uint64_t)v.As<Napi::Number>().DoubleValue() : 0;
}

// The action of `name` with its errno (SCMP_ACT_ERRNO/TRACE only; EPERM when
// none is given). TypeScript has already refused an errno on other actions.
uint32_t action(Napi::Env env, const std::string& name, Napi::Value errno_ret, const std::string& where) {
  unsigned long a;
  if (!lookup(kActions, name, &a)) throw Napi::Error::New(env, where + ": unknown seccomp action " + name);
  if (name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE") {
    uint32_t e = errno_ret.IsNumber() ? errno_ret.As<Napi::Number>().Uint32Value() : EPERM;
    a |= e & 0xffff;
  }
  return (uint32_t)a;
}

struct Ctx {
  scmp_filter_ctx ctx;
  explicit Ctx(uint32_t def) : ctx(seccomp_init(def)) {}
  ~Ctx() {
    if (ctx) seccomp_release(ctx);
  }
};

std::string err_text(int rc) { return strerror(rc < 0 ? -rc : rc); }

// ---- The -ENOSYS stub (runc's patchbpf) ----
//
// A deny-by-default allowlist written before a syscall existed refuses it
// with its default errno (usually EPERM). Libraries probe new syscalls and
// fall back to the old ones only on ENOSYS (glibc: faccessat2, clone3,
// close_range, statx, openat2...), so such a profile breaks programs that ran
// fine when it was written. As runc does, a stub in front of libseccomp's
// program answers ENOSYS, per architecture, for every syscall number greater
// than the greatest one the profile names, and for clone3 when the profile
// does not name it (glibc's fork and pthread_create try clone3 first, and its
// flags hide behind a pointer that no rule can inspect).
// Skipped, as runc skips it, when the default action lets syscalls through
// (ALLOW, LOG, TRACE) or already answers ENOSYS. Unlike runc, the native
// architecture is covered also when the profile lists no architectures.

struct ArchMax {
  uint32_t audit;          // AUDIT_ARCH_* the kernel reports in seccomp_data.arch
  int64_t max64 = -1;      // greatest syscall named for the arch (x86_64: its 64-bit ABI)
  int64_t max32 = -1;      // x86_64 only: the greatest x32 syscall (with __X32_SYSCALL_BIT)
  int64_t clone3 = -1;     // clone3's number, when the profile does not name it
  int64_t clone3_x32 = -1;
  bool has64 = false, has32 = false, s390 = false;
};

constexpr uint32_t kX32Bit = 0x40000000;

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

// The stub's program: `arch` (the filter's architectures), ENOSYS as the
// answer, and a fall-through into libseccomp's program, which starts right
// after it. Throws when a jump would not fit its 8 bits (it cannot with the
// spec's 23 architectures).
std::vector<sock_filter> enosys_stub(Napi::Env env, const std::vector<ArchMax>& archs) {
  // Blocks first, so that their lengths are known; each ends with a jump to
  // "orig" or "enosys", both placed after the last block and patched below.
  struct Pending {
    size_t at;
    bool to_enosys;
    bool true_branch;  // which branch of a conditional jump (else: ja)
    bool ja;
  };
  std::vector<std::vector<sock_filter>> blocks;
  std::vector<std::vector<Pending>> pend;
  for (auto& a : archs) {
    std::vector<sock_filter> b;
    std::vector<Pending> p;
    b.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, 0));  // seccomp_data.nr
    auto part = [&](int64_t max, int64_t clone3) {
      if (max < 0) {
        p.push_back({b.size(), false, false, true});
        b.push_back(stmt(BPF_JMP | BPF_JA, 0));
        return;
      }
      if (a.s390) {
        // s390: an unknown number reaches the filter as 0 (the multiplexer).
        p.push_back({b.size(), true, true, false});
        b.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0));
      }
      p.push_back({b.size(), true, true, false});
      b.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max, 0, 0));
      if (clone3 >= 0) {
        p.push_back({b.size(), true, true, false});
        b.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)clone3, 0, 0));
      }
      p.push_back({b.size(), false, false, true});
      b.push_back(stmt(BPF_JMP | BPF_JA, 0));
    };
    if (a.has32 || a.audit == AUDIT_ARCH_X86_64) {
      // One audit arch, two ABIs: x32 numbers carry bit 30.
      size_t js = b.size();
      b.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 0));
      part(a.has64 ? a.max64 : -1, a.clone3);
      size_t x32_at = b.size();
      if (x32_at - js - 1 > 255) throw Napi::Error::New(env, "linux.seccomp: -ENOSYS stub: jump too long");
      b[js].jt = (uint8_t)(x32_at - js - 1);
      part(a.has32 ? a.max32 : -1, a.clone3_x32);
    } else {
      part(a.max64, a.clone3);
    }
    blocks.push_back(std::move(b));
    pend.push_back(std::move(p));
  }
  std::vector<sock_filter> out;
  out.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, 4));  // seccomp_data.arch
  size_t header = archs.size();
  for (size_t i = 0; i < archs.size(); i++) out.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, archs[i].audit, 0, 0));
  size_t other = out.size();
  out.push_back(stmt(BPF_JMP | BPF_JA, 0));  // another architecture: libseccomp's program decides
  std::vector<size_t> starts;
  for (auto& b : blocks) {
    starts.push_back(out.size());
    out.insert(out.end(), b.begin(), b.end());
  }
  size_t enosys = out.size();
  out.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
  size_t orig = out.size();
  auto rel = [&](size_t from, size_t to) -> size_t { return to - from - 1; };
  for (size_t i = 0; i < header; i++) {
    size_t d = rel(1 + i, starts[i]);
    if (d > 255) throw Napi::Error::New(env, "linux.seccomp: -ENOSYS stub: jump too long");
    out[1 + i].jt = (uint8_t)d;
  }
  out[other].k = (uint32_t)rel(other, orig);
  for (size_t i = 0; i < blocks.size(); i++)
    for (auto& p : pend[i]) {
      size_t at = starts[i] + p.at;
      size_t d = rel(at, p.to_enosys ? enosys : orig);
      if (p.ja) {
        out[at].k = (uint32_t)d;
      } else {
        if (d > 255) throw Napi::Error::New(env, "linux.seccomp: -ENOSYS stub: jump too long");
        out[at].jt = (uint8_t)d;
      }
    }
  return out;
}

// Which architectures the stub covers and the greatest syscall the profile
// names on each (every rule's names, whatever its action, as runc counts).
std::vector<ArchMax> last_syscalls(const std::vector<uint32_t>& tokens, const std::vector<std::string>& names) {
  std::vector<ArchMax> out;
  auto slot = [&](uint32_t audit) -> ArchMax& {
    for (auto& a : out)
      if (a.audit == audit) return a;
    out.push_back(ArchMax{});
    out.back().audit = audit;
    return out.back();
  };
  for (uint32_t tok : tokens) {
    bool x32 = tok == SCMP_ARCH_X32;
    int64_t max = -1;
    bool named_clone3 = false;
    for (auto& n : names) {
      int nr = seccomp_syscall_resolve_name_arch(tok, n.c_str());
      if (nr < 0) continue;  // unknown here, or a libseccomp pseudo-syscall
      if (n == "clone3") named_clone3 = true;
      if (nr > max) max = nr;
    }
    if (max < 0) continue;  // nothing named for this arch: libseccomp's program alone
    int c3 = named_clone3 ? -1 : seccomp_syscall_resolve_name_arch(tok, "clone3");
    ArchMax& a = slot(x32 ? (uint32_t)AUDIT_ARCH_X86_64 : tok);
    a.s390 = tok == SCMP_ARCH_S390 || tok == SCMP_ARCH_S390X;
    if (x32) {
      a.has32 = true;
      a.max32 = max;
      a.clone3_x32 = c3 >= 0 ? c3 : -1;
    } else {
      a.has64 = true;
      a.max64 = max;
      a.clone3 = c3 >= 0 ? c3 : -1;
    }
  }
  return out;
}

// seccompCompile({defaultAction, defaultErrnoRet, architectures, flags, syscalls})
//   -> { bpf: Buffer (struct sock_filter[]), flags: number, notify: boolean, skipped: string[] }
// flags: for seccomp(2): the config's (TSYNC dropped), NEW_LISTENER when a
// rule notifies (WAIT_KILLABLE_RECV dropped when none does: the kernel takes
// it only with a listener). skipped: syscall names libseccomp does not know
// (ignored, as runc does).
Napi::Value SeccompCompileImpl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object s = info[0].As<Napi::Object>();
  uint32_t def = action(env, str(s, "defaultAction"), s.Get("defaultErrnoRet"), "linux.seccomp.defaultAction");
  Ctx c(def);
  if (!c.ctx) throw Napi::Error::New(env, "seccomp_init failed for default action " + str(s, "defaultAction"));
  // The filter is loaded by our own seccomp(2) call: no_new_privs is the
  // config's business, never libseccomp's.
  seccomp_attr_set(c.ctx, SCMP_FLTATR_CTL_NNP, 0);

  std::vector<uint32_t> tokens{seccomp_arch_native()};
  std::vector<std::string> all_names;
  Napi::Value archs = s.Get("architectures");
  if (archs.IsArray()) {
    Napi::Array a = archs.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      std::string name = a.Get(i).As<Napi::String>().Utf8Value();
      uint32_t tok = arch_token(name);
      const std::string where = "linux.seccomp.architectures[" + std::to_string(i) + "]";
      if (!tok) throw Napi::Error::New(env, where + ": " + name + " is not supported by libseccomp " + std::to_string(seccomp_version()->major) + "." + std::to_string(seccomp_version()->minor) + "." + std::to_string(seccomp_version()->micro));
      int rc = seccomp_arch_add(c.ctx, tok);
      if (rc < 0 && rc != -EEXIST) throw Napi::Error::New(env, where + ": add " + name + ": " + err_text(rc));
      bool seen = false;
      for (uint32_t t : tokens) seen |= t == tok;
      if (!seen) tokens.push_back(tok);
    }
  }

  unsigned long flags = 0;
  Napi::Value fl = s.Get("flags");
  if (fl.IsArray()) {
    Napi::Array a = fl.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      unsigned long f;
      std::string name = a.Get(i).As<Napi::String>().Utf8Value();
      if (!lookup(kFlags, name, &f)) throw Napi::Error::New(env, "linux.seccomp.flags[" + std::to_string(i) + "]: unknown flag " + name);
      if (f != SECCOMP_FILTER_FLAG_TSYNC) flags |= f;
    }
  }

  bool notify = false;
  Napi::Array skipped = Napi::Array::New(env);
  Napi::Value calls = s.Get("syscalls");
  if (calls.IsArray()) {
    Napi::Array list = calls.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Object call = list.Get(i).As<Napi::Object>();
      const std::string where = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
      Napi::Array call_names = call.Get("names").As<Napi::Array>();
      for (uint32_t k = 0; k < call_names.Length(); k++) all_names.push_back(call_names.Get(k).As<Napi::String>().Utf8Value());
      uint32_t act = action(env, str(call, "action"), call.Get("errnoRet"), where + ".action");
      // libseccomp refuses a rule whose action is the default one: it is a no-op.
      if (act == def) continue;
      bool notifies = act == SCMP_ACT_NOTIFY;
      std::vector<scmp_arg_cmp> conds;
      unsigned per_arg[6] = {};
      bool repeated = false;
      Napi::Value args = call.Get("args");
      if (args.IsArray()) {
        Napi::Array al = args.As<Napi::Array>();
        for (uint32_t j = 0; j < al.Length(); j++) {
          Napi::Object arg = al.Get(j).As<Napi::Object>();
          unsigned index = (unsigned)u64(arg, "index");
          unsigned long op;
          if (index > 5 || !lookup(kOperators, str(arg, "op"), &op))
            throw Napi::Error::New(env, where + ".args[" + std::to_string(j) + "]: bad index or op");
          repeated |= ++per_arg[index] > 1;
          conds.push_back({index, (scmp_compare)op, u64(arg, "value"), u64(arg, "valueTwo")});
        }
      }
      Napi::Array names = call.Get("names").As<Napi::Array>();
      for (uint32_t k = 0; k < names.Length(); k++) {
        std::string name = names.Get(k).As<Napi::String>().Utf8Value();
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) {
          skipped.Set(skipped.Length(), Napi::String::New(env, name));
          continue;
        }
        int rc = 0;
        if (repeated) {
          // Two conditions on one argument would be ANDed by libseccomp (and
          // could never both hold for EQ): one rule per condition, an OR, as
          // runc does.
          for (auto& cond : conds)
            if ((rc = seccomp_rule_add_array(c.ctx, act, nr, 1, &cond)) < 0) break;
        } else {
          rc = seccomp_rule_add_array(c.ctx, act, nr, (unsigned)conds.size(), conds.empty() ? nullptr : conds.data());
        }
        if (rc < 0)
          throw Napi::Error::New(env, where + ": add rule for syscall " + name + ": " + err_text(rc));
        notify |= notifies;
      }
    }
  }

  int mfd = (int)syscall(SYS_memfd_create, "tsrunc-seccomp-bpf", MFD_CLOEXEC);
  if (mfd < 0) throw Napi::Error::New(env, "memfd_create: " + err_text(errno));
  int rc = seccomp_export_bpf(c.ctx, mfd);
  if (rc < 0) {
    close(mfd);
    throw Napi::Error::New(env, "seccomp_export_bpf: " + err_text(rc));
  }
  off_t size = lseek(mfd, 0, SEEK_END);
  std::string bpf;
  bpf.resize(size > 0 ? (size_t)size : 0);
  size_t got = 0;
  while (got < bpf.size()) {
    ssize_t n = pread(mfd, &bpf[got], bpf.size() - got, (off_t)got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(mfd);
  if (got != bpf.size() || bpf.empty() || bpf.size() % sizeof(sock_filter))
    throw Napi::Error::New(env, "seccomp_export_bpf: short program");
  uint32_t kind = def & SECCOMP_RET_ACTION_FULL;
  bool permissive = kind == SECCOMP_RET_ALLOW || kind == SECCOMP_RET_LOG || kind == SECCOMP_RET_TRACE;
  if (!permissive && def != (SECCOMP_RET_ERRNO | ENOSYS)) {
    std::vector<sock_filter> stub = enosys_stub(env, last_syscalls(tokens, all_names));
    bpf.insert(0, reinterpret_cast<const char*>(stub.data()), stub.size() * sizeof(sock_filter));
  }
  if (bpf.size() / sizeof(sock_filter) > BPF_MAXINSNS)
    throw Napi::Error::New(env, "linux.seccomp: the filter compiles to " + std::to_string(bpf.size() / sizeof(sock_filter)) +
                                    " BPF instructions, more than the kernel's " + std::to_string(BPF_MAXINSNS));
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", Napi::Buffer<char>::Copy(env, bpf.data(), bpf.size()));
  if (notify) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  else flags &= ~(unsigned long)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  out.Set("flags", Napi::Number::New(env, (double)flags));
  out.Set("notify", Napi::Boolean::New(env, notify));
  out.Set("skipped", skipped);
  return out;
}

// What this libseccomp and this kernel support, for `tsrunc features`.
Napi::Value SeccompInfoImpl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  const scmp_version* v = seccomp_version();
  out.Set("version", Napi::String::New(env, std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro)));
  Napi::Array archs = Napi::Array::New(env);
  for (const char* a : kArchNames)
    if (arch_token(a)) archs.Set(archs.Length(), Napi::String::New(env, a));
  out.Set("archs", archs);
  // An action is supported when the kernel says so (SECCOMP_GET_ACTION_AVAIL).
  Napi::Array actions = Napi::Array::New(env);
  for (auto& a : kActions) {
    uint32_t ret = (uint32_t)a.value;
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &ret) == 0)
      actions.Set(actions.Length(), Napi::String::New(env, a.name));
  }
  out.Set("actions", actions);
  Napi::Array ops = Napi::Array::New(env);
  for (auto& o : kOperators) ops.Set(ops.Length(), Napi::String::New(env, o.name));
  out.Set("operators", ops);
  // A flag is supported when seccomp(2) with it and no program fails with
  // EFAULT (it got as far as reading the program), not EINVAL. NEW_LISTENER
  // is implied by WAIT_KILLABLE_RECV. TSYNC is ours to ignore: always fine.
  Napi::Array known = Napi::Array::New(env), supported = Napi::Array::New(env);
  for (auto& f : kFlags) {
    known.Set(known.Length(), Napi::String::New(env, f.name));
    unsigned long probe = f.value == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? f.value | SECCOMP_FILTER_FLAG_NEW_LISTENER : f.value;
    bool ok = f.value == SECCOMP_FILTER_FLAG_TSYNC ||
              (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, nullptr) < 0 && errno == EFAULT);
    if (ok) supported.Set(supported.Length(), Napi::String::New(env, f.name));
  }
  out.Set("knownFlags", known);
  out.Set("supportedFlags", supported);
  return out;
}

// ---- In the cloned child: async-signal-safe from here on. ----

[[noreturn]] void child_fail(Plan* p, int step, int err) {
  ChildError e{step, err, -1};
  ssize_t n = write(p->error_fd, &e, sizeof e);
  (void)n;
  _exit(1);
}

}  // namespace

Napi::Value SeccompCompile(const Napi::CallbackInfo& info) { return SeccompCompileImpl(info); }
Napi::Value SeccompInfo(const Napi::CallbackInfo& info) { return SeccompInfoImpl(info); }

void load_seccomp(Plan* p) {
  if (p->seccomp_bpf.empty() || p->seccomp_in_init) return;
  // The state the listener gets, mapped before the filter can forbid mmap.
  void* state = nullptr;
  size_t state_len = 0;
  if (p->seccomp_listener_fd >= 0) {
    off_t end = lseek(p->seccomp_state_fd, 0, SEEK_END);
    if (end <= 0) child_fail(p, STEP_SECCOMP_LISTENER, end < 0 ? errno : ENODATA);
    state_len = (size_t)end;
    state = mmap(nullptr, state_len, PROT_READ, MAP_SHARED, p->seccomp_state_fd, 0);
    if (state == MAP_FAILED) child_fail(p, STEP_SECCOMP_LISTENER, errno);
  }
  struct sock_fprog prog;
  prog.len = (unsigned short)(p->seccomp_bpf.size() / sizeof(sock_filter));
  prog.filter = reinterpret_cast<sock_filter*>(const_cast<char*>(p->seccomp_bpf.data()));
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog);
  if (fd < 0) child_fail(p, STEP_SECCOMP, errno);
  if (p->seccomp_listener_fd < 0) return;
  // One message: the JSON, with the notify fd attached to its first byte.
  int err = send_with_fd(p->seccomp_listener_fd, state, state_len, (int)fd);
  if (err) child_fail(p, STEP_SECCOMP_LISTENER, err);
  // Under the filter now: a refused close leaves a close-on-exec fd for the
  // exec to close; a refused munmap leaves the state's pages mapped in the
  // memory this child shares with the parent, which unmaps nothing of ours.
  close((int)fd);
  close(p->seccomp_listener_fd);
  close(p->seccomp_state_fd);
  munmap(state, state_len);
}

void pass_seccomp_fds(Plan* p) {
  if (p->seccomp_bpf.empty() || !p->seccomp_in_init) return;
  // tsrunc-init loads the filter and sends the fd: the listener's socket and
  // the state memfd survive this one exec (it closes them).
  for (int fd : {p->seccomp_listener_fd, p->seccomp_state_fd})
    if (fd >= 0 && fcntl(fd, F_SETFD, 0) < 0) child_fail(p, STEP_FDS, errno);
}

}  // namespace tsrunc
