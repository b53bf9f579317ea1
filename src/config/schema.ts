// Schema for an OCI runtime-spec config.json (runtime-spec 1.2 / 1.3, Linux).
//
// Written against config.md, config-linux.md and schema/*.json of
// runtime-spec v1.3.0. Where the prose and the JSON schema disagree the prose
// wins (it is normative; the JSON schema is an aid), and each such choice is
// commented where it is made.
//
// zod/mini rather than classic zod: every CLI invocation pays for building
// these schemas at startup, and mini is an order of magnitude cheaper there.
//
// Every object is a loose object: the spec's extensibility rule says runtimes
// MUST ignore unknown properties, and we also want them preserved so that
// whatever reads the parsed config (hooks' state, `tsrunc state`, annotations
// consumers) sees the document as written.
//
// Error messages: schemas here attach a message only where the generic one
// built by load.ts from the issue code would read badly. The messages are the
// "reason" half of `<path>: <reason>`.

import * as z from 'zod/mini';
import { isExactInteger, type ExactInteger } from './json.ts';

// Before any schema is built: an object schema probes, as it is made, whether
// `new Function` works (for its JIT fast path), an eval we never use (one
// parse per process: load.ts parses jitless).
z.config({ jitless: true });

// ---------------------------------------------------------------------------
// Shared building blocks
// ---------------------------------------------------------------------------

/** zod calls the schema-level error map for a missing key too; keep "required" for that case. */
const orRequired =
  (msg: string) =>
  (iss: { input?: unknown }): string =>
    iss.input === undefined ? 'required' : msg;

/**
 * JSON has no integer type; integers are numbers without a fraction, checked
 * against the spec's range. One z.custom instead of z.number().check(...):
 * a single schema object rather than three, and the instances below are
 * shared, which matters because building schemas is most of our startup cost.
 */
function intRange(min: number, max: number, rangeMsg: string) {
  return z.custom<number>((v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, {
    error: (iss) =>
      iss.input === undefined ? 'required' : Number.isInteger(iss.input) ? rangeMsg : 'must be an integer',
  });
}

// JSON.parse yields doubles: 2^64-1 (RLIM_INFINITY, "unlimited" in many real
// configs) arrives as 2^64 and 2^63-1 as 2^63. The bounds are therefore the
// doubles those literals round to, so such values pass; code that hands them to
// the kernel must clamp (or treat >= 2^64-1 as "infinity").
const U64_MAX = 2 ** 64;
const I64_MAX = 2 ** 63;

// zod schemas are immutable, so one instance serves every field of that type.
const int32 = intRange(-2147483648, 2147483647, 'must be an integer between -2147483648 and 2147483647');
const uint16 = intRange(0, 65535, 'must be an integer between 0 and 65535');
const uint32 = intRange(0, 4294967295, 'must be an integer between 0 and 4294967295');
const int64 = intRange(-I64_MAX, I64_MAX, 'must be a 64-bit integer');
const uint64 = intRange(0, U64_MAX, 'must be a non-negative integer');
const str = z.string();
const bool = z.boolean();

const oInt32 = z.optional(int32);
const oUint16 = z.optional(uint16);
const oUint32 = z.optional(uint32);
const oInt64 = z.optional(int64);
const oUint64 = z.optional(uint64);
const oStr = z.optional(str);
const oBool = z.optional(bool);

const stringArray = z.array(z.string({ error: 'must be a string' }), { error: orRequired('must be an array of strings') });
const oStringArray = z.optional(stringArray);

const isAbsolute = (s: string) => s.startsWith('/');
const absPath = z.string().check(z.refine(isAbsolute, { error: 'must be an absolute path' }));

/**
 * An optional section whose schema is only built if a config contains it.
 * Most configs use a fraction of the spec, and schema construction is paid
 * on every CLI invocation.
 */
const lazyOpt = <T extends z.core.SomeType>(build: () => T) => z.optional(z.lazy(build));

/** Spec maps are string→string with non-empty keys (annotations: "Keys MUST NOT be an empty string"). */
const stringMap = z.lazy(() =>
  z
    .record(z.string(), z.string({ error: 'must be a string' }), { error: orRequired('must be an object of strings') })
    .check(
      z.superRefine((m: Record<string, string>, ctx) => {
        if ('' in m) ctx.addIssue({ code: 'custom', message: 'keys must not be empty', input: m });
      }),
    ),
);
const oStringMap = z.optional(stringMap);

/** "0-3,7". Pattern from config-schema.json (execCPUAffinity). */
const cpuList = () => z.string().check(z.regex(/^[0-9, -]*$/, { error: 'must be a CPU list such as 0-3,7' }));

// From https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

// ---------------------------------------------------------------------------
// Enumerations (exported so the runtime can map them without retyping them)
// ---------------------------------------------------------------------------

/** Order matters only for the error message listing them. */
export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;

/**
 * Linux resources from getrlimit(2). The spec says the runtime MUST error for
 * types it cannot map to the kernel, so unknown names are rejected here rather
 * than when setrlimit is attempted inside the half-built container.
 */
export const RLIMIT_TYPES = [
  'RLIMIT_AS',
  'RLIMIT_CORE',
  'RLIMIT_CPU',
  'RLIMIT_DATA',
  'RLIMIT_FSIZE',
  'RLIMIT_LOCKS',
  'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_NOFILE',
  'RLIMIT_NPROC',
  'RLIMIT_RSS',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
  'RLIMIT_SIGPENDING',
  'RLIMIT_STACK',
] as const;

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;

export const SECCOMP_OPERATORS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;

/** As listed in config-linux.md for libseccomp v2.6.0. */
export const SECCOMP_ARCHES = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
] as const;

