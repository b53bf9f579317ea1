// Timestamps as RFC 3339 UTC text ("2026-11-25T20:14:41.757Z"), what
// Date.prototype.toISOString gives, without a Date: the first Date a process
// makes has V8 and ICU find the host's time zone (/etc/localtime, then a
// readlink per component of its target), ~0.2 ms that UTC text never needs.

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ms since the epoch (default: now) as RFC 3339 UTC with milliseconds. */
export function isoTime(ms = Date.now()): string {
  const days = Math.floor(ms / 86_400_000);
  const inDay = ms - days * 86_400_000;
  // The proleptic Gregorian date of a day number: eras of 400 years, each
  // counted from March 1st so that the leap day is the last of its year.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const time = `${pad(Math.floor(inDay / 3_600_000))}:${pad(Math.floor(inDay / 60_000) % 60)}:${pad(Math.floor(inDay / 1000) % 60)}.${pad(inDay % 1000, 3)}`;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${time}Z`;
}
