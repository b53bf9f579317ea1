// The systemd cgroup driver's D-Bus client: a few calls to
// org.freedesktop.systemd1.Manager through libsystemd's sd-bus (what crun
// uses), synchronous, as the rest of a tsrunc command is.
//
// libsystemd.so.0 is dlopen()ed on first use, not linked: the addon must load
// (and the cgroupfs driver work) on hosts without it. sd-bus.h is included
// for its types only; every function is called through a pointer.
//
// JS surface (src/cgroups/systemd-dbus.ts wraps it):
//   sdStartTransientUnit(user, unit, mode, props, timeoutMs)   waits for the job
//   sdStopUnit(user, unit, timeoutMs)                          waits for the job; no such unit: ok
//   sdSetUnitProperties(user, unit, props)                     runtime=true
//   sdResetFailedUnit(user, unit)                              errors ignored (none failed: ok)
//   sdManagerProperty(user, name)                              a string property (ControlGroup)
//   sdSessionBusOwnerUid()                                     the session bus owner's uid (busctl --user status: OwnerUID)
// props: [[name, signature, value], ...] with signature one of
//   b s u t (number or bigint) ay (Buffer) au (number[]) a(ss) ([[s, s], ...]).
// user: the caller's user manager over the session bus, else the system bus
// (falling back, for root, to systemd's private socket when no bus daemon runs,
// as go-systemd does for runc).
#include <dlfcn.h>
#include <errno.h>
#include <napi.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace tsrunc {