export const SECCOMP_FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
] as const;

/**
 * The spec lists only the four non-recursive values, but runc (specconv's
 * mountPropagationMapping) also accepts the recursive r* spellings and engines
 * emit them, so refusing them would break runc compatibility.
 */
export const ROOTFS_PROPAGATIONS = [
  'private',
  'shared',
  'slave',
  'unbindable',
  'rprivate',
  'rshared',
  'rslave',
  'runbindable',
] as const;

export const SCHED_POLICIES = [
  'SCHED_OTHER',
  'SCHED_FIFO',
  'SCHED_RR',
  'SCHED_BATCH',
  'SCHED_ISO',
  'SCHED_IDLE',
  'SCHED_DEADLINE',
] as const;

export const SCHED_FLAGS = [
  'SCHED_FLAG_RESET_ON_FORK',
  'SCHED_FLAG_RECLAIM',
  'SCHED_FLAG_DL_OVERRUN',
  'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS',
  'SCHED_FLAG_UTIL_CLAMP_MIN',
  'SCHED_FLAG_UTIL_CLAMP_MAX',
] as const;

export const IOPRIO_CLASSES = ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'] as const;

export const MEMORY_POLICY_MODES = [
  'MPOL_DEFAULT',
  'MPOL_BIND',
  'MPOL_INTERLEAVE',
  'MPOL_WEIGHTED_INTERLEAVE',
  'MPOL_PREFERRED',
  'MPOL_PREFERRED_MANY',
  'MPOL_LOCAL',
] as const;

export const MEMORY_POLICY_FLAGS = ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'] as const;

// ---------------------------------------------------------------------------
// Top level pieces (config.md)
//
// Sections that a typical config (runc spec's, or an engine's) leaves out are
// wrapped in z.lazy: their schema is built on first use, so a config pays only
// for the parts it contains.
// ---------------------------------------------------------------------------

export const idMappingSchema = z.lazy(() =>
  z.looseObject({
    containerID: uint32,
    hostID: uint32,
    size: uint32,
  }),
);
const oIdMappings = z.optional(z.array(idMappingSchema));

export const rootSchema = z.looseObject({
  path: str,
  readonly: oBool,
});

export const mountSchema = z
  .looseObject({
    // Spec 1.2 (#1225) made relative destinations legal again on Linux
    // ("SHOULD be absolute ... MAY be relative, interpreted relative to /",
    // deprecated), and runc only warns about them (mountsWarn). So only
    // emptiness is an error; the mount code must resolve relative ones against "/".
    destination: z.string().check(z.minLength(1, { error: 'must not be empty' })),
    // Optional since spec 1.1 (source and type are REQUIRED only in the old schema).
    type: oStr,
    source: oStr,
    options: oStringArray,
    uidMappings: oIdMappings,
    gidMappings: oIdMappings,
  })
  .check(
    z.superRefine((m, ctx) => {
      // "If specified, it MUST be specified along with gidMappings" (and vice versa).
      if ((m.uidMappings === undefined) !== (m.gidMappings === undefined)) {
        const [missing, set] = m.uidMappings === undefined ? ['uidMappings', 'gidMappings'] : ['gidMappings', 'uidMappings'];
        ctx.addIssue({ code: 'custom', path: [missing], message: `required when ${set} is set`, input: m });
      }
    }),
  );

