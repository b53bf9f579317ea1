// isoTime (src/util/time.ts) against Date's own toISOString.
import { describe, expect, it } from 'vitest';
import { isoTime } from '../src/util/time.ts';

describe('isoTime', () => {
  it('matches Date.prototype.toISOString at the edges of days, months, leap years and eras', () => {
    const at = (s: string) => Date.parse(s);
    const cases = [
      0, -1, 1, 86_399_999, 86_400_000,
      at('2000-02-29T12:00:00.000Z'), at('2000-03-01T00:00:00.000Z'), at('2100-02-28T23:59:59.999Z'), at('2100-03-01T00:00:00.000Z'),
      at('2024-02-29T23:59:59.999Z'), at('2026-12-31T23:59:59.999Z'), at('2027-01-01T00:00:00.000Z'),
      at('1600-02-29T01:02:03.004Z'), at('1969-12-31T23:59:59.999Z'), at('0001-01-01T00:00:00.000Z'), at('9999-12-31T23:59:59.999Z'),
    ];
    for (const ms of cases) expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('matches it for 20,000 random instants of years 1 to 9999', () => {
    const lo = Date.parse('0001-01-01T00:00:00.000Z');
    const hi = Date.parse('9999-12-31T23:59:59.999Z');
    for (let i = 0; i < 20_000; i++) {
      const ms = lo + Math.floor(Math.random() * (hi - lo));
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('is now by default', () => {
    const before = Date.now();
    const t = Date.parse(isoTime());
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
});