namespace {

#define SD_FUNCS(X)                  \
  X(sd_bus_open_system)              \
  X(sd_bus_open_user)                \
  X(sd_bus_new)                      \
  X(sd_bus_set_address)              \
  X(sd_bus_start)                    \
  X(sd_bus_unref)                    \
  X(sd_bus_message_new_method_call)  \
  X(sd_bus_message_append)           \
  X(sd_bus_message_append_basic)     \
  X(sd_bus_message_append_array)     \
  X(sd_bus_message_open_container)   \
  X(sd_bus_message_close_container)  \
  X(sd_bus_message_read)             \
  X(sd_bus_message_unref)            \
  X(sd_bus_call_async)               \
  X(sd_bus_message_is_method_error)  \
  X(sd_bus_message_get_error)        \
  X(sd_bus_add_match_async)          \
  X(sd_bus_slot_unref)               \
  X(sd_bus_process)                  \
  X(sd_bus_wait)                     \
  X(sd_bus_error_free)               \
  X(sd_bus_error_has_name)           \
  X(sd_bus_get_owner_creds)          \
  X(sd_bus_creds_get_owner_uid)      \
  X(sd_bus_creds_unref)

struct Sd {
#define DECL(f) decltype(&::f) f;
  SD_FUNCS(DECL)
#undef DECL
};

const Sd* sd(Napi::Env env) {
  static Sd fns;
  static bool loaded = false;
  if (loaded) return &fns;
  void* h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) throw Napi::Error::New(env, std::string("systemd cgroup driver: cannot load libsystemd.so.0: ") + dlerror());
#define LOAD(f)                                                                                            \
  fns.f = reinterpret_cast<decltype(&::f)>(dlsym(h, #f));                                                  \
  if (!fns.f) throw Napi::Error::New(env, "systemd cgroup driver: libsystemd.so.0 lacks " #f " (too old)");
  SD_FUNCS(LOAD)
#undef LOAD
  loaded = true;
  return &fns;
}

const char* const kDest = "org.freedesktop.systemd1";
const char* const kPath = "/org/freedesktop/systemd1";
const char* const kManager = "org.freedesktop.systemd1.Manager";

Napi::Error sd_error(Napi::Env env, const std::string& what, int r, const sd_bus_error* e = nullptr) {
  std::string msg = what + ": ";
  if (e && e->message) msg += e->message;
  else msg += strerror(r < 0 ? -r : r);
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("errno", Napi::Number::New(env, r < 0 ? -r : r));
  if (e && e->name) err.Set("dbusName", Napi::String::New(env, e->name));
  return err;
}

// One connection per bus and process (a tsrunc command is one process).
struct Bus {
  sd_bus* bus = nullptr;
  bool direct = false;  // systemd's private socket: no bus daemon, signals come unasked
  bool subscribed = false;
};

Bus& bus_for(Napi::Env env, bool user) {
  static Bus buses[2];
  Bus& b = buses[user ? 1 : 0];
  if (b.bus) return b;
  const Sd* f = sd(env);
  int r = user ? f->sd_bus_open_user(&b.bus) : f->sd_bus_open_system(&b.bus);
  if (r < 0 && !user && geteuid() == 0) {
    // No system bus daemon: systemd answers root on its private socket too.
    sd_bus* p = nullptr;
    int r2 = f->sd_bus_new(&p);
    if (r2 >= 0) r2 = f->sd_bus_set_address(p, "unix:path=/run/systemd/private");
    if (r2 >= 0) r2 = f->sd_bus_start(p);
    if (r2 >= 0) {
      b.bus = p;
      b.direct = true;
      return b;
    }
    if (p) f->sd_bus_unref(p);
  }
  if (r < 0) {
    b.bus = nullptr;
    throw sd_error(env, user ? "systemd: cannot connect to the user manager over the session bus ($DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus)"
                             : "systemd: cannot connect to the system bus (is systemd running?)",
                   r);
  }
  return b;
}

// Appends one (sv) property: name, then the value as a variant of `sig`.
void append_prop(Napi::Env env, const Sd* f, sd_bus_message* m, const Napi::Array& prop) {
  std::string name = prop.Get(0u).As<Napi::String>().Utf8Value();
  std::string sig = prop.Get(1u).As<Napi::String>().Utf8Value();
  Napi::Value v = prop.Get(2u);
  int r = f->sd_bus_message_open_container(m, 'r', "sv");
  if (r >= 0) r = f->sd_bus_message_append_basic(m, 's', name.c_str());
  if (r >= 0) r = f->sd_bus_message_open_container(m, 'v', sig.c_str());
  if (r < 0) throw sd_error(env, "systemd: property " + name, r);
  if (sig == "b") {
    int b = v.ToBoolean().Value() ? 1 : 0;
    r = f->sd_bus_message_append_basic(m, 'b', &b);
  } else if (sig == "s") {
    std::string s = v.ToString().Utf8Value();
    r = f->sd_bus_message_append_basic(m, 's', s.c_str());
  } else if (sig == "u") {
    uint32_t u = v.As<Napi::Number>().Uint32Value();
    r = f->sd_bus_message_append_basic(m, 'u', &u);
  } else if (sig == "t") {
    uint64_t t;
    if (v.IsBigInt()) {
      bool lossless;
      t = v.As<Napi::BigInt>().Uint64Value(&lossless);
    } else {
      t = (uint64_t)v.As<Napi::Number>().Int64Value();
    }
    r = f->sd_bus_message_append_basic(m, 't', &t);
  } else if (sig == "ay") {
    Napi::Buffer<uint8_t> buf = v.As<Napi::Buffer<uint8_t>>();
    r = f->sd_bus_message_append_array(m, 'y', buf.Data(), buf.Length());
  } else if (sig == "au") {
    Napi::Array a = v.As<Napi::Array>();
    r = f->sd_bus_message_open_container(m, 'a', "u");
    for (uint32_t i = 0; r >= 0 && i < a.Length(); i++) {
      uint32_t u = a.Get(i).As<Napi::Number>().Uint32Value();
      r = f->sd_bus_message_append_basic(m, 'u', &u);
    }
    if (r >= 0) r = f->sd_bus_message_close_container(m);
  } else if (sig == "a(ss)") {
    Napi::Array a = v.As<Napi::Array>();
    r = f->sd_bus_message_open_container(m, 'a', "(ss)");
    for (uint32_t i = 0; r >= 0 && i < a.Length(); i++) {
      Napi::Array pair = a.Get(i).As<Napi::Array>();
      std::string x = pair.Get(0u).ToString().Utf8Value(), y = pair.Get(1u).ToString().Utf8Value();
      r = f->sd_bus_message_append(m, "(ss)", x.c_str(), y.c_str());
    }
    if (r >= 0) r = f->sd_bus_message_close_container(m);
  } else {
    throw Napi::Error::New(env, "systemd: property " + name + ": unsupported signature " + sig);
  }
  if (r >= 0) r = f->sd_bus_message_close_container(m);  // v
  if (r >= 0) r = f->sd_bus_message_close_container(m);  // r
  if (r < 0) throw sd_error(env, "systemd: property " + name, r);
}

void append_props(Napi::Env env, const Sd* f, sd_bus_message* m, const Napi::Array& props) {
  int r = f->sd_bus_message_open_container(m, 'a', "(sv)");
  if (r < 0) throw sd_error(env, "systemd: properties", r);
  for (uint32_t i = 0; i < props.Length(); i++) append_prop(env, f, m, props.Get(i).As<Napi::Array>());
  r = f->sd_bus_message_close_container(m);
  if (r < 0) throw sd_error(env, "systemd: properties", r);
}

uint64_t now_us() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

// One method call in flight, and the JobRemoved signals seen meanwhile.
//
// Nothing here calls sd-bus's synchronous calls (sd_bus_call, and what wraps
// it: sd_bus_add_match sends AddMatch and waits): libsystemd (Debian 12's 252
// among them) fails their poll with EINTR when a signal arrives (Node's SIGCHLD, when a child
// dies during the call), and the call cannot then be told from one never
// sent. So every call is sent asynchronously and the bus processed here until
// its reply (and, for a job, the job's JobRemoved signal) is in, EINTR only
// meaning "wait again".
struct Call {
  const Sd* f;
  bool replied = false;
  std::string error_name, error_message;  // a method error
  std::string job;                          // the reply's object path, when asked for
  bool want_job = false;
  std::string reply_string;                 // a Properties.Get reply's string, when asked for
  bool want_string = false;
  std::vector<std::pair<std::string, std::string>> removed;  // job path -> result
  std::string match_error;                  // the bus refused the JobRemoved match
};

int on_reply(sd_bus_message* m, void* userdata, sd_bus_error*) {
  Call* c = static_cast<Call*>(userdata);
  c->replied = true;
  if (c->f->sd_bus_message_is_method_error(m, nullptr)) {
    const sd_bus_error* e = c->f->sd_bus_message_get_error(m);
    c->error_name = e && e->name ? e->name : "org.freedesktop.DBus.Error.Failed";
    c->error_message = e && e->message ? e->message : c->error_name;
    return 0;
  }
  if (c->want_job) {
    const char* job = nullptr;
    if (c->f->sd_bus_message_read(m, "o", &job) >= 0 && job) c->job = job;
  }
  if (c->want_string) {
    const char* v = nullptr;
    if (c->f->sd_bus_message_read(m, "v", "s", &v) >= 0 && v) c->reply_string = v;
  }
  return 0;
}

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  Call* c = static_cast<Call*>(userdata);
  uint32_t id;
  const char *path, *unit, *result;
  if (c->f->sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0) c->removed.emplace_back(path, result);
  return 0;
}

// AddMatch's reply (only on a bus; the private socket has no daemon to ask).
int on_match_installed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  Call* c = static_cast<Call*>(userdata);
  if (c->f->sd_bus_message_is_method_error(m, nullptr)) {
    const sd_bus_error* e = c->f->sd_bus_message_get_error(m);
    c->match_error = e && e->message ? e->message : "AddMatch failed";
  }
  return 0;
}

// Processes the bus until done() or the deadline; EINTR is no error here.
template <typename Done>
int pump(const Sd* f, sd_bus* bus, uint64_t deadline, Done done) {
  for (;;) {
    if (done()) return 0;
    int r = f->sd_bus_process(bus, nullptr);
    if (r > 0) continue;
    if (r < 0 && r != -EINTR) return r;
    if (r < 0) continue;
    uint64_t now = now_us();
    if (now >= deadline) return -ETIMEDOUT;
    r = f->sd_bus_wait(bus, deadline - now);
    if (r < 0 && r != -EINTR) return r;
  }
}

// Sends `m` (unref'd, and set to null, once sent), waits for the reply; a
// method error throws, unless it is `ignore_error` (then false is returned).
bool send_and_wait(Napi::Env env, Bus& b, sd_bus_message*& m, Call& c, const std::string& what, uint64_t timeout_ms, const char* ignore_error = nullptr) {
  const Sd* f = c.f;
  sd_bus_slot* slot = nullptr;
  int r = f->sd_bus_call_async(b.bus, &slot, m, on_reply, &c, timeout_ms * 1000);
  if (r < 0) throw sd_error(env, what, r);
  f->sd_bus_message_unref(m);
  m = nullptr;
  r = pump(f, b.bus, now_us() + timeout_ms * 1000, [&] { return c.replied; });
  f->sd_bus_slot_unref(slot);
  if (r < 0) throw sd_error(env, what + ": no reply", r);
  if (!c.error_name.empty()) {
    if (ignore_error && c.error_name == ignore_error) return false;
    Napi::Error err = Napi::Error::New(env, what + ": " + c.error_message);
    err.Set("dbusName", Napi::String::New(env, c.error_name));
    throw err;
  }
  return true;
}

// A method call on the Manager that queues a job: the match for JobRemoved is
// in place before the call (the signal may come right after the reply), then
// the bus is processed until that job's signal arrives or the time is up.
// AddMatch goes out asynchronously, ahead of the call: the bus daemon handles
// one connection's messages in order, so the match holds before systemd can
// send the signal (systemctl's job wait does the same).
// Returns the job's result ("done", "failed", "canceled", "timeout", ...).
std::string call_and_wait(Napi::Env env, Bus& b, sd_bus_message*& call, const std::string& what, uint64_t timeout_ms, const char* ignore_error = nullptr) {
  const Sd* f = sd(env);
  Call c;
  c.f = f;
  c.want_job = true;
  sd_bus_slot* match = nullptr;
  // On systemd's private socket (no bus daemon) messages carry no sender: a
  // sender in the match would never match there (systemctl leaves it out too).
  const char* rule = b.direct ? "type='signal',interface='org.freedesktop.systemd1.Manager',member='JobRemoved',path='/org/freedesktop/systemd1'"
                              : "type='signal',sender='org.freedesktop.systemd1',interface='org.freedesktop.systemd1.Manager',member='JobRemoved',path='/org/freedesktop/systemd1'";
  int r = f->sd_bus_add_match_async(b.bus, &match, rule, on_job_removed, on_match_installed, &c);
  if (r < 0) throw sd_error(env, what + ": cannot watch for the job's end", r);
  try {
    if (!b.direct && !b.subscribed) {
      // On the bus, systemd sends its job signals to subscribers (and the job's own client).
      sd_bus_message* sub = nullptr;
      Call sc;
      sc.f = f;
      if (f->sd_bus_message_new_method_call(b.bus, &sub, kDest, kPath, kManager, "Subscribe") >= 0) {
        try {
          send_and_wait(env, b, sub, sc, "systemd: Subscribe", timeout_ms, "org.freedesktop.systemd1.AlreadySubscribed");
        } catch (...) {
          f->sd_bus_message_unref(sub);
          throw;
        }
        b.subscribed = true;
      }
    }
    if (!send_and_wait(env, b, call, c, what, timeout_ms, ignore_error)) {
      f->sd_bus_slot_unref(match);
      return "done";
    }
    auto seen = [&] {
      if (!c.match_error.empty()) return true;
      for (auto& j : c.removed)
        if (j.first == c.job) return true;
      return false;
    };
    r = pump(f, b.bus, now_us() + timeout_ms * 1000, seen);
    if (r < 0) throw sd_error(env, what + ": waiting for job " + c.job, r);
    if (!c.match_error.empty()) throw Napi::Error::New(env, what + ": cannot watch for the job's end: " + c.match_error);
  } catch (...) {
    f->sd_bus_slot_unref(match);
    throw;
  }
  f->sd_bus_slot_unref(match);
  for (auto& j : c.removed)
    if (j.first == c.job) return j.second;
  return "unknown";
}

bool user_arg(const Napi::CallbackInfo& info) { return info[0].ToBoolean().Value(); }

}  // namespace