export const hookSchema = z.lazy(() =>
  z.looseObject({
    // "path MUST be absolute".
    path: absPath,
    args: oStringArray,
    env: oStringArray,
    // "If set, timeout MUST be greater than zero."
    timeout: z.optional(intRange(1, 2147483647, 'must be a positive integer')),
  }),
);

export const hooksSchema = z.lazy(() => {
  const list = z.optional(z.array(hookSchema));
  return z.looseObject({
    prestart: list,
    createRuntime: list,
    createContainer: list,
    startContainer: list,
    poststart: list,
    poststop: list,
  });
});

// ---------------------------------------------------------------------------
// Process (config.md "Process", "POSIX process", "Linux Process", "User")
// ---------------------------------------------------------------------------

export const userSchema = z.looseObject({
  // The prose marks uid and gid REQUIRED for POSIX (the JSON schema does not).
  // runc fills in 0 for a missing one, but "user": {} silently running as root
  // is exactly the surprise a validator should prevent.
  uid: uint32,
  gid: uint32,
  umask: oUint32,
  additionalGids: z.optional(z.array(uint32)),
  username: oStr,
});

export const rlimitSchema = z.looseObject({
  type: z.enum(RLIMIT_TYPES),
  soft: uint64,
  hard: uint64,
});

/**
 * Any string: the spec says capabilities that cannot be granted MUST be
 * logged as a warning and runtimes SHOULD NOT fail on them, so what a name
 * means is the runtime's call (container/capabilities.ts), not a config error.
 */
const capabilityList = z.optional(
  z.array(z.string({ error: 'must be a string' }), { error: orRequired('must be an array of strings') }),
);

export const capabilitiesSchema = z.looseObject({
  bounding: capabilityList,
  effective: capabilityList,
  inheritable: capabilityList,
  permitted: capabilityList,
  ambient: capabilityList,
});

export const schedulerSchema = z.lazy(() =>
  z
    .looseObject({
      policy: z.enum(SCHED_POLICIES),
      nice: oInt32,
      priority: oInt32,
      flags: z.optional(z.array(z.enum(SCHED_FLAGS))),
      runtime: oUint64,
      deadline: oUint64,
      period: oUint64,
    })
    .check(
      // Not spelled out by the spec, but they are what sched_setattr(2) accepts
      // and runc refuses them up front (validate.scheduler); failing at create is
      // better than failing in the middle of starting the container.
      z.superRefine((s, ctx) => {
        if (s.nice !== undefined && (s.nice < -20 || s.nice > 19)) {
          ctx.addIssue({ code: 'custom', path: ['nice'], message: 'must be an integer between -20 and 19', input: s.nice });
        }
        if (s.priority !== undefined && s.priority !== 0 && s.policy !== 'SCHED_FIFO' && s.policy !== 'SCHED_RR') {
          ctx.addIssue({ code: 'custom', path: ['priority'], message: 'only allowed with policy SCHED_FIFO or SCHED_RR', input: s.priority });
        }
        if (s.policy !== 'SCHED_DEADLINE') {
          for (const k of ['runtime', 'deadline', 'period'] as const) {
            if (s[k]) ctx.addIssue({ code: 'custom', path: [k], message: 'only allowed with policy SCHED_DEADLINE', input: s[k] });
          }
        }
      }),
    ),
);

export const ioPrioritySchema = z.lazy(() =>
  z.looseObject({
    class: z.enum(IOPRIO_CLASSES),
    // The prose says REQUIRED and 0 (highest) to 7 (lowest); the JSON schema only
    // says int32. Out-of-range values are refused by ioprio_set anyway.
    priority: intRange(0, 7, 'must be an integer between 0 and 7'),
  }),
);

/** `KEY=value`, with a non-empty KEY; runc refuses anything else when it builds the environment. */
const envList = z.array(
  z.string({ error: 'must be a string' }).check(
    z.refine((s: string) => s.indexOf('=') > 0 && !s.includes('\0'), { error: 'must be in the form KEY=value' }),
  ),
  { error: orRequired('must be an array of strings') },
);

/**
 * Used for config.json's `process` and on its own for `exec --process
 * process.json`, which takes the same object.
 */
