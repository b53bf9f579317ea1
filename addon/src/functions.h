// The addon's functions by name. Init (addon.cc) exports only fn(name), which
// makes the JavaScript function for one of them when the CLI first asks for it:
// under Bun's N-API each function an addon makes costs ~2 us, and a verb uses
// a handful of the ~50 (src/addon.ts).
#pragma once
#include <napi.h>

#include <cstddef>

namespace tsrunc {

struct NamedFunction {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

// Each module's own, in it: fs.cc, program.cc, environ.cc.
extern const NamedFunction kFsFunctions[];
extern const size_t kFsFunctionCount;
extern const NamedFunction kProgramFunctions[];
extern const size_t kProgramFunctionCount;
extern const NamedFunction kEnvironFunctions[];
extern const size_t kEnvironFunctionCount;

}  // namespace tsrunc