Napi::Value SdStartTransientUnit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bus& b = bus_for(env, user_arg(info));
  const Sd* f = sd(env);
  std::string unit = info[1].As<Napi::String>().Utf8Value();
  std::string mode = info[2].As<Napi::String>().Utf8Value();
  Napi::Array props = info[3].As<Napi::Array>();
  uint64_t timeout_ms = (uint64_t)info[4].As<Napi::Number>().Int64Value();
  sd_bus_message* m = nullptr;
  int r = f->sd_bus_message_new_method_call(b.bus, &m, kDest, kPath, kManager, "StartTransientUnit");
  if (r >= 0) r = f->sd_bus_message_append(m, "ss", unit.c_str(), mode.c_str());
  if (r < 0) throw sd_error(env, "systemd: StartTransientUnit " + unit, r);
  try {
    append_props(env, f, m, props);
    r = f->sd_bus_message_append(m, "a(sa(sv))", 0);  // no auxiliary units
    if (r < 0) throw sd_error(env, "systemd: StartTransientUnit " + unit, r);
    std::string result = call_and_wait(env, b, m, "systemd: StartTransientUnit " + unit, timeout_ms);
    return Napi::String::New(env, result);
  } catch (...) {
    f->sd_bus_message_unref(m);
    throw;
  }
}