export const processSchema = z.looseObject({
  terminal: oBool,
  consoleSize: lazyOpt(() => z.looseObject({ height: uint64, width: uint64 })),
  // "This value MUST be an absolute path."
  cwd: absPath,
  env: z.optional(envList),
  // Spec: "at least one entry is REQUIRED (non-Windows)". The JSON schema
  // types args as optional, but a process without argv cannot be exec'd.
  args: z.custom<string[]>((v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string'), {
    error: orRequired('must be a non-empty array of strings'),
  }),
  commandLine: oStr,
  rlimits: z.optional(
    z.array(rlimitSchema).check(
      z.superRefine((list, ctx) => {
        // "If rlimits contains duplicated entries with same type, the runtime MUST generate an error."
        const seen = new Set<string>();
        list.forEach((r, i) => {
          if (seen.has(r.type)) {
            ctx.addIssue({ code: 'custom', path: [i, 'type'], message: `duplicate rlimit ${r.type}`, input: r.type });
          }
          seen.add(r.type);
        });
      }),
    ),
  ),
  apparmorProfile: oStr,
  capabilities: z.optional(capabilitiesSchema),
  noNewPrivileges: oBool,
  // The kernel's range for /proc/<pid>/oom_score_adj; anything else would fail on write.
  oomScoreAdj: lazyOpt(() => intRange(-1000, 1000, 'must be an integer between -1000 and 1000')),
  scheduler: z.optional(schedulerSchema),
  selinuxLabel: oStr,
  ioPriority: z.optional(ioPrioritySchema),
  execCPUAffinity: lazyOpt(() => z.looseObject({ initial: z.optional(cpuList()), final: z.optional(cpuList()) })),
  // Spec's Go type is a non-pointer struct, so runc accepts a process without
  // "user" and runs it as 0:0; keep that, but see userSchema.
  user: z.optional(userSchema),
});

// ---------------------------------------------------------------------------
// Linux (config-linux.md)
// ---------------------------------------------------------------------------

export const namespaceSchema = z.looseObject({
  type: z.enum(NAMESPACE_TYPES),
  // "This value MUST be an absolute path in the runtime mount namespace."
  // Every type in NAMESPACE_TYPES can be joined with setns(2) (time since
  // Linux 5.8), so `path` is allowed for all of them; whether the file really
  // is a namespace of that type is for the runtime to check when it opens it.
  path: z.optional(absPath),
});

export const timeOffsetSchema = z.lazy(() =>
  z.looseObject({
    secs: oInt64,
    nanosecs: oUint32,
  }),
);

export const deviceSchema = z.lazy(() =>
  z
    .looseObject({
      type: z.string().check(z.regex(/^[cbup]$/, { error: 'must be one of c, b, u, p' })),
      path: str,
      major: oInt64,
      minor: oInt64,
      // The prose says uint32; the JSON schema caps it at 0777. Permission bits
      // above 0777 (setuid/setgid/sticky) are legitimate for mknod, so use uint32.
      fileMode: oUint32,
      uid: oUint32,
      gid: oUint32,
    })
    .check(
      z.superRefine((d, ctx) => {
        // "major, minor (int64, REQUIRED unless type is p)".
        if (d.type !== 'p') {
          for (const k of ['major', 'minor'] as const) {
            if (d[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `required for device type ${d.type}`, input: d });
          }
        }
      }),
    ),
);

export const deviceCgroupSchema = z.lazy(() =>
  z.looseObject({
    allow: bool,
    // "" is what a Go zero value serialises to without omitempty; runc treats it as "a".
    type: z.optional(z.string().check(z.regex(/^[abc]?$/, { error: 'must be one of a, b, c' }))),
    major: oInt64,
    minor: oInt64,
    access: z.optional(z.string().check(z.regex(/^[rwm]*$/, { error: 'must be a combination of r, w and m' }))),
  }),
);

export const memorySchema = z.lazy(() =>
  z.looseObject({
    limit: oInt64,
    reservation: oInt64,
    swap: oInt64,
    kernel: oInt64,
    kernelTCP: oInt64,
    // "The values are from 0 to 100." 2^64-1 is also let through: it is how a Go
    // uint64 -1 ("unset") serialises and runc accepts it for that reason.
    swappiness: z.optional(
      z.custom<number>((v) => typeof v === 'number' && ((Number.isInteger(v) && v >= 0 && v <= 100) || v === U64_MAX), {
        error: 'must be an integer between 0 and 100',
      }),
    ),
    disableOOMKiller: oBool,
    useHierarchy: oBool,
    checkBeforeUpdate: oBool,
  }),
);

