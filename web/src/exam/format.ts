// Durations and scores in the user's locale.
import { formatNumber } from '../i18n';

const unit = (n: number, u: 'hour' | 'minute' | 'second') =>
  formatNumber(n, { style: 'unit', unit: u, unitDisplay: 'long' });

/** A length of time in words: "1 hour 30 minutes", "45 seconds", "1 heure 30 minutes". */
export function formatSeconds(total: number): string {
  const s = Math.max(0, Math.round(total));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts: string[] = [];
  if (h) parts.push(unit(h, 'hour'));
  if (m) parts.push(unit(m, 'minute'));
  if (sec || parts.length === 0) parts.push(unit(sec, 'second'));
  return parts.join(' ');
}

/** Points with at most two decimals. */
export function formatPoints(n: number): string {
  return formatNumber(n, { maximumFractionDigits: 2 });
}

/** A fraction as a percentage: 0.1 → "10 %" (French), "10%" (English). */
export function formatPercent(fraction: number): string {
  return formatNumber(fraction, { style: 'percent', maximumFractionDigits: 1 });
}