Napi::Value SdStopUnit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bus& b = bus_for(env, user_arg(info));
  const Sd* f = sd(env);
  std::string unit = info[1].As<Napi::String>().Utf8Value();
  uint64_t timeout_ms = (uint64_t)info[2].As<Napi::Number>().Int64Value();
  sd_bus_message* m = nullptr;
  int r = f->sd_bus_message_new_method_call(b.bus, &m, kDest, kPath, kManager, "StopUnit");
  if (r >= 0) r = f->sd_bus_message_append(m, "ss", unit.c_str(), "replace");
  if (r < 0) throw sd_error(env, "systemd: StopUnit " + unit, r);
  try {
    std::string result = call_and_wait(env, b, m, "systemd: StopUnit " + unit, timeout_ms, "org.freedesktop.systemd1.NoSuchUnit");
    return Napi::String::New(env, result);
  } catch (...) {
    f->sd_bus_message_unref(m);
    throw;
  }
}

// A call whose reply carries nothing we need.
static void simple_call(Napi::Env env, Bus& b, sd_bus_message* m, const std::string& what, bool ignore_errors) {
  Call c;
  c.f = sd(env);
  try {
    send_and_wait(env, b, m, c, what, 30000);
  } catch (const Napi::Error&) {
    c.f->sd_bus_message_unref(m);  // null once sent
    if (!ignore_errors) throw;
  }
}