export const cpuSchema = z.lazy(() =>
  z.looseObject({
    shares: oUint64,
    quota: oInt64,
    burst: oUint64,
    period: oUint64,
    realtimeRuntime: oInt64,
    realtimePeriod: oUint64,
    cpus: oStr,
    mems: oStr,
    idle: oInt64,
  }),
);

export const blockIOSchema = z.lazy(() => {
  const weightDevice = z
    .looseObject({
      major: int64,
      minor: int64,
      weight: oUint16,
      leafWeight: oUint16,
    })
    .check(
      z.superRefine((w, ctx) => {
        // "You MUST specify at least one of weight or leafWeight in a given entry."
        if (w.weight === undefined && w.leafWeight === undefined) {
          ctx.addIssue({ code: 'custom', message: 'must set weight or leafWeight', input: w });
        }
      }),
    );
  const throttle = z.optional(z.array(z.looseObject({ major: int64, minor: int64, rate: uint64 })));
  return z.looseObject({
    weight: oUint16,
    leafWeight: oUint16,
    weightDevice: z.optional(z.array(weightDevice)),
    throttleReadBpsDevice: throttle,
    throttleWriteBpsDevice: throttle,
    throttleReadIOPSDevice: throttle,
    throttleWriteIOPSDevice: throttle,
  });
});

export const hugepageLimitSchema = z.lazy(() =>
  z.looseObject({
    // Pattern from config-linux.json: "<size><unit-prefix>B", e.g. 2MB, 64KB.
    pageSize: z.string().check(z.regex(/^[1-9][0-9]*[KMG]B$/, { error: 'must be a size such as 2MB or 64KB' })),
    limit: uint64,
  }),
);

export const networkResourcesSchema = z.lazy(() =>
  z.looseObject({
    classID: oUint32,
    priorities: z.optional(z.array(z.looseObject({ name: str, priority: uint32 }))),
  }),
);

export const rdmaSchema = z.lazy(() =>
  z.record(
    z.string(),
    z
      .looseObject({
        hcaHandles: oUint32,
        hcaObjects: oUint32,
      })
      .check(
        z.superRefine((r, ctx) => {
          // "You MUST specify at least one of the hcaHandles or hcaObjects in a given entry."
          if (r.hcaHandles === undefined && r.hcaObjects === undefined) {
            ctx.addIssue({ code: 'custom', message: 'must set hcaHandles or hcaObjects', input: r });
          }
        }),
      ),
  ),
);

export const linuxResourcesSchema = z.lazy(() =>
  z.looseObject({
    devices: z.optional(z.array(deviceCgroupSchema)),
    memory: z.optional(memorySchema),
    cpu: z.optional(cpuSchema),
    blockIO: z.optional(blockIOSchema),
    hugepageLimits: z.optional(z.array(hugepageLimitSchema)),
    network: z.optional(networkResourcesSchema),
    // 1.3 made `limit` OPTIONAL (#1279); the older schema had it required.
    pids: lazyOpt(() => z.looseObject({ limit: oInt64 })),
    rdma: z.optional(rdmaSchema),
    unified: oStringMap,
  }),
);

// A double, or above 2^53 the exact digits (config/json.ts), at most 2^64-1.
const seccompArgValue = z.custom<number | ExactInteger>(
  (v) => (isExactInteger(v) ? BigInt(v.rawJSON) <= 0xffffffffffffffffn : typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U64_MAX),
  { error: (iss) => (iss.input === undefined ? 'required' : 'must be an integer between 0 and 18446744073709551615') },
);

export const syscallArgSchema = z.lazy(() =>
  z.looseObject({
    index: uint32,
    value: seccompArgValue,
    valueTwo: z.optional(seccompArgValue),
    op: z.enum(SECCOMP_OPERATORS),
  }),
);

export const syscallSchema = z.lazy(() =>
  z.looseObject({
    // "names MUST contain at least one entry."
    names: z.custom<string[]>((v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string'), {
      error: orRequired('must be a non-empty array of strings'),
    }),
    action: z.enum(SECCOMP_ACTIONS),
    errnoRet: oUint32,
    args: z.optional(z.array(syscallArgSchema)),
  }),
);

