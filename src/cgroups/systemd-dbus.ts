// The systemd cgroup driver's D-Bus calls, on libsystemd's sd-bus inside the
// addon (addon/src/dbus.cc; libsystemd.so.0 is dlopen()ed there at first use,
// so nothing is loaded for the cgroupfs driver). Synchronous, as the rest of
// a tsrunc command; no systemctl/busctl subprocess.
//
// Which manager: root talks to the system instance over the system bus (or
// its private socket when no bus daemon runs); a rootless caller (a non-root
// euid, or root of a user namespace whose session bus a user owns, as rootless
// podman's: create decides, container/rootless.ts rootlessSystemd) to its own user manager over the
// session bus ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus), as runc's
// rootless systemd driver does. sd-bus authenticates with EXTERNAL and lets
// the bus take the uid from the socket's credentials, so root of a user
// namespace is seen as the user who owns it.
import { nativeFunction } from '../addon.ts';
import { RuntimeError } from '../util/errors.ts';
import type { SdProp } from './systemd-props.ts';

/** runc's timeout for a unit's job (startUnit/stopUnit). */
const JOB_TIMEOUT_MS = 30_000;

interface SdAddon {
  sdStartTransientUnit(user: boolean, unit: string, mode: string, props: SdProp[], timeoutMs: number): string;
  sdStopUnit(user: boolean, unit: string, timeoutMs: number): string;
  sdSetUnitProperties(user: boolean, unit: string, props: SdProp[]): void;
  sdResetFailedUnit(user: boolean, unit: string): void;
  sdManagerProperty(user: boolean, name: string): string;
  sdSessionBusOwnerUid(): number;
}

const sd = <K extends keyof SdAddon>(name: K): SdAddon[K] => nativeFunction(name) as SdAddon[K];

/**
 * The user manager (not root), or the system one: the default when no
 * rootless decision is at hand (create passes its own: rootlessSystemd(),
 * which also counts root of a rootless user namespace, as runc does).
 */
export function useUserManager(): boolean {
  return process.geteuid?.() !== 0;
}

const dbusName = (e: unknown) => (e as { dbusName?: string }).dbusName;

/**
 * StartTransientUnit, and its job awaited (runc's startUnit): a leftover unit
 * of the same name (a failed one, or one a crash left) is reset and the start
 * tried once more, as runc does.
 */
export function startTransientUnit(user: boolean, unit: string, props: SdProp[]): void {
  let result: string;
  try {
    result = sd('sdStartTransientUnit')(user, unit, 'replace', props, JOB_TIMEOUT_MS);
  } catch (e) {
    if (dbusName(e) !== 'org.freedesktop.systemd1.UnitExists') throw new RuntimeError(`unable to start unit ${JSON.stringify(unit)}: ${(e as Error).message}`);
    resetFailedUnit(user, unit);
    try {
      result = sd('sdStartTransientUnit')(user, unit, 'replace', props, JOB_TIMEOUT_MS);
    } catch (e2) {
      throw new RuntimeError(`unable to start unit ${JSON.stringify(unit)}: ${(e2 as Error).message}`);
    }
  }
  if (result !== 'done') throw new RuntimeError(`error creating systemd unit \`${unit}\`: got \`${result}\``);
}

/** StopUnit, its job awaited; a unit that is gone already is fine. */
export function stopUnit(user: boolean, unit: string): void {
  let result: string;
  try {
    result = sd('sdStopUnit')(user, unit, JOB_TIMEOUT_MS);
  } catch (e) {
    throw new RuntimeError(`unable to stop unit ${JSON.stringify(unit)}: ${(e as Error).message}`);
  }
  if (result !== 'done') throw new RuntimeError(`error removing systemd unit \`${unit}\`: got \`${result}\``);
}

export function setUnitProperties(user: boolean, unit: string, props: SdProp[]): void {
  if (!props.length) return;
  try {
    sd('sdSetUnitProperties')(user, unit, props);
  } catch (e) {
    throw new RuntimeError(`unable to set unit properties: ${(e as Error).message}`);
  }
}

/** ResetFailedUnit; errors (not failed, no such unit) ignored, as runc does. */
export function resetFailedUnit(user: boolean, unit: string): void {
  sd('sdResetFailedUnit')(user, unit);
}

/** The manager's own cgroup (its ControlGroup property): where a user manager's slices live. */
export function managerCgroup(user: boolean): string {
  try {
    return sd('sdManagerProperty')(user, 'ControlGroup');
  } catch (e) {
    throw new RuntimeError((e as Error).message);
  }
}

/**
 * The uid owning the session bus (busctl --user status: OwnerUID), undefined
 * when there is none or it cannot be told: how runc tells root of a rootless
 * user namespace (rootless podman's: the user's) from root of another one.
 */
export function sessionBusOwnerUid(): number | undefined {
  try {
    return sd('sdSessionBusOwnerUid')();
  } catch {
    return undefined;
  }
}
