// The entries dist/tsrunc's entry stub put first in its environment, taken out
// again. The stub (scripts/elf-hugetext.mjs) adds them before Bun starts, for
// Bun itself: JavaScriptCore reads its options (BUN_JSC_useJIT=0,
// scripts/bun-compile.mjs) from the environment as it starts, and has read
// them by the time the addon loads. They are not the caller's: hooks without
// `env` and ps(1) get tsrunc's environment, as runc gives its own, and must
// not get them. So the addon drops them from `environ` as it loads, before
// anything is started, and hooks.ts asks which names to leave out of
// process.env (Bun's copy of the environment, made at its start).
//
// The stub's strings follow its code, within 4096 bytes after the
// executable's entry point (AT_ENTRY). No other environment string lies
// there: the kernel's are on the stack, setenv's on the heap. Under Node, or
// a build without the stub, nothing matches and nothing changes.
#include <napi.h>
#include <string.h>
#include <sys/auxv.h>

#include <string>
#include <vector>

#include "functions.h"

extern char** environ;

namespace tsrunc {

namespace {

// The names of the entries taken out, for which no other entry is left.
std::vector<std::string> dropped;

Napi::Value StubEnv(const Napi::CallbackInfo& info) {
  Napi::Array names = Napi::Array::New(info.Env(), dropped.size());
  for (uint32_t i = 0; i < dropped.size(); i++) names.Set(i, Napi::String::New(info.Env(), dropped[i]));
  return names;
}

}  // namespace

// At load, on the main thread, before any thread of tsrunc's starts a process.
void DropStubEnviron() {
  const uintptr_t entry = getauxval(AT_ENTRY);
  if (!entry || !environ) return;
  std::vector<std::string> names;
  char** keep = environ;
  for (char** e = environ; *e; e++) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(*e);
    if (at >= entry && at < entry + 4096) {
      const char* eq = strchr(*e, '=');
      names.emplace_back(*e, eq ? eq - *e : strlen(*e));
    } else {
      *keep++ = *e;
    }
  }
  *keep = nullptr;
  // A name the caller set too keeps the caller's entry, here and in process.env.
  for (auto& n : names)
    if (!getenv(n.c_str())) dropped.push_back(n);
}

const NamedFunction kEnvironFunctions[] = {{"stubEnv", StubEnv}};
const size_t kEnvironFunctionCount = sizeof(kEnvironFunctions) / sizeof(kEnvironFunctions[0]);

}  // namespace tsrunc