export const seccompSchema = z.lazy(() =>
  z
    .looseObject({
      defaultAction: z.enum(SECCOMP_ACTIONS),
      defaultErrnoRet: oUint32,
      architectures: z.optional(z.array(z.enum(SECCOMP_ARCHES))),
      flags: z.optional(z.array(z.enum(SECCOMP_FLAGS))),
      listenerPath: oStr,
      listenerMetadata: oStr,
      syscalls: z.optional(z.array(syscallSchema)),
    })
    .check(
      z.superRefine((s, ctx) => {
        // "This field MUST NOT be set if listenerPath is not set."
        if (s.listenerMetadata !== undefined && !s.listenerPath) {
          ctx.addIssue({ code: 'custom', path: ['listenerMetadata'], message: 'must not be set without listenerPath', input: s });
        }
      }),
    ),
);

export const intelRdtSchema = z.lazy(() =>
  z.looseObject({
    closID: oStr,
    // "SHOULD start with L3: and SHOULD NOT contain newlines": SHOULD only, so not enforced.
    l3CacheSchema: oStr,
    // "MUST start with MB: and MUST NOT contain newlines."
    memBwSchema: z.optional(z.string().check(z.regex(/^MB:[^\n]*$/, { error: 'must start with MB: and not contain newlines' }))),
    // "The value MUST NOT contain newlines."
    schemata: z.optional(
      z.array(z.string({ error: 'must be a string' }).check(z.regex(/^[^\n]*$/, { error: 'must not contain newlines' })), {
        error: orRequired('must be an array of strings'),
      }),
    ),
    enableMonitoring: oBool,
  }),
);

export const memoryPolicySchema = z.lazy(() =>
  z.looseObject({
    mode: z.enum(MEMORY_POLICY_MODES),
    nodes: oStr,
    flags: z.optional(z.array(z.enum(MEMORY_POLICY_FLAGS))),
  }),
);

export const personalitySchema = z.lazy(() =>
  z.looseObject({
    domain: z.enum(['LINUX', 'LINUX32']),
    flags: oStringArray,
  }),
);

/** Paths inside the container; "The values MUST be absolute paths". */
const absPathList = z.optional(
  z.array(z.string({ error: 'must be a string' }).check(z.refine(isAbsolute, { error: 'must be an absolute path' })), {
    error: orRequired('must be an array of strings'),
  }),
);

export const linuxSchema = z.looseObject({
  namespaces: z.optional(z.array(namespaceSchema)),
  uidMappings: oIdMappings,
  gidMappings: oIdMappings,
  // The JSON schema names only these two clocks, and they are the only ones
  // /proc/<pid>/timens_offsets accepts.
  timeOffsets: lazyOpt(() => z.looseObject({ boottime: z.optional(timeOffsetSchema), monotonic: z.optional(timeOffsetSchema) })),
  devices: z.optional(z.array(deviceSchema)),
  netDevices: lazyOpt(() => z.record(z.string(), z.looseObject({ name: oStr }))),
  cgroupsPath: oStr,
  resources: z.optional(linuxResourcesSchema),
  intelRdt: z.optional(intelRdtSchema),
  sysctl: oStringMap,
  seccomp: z.optional(seccompSchema),
  rootfsPropagation: lazyOpt(() => z.enum(ROOTFS_PROPAGATIONS)),
  maskedPaths: absPathList,
  readonlyPaths: absPathList,
  mountLabel: oStr,
  personality: z.optional(personalitySchema),
  memoryPolicy: z.optional(memoryPolicySchema),
});

// ---------------------------------------------------------------------------
// Whole document
// ---------------------------------------------------------------------------

type Issue = { path: (string | number)[]; message: string };

/**
 * Checks that span several parts of the document. zod only runs an object's
 * checks once its fields parsed, so the values here have their declared types.
 */