Napi::Value SdSetUnitProperties(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bus& b = bus_for(env, user_arg(info));
  const Sd* f = sd(env);
  std::string unit = info[1].As<Napi::String>().Utf8Value();
  Napi::Array props = info[2].As<Napi::Array>();
  sd_bus_message* m = nullptr;
  int r = f->sd_bus_message_new_method_call(b.bus, &m, kDest, kPath, kManager, "SetUnitProperties");
  int runtime = 1;
  if (r >= 0) r = f->sd_bus_message_append(m, "sb", unit.c_str(), runtime);
  if (r < 0) throw sd_error(env, "systemd: SetUnitProperties " + unit, r);
  try {
    append_props(env, f, m, props);
  } catch (...) {
    f->sd_bus_message_unref(m);
    throw;
  }
  simple_call(env, b, m, "systemd: SetUnitProperties " + unit, false);
  return env.Undefined();
}

Napi::Value SdResetFailedUnit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bus& b = bus_for(env, user_arg(info));
  const Sd* f = sd(env);
  std::string unit = info[1].As<Napi::String>().Utf8Value();
  sd_bus_message* m = nullptr;
  int r = f->sd_bus_message_new_method_call(b.bus, &m, kDest, kPath, kManager, "ResetFailedUnit");
  if (r >= 0) r = f->sd_bus_message_append(m, "s", unit.c_str());
  if (r < 0) throw sd_error(env, "systemd: ResetFailedUnit " + unit, r);
  // A unit that is not failed, or is gone already: nothing to reset.
  simple_call(env, b, m, "systemd: ResetFailedUnit " + unit, true);
  return env.Undefined();
}

Napi::Value SdManagerProperty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bus& b = bus_for(env, user_arg(info));
  const Sd* f = sd(env);
  std::string name = info[1].As<Napi::String>().Utf8Value();
  sd_bus_message* m = nullptr;
  int r = f->sd_bus_message_new_method_call(b.bus, &m, kDest, kPath, "org.freedesktop.DBus.Properties", "Get");
  if (r >= 0) r = f->sd_bus_message_append(m, "ss", kManager, name.c_str());
  if (r < 0) throw sd_error(env, "systemd: Manager property " + name, r);
  Call c;
  c.f = f;
  c.want_string = true;
  try {
    send_and_wait(env, b, m, c, "systemd: Manager property " + name, 30000);
  } catch (...) {
    f->sd_bus_message_unref(m);  // null once sent
    throw;
  }
  return Napi::String::New(env, c.reply_string);
}

// The uid that owns the session bus, as `busctl --user status` shows it
// (OwnerUID): sd-bus takes the bus daemon's pid from the socket's
// credentials and reads the owner from its cgroup path (user-UID.slice).
// runc 1.1 asks this to tell root of a rootless user namespace (rootless
// podman: OwnerUID is the user's) from root of any other one. Throws when the
// bus cannot be reached or the owner cannot be told.
Napi::Value SdSessionBusOwnerUid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bus& b = bus_for(env, true);
  const Sd* f = sd(env);
  sd_bus_creds* c = nullptr;
  // No message is sent: the creds come from the socket and /proc. But a bus
  // still authenticating is first waited for, and that wait ends in EINTR
  // when a signal arrives; the wait is then simply taken up again.
  int r;
  uint64_t deadline = now_us() + 30000 * 1000;
  do r = f->sd_bus_get_owner_creds(b.bus, SD_BUS_CREDS_OWNER_UID | SD_BUS_CREDS_AUGMENT, &c);
  while (r == -EINTR && now_us() < deadline);
  uid_t uid = 0;
  if (r >= 0) r = f->sd_bus_creds_get_owner_uid(c, &uid);
  if (c) f->sd_bus_creds_unref(c);
  if (r < 0) throw sd_error(env, "systemd: the session bus owner's uid", r);
  return Napi::Number::New(env, static_cast<double>(uid));
}

}  // namespace tsrunc