function crossChecks(c: z.infer<typeof configShape>): Issue[] {
  const issues: Issue[] = [];
  const linux = c.linux;
  const ns = new Map<string, number>();
  (linux?.namespaces ?? []).forEach((n, i) => {
    // "If a namespaces field contains duplicated namespaces with same type, the runtime MUST generate an error."
    if (ns.has(n.type)) issues.push({ path: ['linux', 'namespaces', i, 'type'], message: `duplicate namespace type ${n.type}` });
    else ns.set(n.type, i);
  });

  // The remaining checks are runc's (libcontainer/configs/validate): they only
  // depend on the document, and refusing at parse time gives one error format
  // instead of a late failure halfway through create.
  if (linux && !ns.has('user')) {
    for (const k of ['uidMappings', 'gidMappings'] as const) {
      if (linux[k]?.length) issues.push({ path: ['linux', k], message: 'requires a user namespace in linux.namespaces' });
    }
  }
  if (linux?.timeOffsets && !ns.has('time')) {
    issues.push({ path: ['linux', 'timeOffsets'], message: 'requires a time namespace in linux.namespaces' });
  }
  for (const k of ['hostname', 'domainname'] as const) {
    if (c[k] && !ns.has('uts')) issues.push({ path: [k], message: 'requires a uts namespace in linux.namespaces' });
  }
  if (linux && !ns.has('mount')) {
    for (const k of ['maskedPaths', 'readonlyPaths'] as const) {
      if (linux[k]?.length) issues.push({ path: ['linux', k], message: 'requires a mount namespace in linux.namespaces' });
    }
  }
  if (linux?.netDevices && Object.keys(linux.netDevices).length && !ns.has('network')) {
    issues.push({ path: ['linux', 'netDevices'], message: 'requires a network namespace in linux.namespaces' });
  }
  return issues;
}

const configShape = z.looseObject({
  ociVersion: z.string().check(z.regex(SEMVER, { error: 'must be a SemVer 2.0.0 version such as 1.2.0' })),
  // "On all other platforms [than Windows], this field is REQUIRED." We only run Linux.
  root: rootSchema,
  mounts: z.optional(z.array(mountSchema)),
  // Optional in the document ("REQUIRED when start is called"); loaders that
  // need it (create) enforce it, see load.ts.
  process: z.optional(processSchema),
  hostname: oStr,
  domainname: oStr,
  hooks: z.optional(hooksSchema),
  annotations: oStringMap,
  linux: z.optional(linuxSchema),
});

export const configSchema = configShape.check(
  z.superRefine((c, ctx) => {
    for (const iss of crossChecks(c)) ctx.addIssue({ code: 'custom', path: iss.path, message: iss.message, input: c });
  }),
);

// ---------------------------------------------------------------------------
// Types (inferred: the schema is the single source of truth)
// ---------------------------------------------------------------------------

export type Config = z.infer<typeof configSchema>;
export type Root = z.infer<typeof rootSchema>;
export type Mount = z.infer<typeof mountSchema>;
export type IDMapping = z.infer<typeof idMappingSchema>;
export type Hook = z.infer<typeof hookSchema>;
export type Hooks = z.infer<typeof hooksSchema>;
export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';
export type Process = z.infer<typeof processSchema>;
export type User = z.infer<typeof userSchema>;
export type Rlimit = z.infer<typeof rlimitSchema>;
export type RlimitType = (typeof RLIMIT_TYPES)[number];
export type Capabilities = z.infer<typeof capabilitiesSchema>;
export type Scheduler = z.infer<typeof schedulerSchema>;
export type IOPriority = z.infer<typeof ioPrioritySchema>;
export type Linux = z.infer<typeof linuxSchema>;
export type Namespace = z.infer<typeof namespaceSchema>;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];
export type TimeOffset = z.infer<typeof timeOffsetSchema>;
export type Device = z.infer<typeof deviceSchema>;
export type DeviceCgroup = z.infer<typeof deviceCgroupSchema>;
export type LinuxResources = z.infer<typeof linuxResourcesSchema>;
export type Memory = z.infer<typeof memorySchema>;
export type CPU = z.infer<typeof cpuSchema>;
export type BlockIO = z.infer<typeof blockIOSchema>;
export type HugepageLimit = z.infer<typeof hugepageLimitSchema>;
export type NetworkResources = z.infer<typeof networkResourcesSchema>;
export type Seccomp = z.infer<typeof seccompSchema>;
export type SeccompSyscall = z.infer<typeof syscallSchema>;
export type SeccompArg = z.infer<typeof syscallArgSchema>;
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number];
export type IntelRdt = z.infer<typeof intelRdtSchema>;
export type MemoryPolicy = z.infer<typeof memoryPolicySchema>;
export type Personality = z.infer<typeof personalitySchema>;
export type RootfsPropagation = (typeof ROOTFS_PROPAGATIONS)[number];
