// Reading a CSV file of people to import (parsed by ../csv.ts), with a header row naming the
// columns. Each row is then checked on its own, so the preview can say exactly what is wrong
// with which line of the file.
import { parseCsv } from '../csv';

export const ROLES = ['member', 'staff', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** One row to import, with what is wrong with it (empty: it can be imported). */
export interface ImportRow {
  /** The line of the file the row starts on, counting the header as 1 (what a spreadsheet shows). */
  line: number;
  email: string;
  name: string;
  role: Role;
  password?: string;
  problems: RowProblem[];
}

export type RowProblem =
  | { kind: 'missing'; column: 'email' | 'name' }
  | { kind: 'bad_email' }
  | { kind: 'bad_role'; value: string }
  | { kind: 'duplicate'; line: number }
  | { kind: 'exists' };

export type HeaderProblem = { kind: 'no_rows' } | { kind: 'missing_columns'; columns: string[] } | { kind: 'unknown_columns'; columns: string[] };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const KNOWN = ['email', 'name', 'role', 'password'];

/**
 * Reads and checks the rows. `existing` holds the institution's emails (lower case), so a row
 * for someone who is already a user is reported before anything is sent.
 */
export function checkImport(text: string, existing: Set<string>): { rows: ImportRow[]; header?: HeaderProblem } {
  const table = parseCsv(text);
  if (table.length < 2) return { rows: [], header: { kind: 'no_rows' } };
  const head = table[0]!.fields.map((h) => h.trim().toLowerCase());
  const missing = ['email', 'name'].filter((c) => !head.includes(c));
  if (missing.length) return { rows: [], header: { kind: 'missing_columns', columns: missing } };
  const unknown = head.filter((h) => h !== '' && !KNOWN.includes(h));
  if (unknown.length) return { rows: [], header: { kind: 'unknown_columns', columns: unknown } };
  const col = (name: string) => head.indexOf(name);
  const seen = new Map<string, number>();
  const rows = table.slice(1).map(({ line, fields }): ImportRow => {
    const get = (name: string) => (col(name) >= 0 ? (fields[col(name)] ?? '').trim() : '');
    const email = get('email');
    const name = get('name');
    const roleText = get('role').toLowerCase();
    const password = col('password') >= 0 ? (fields[col('password')] ?? '') : '';
    const problems: RowProblem[] = [];
    if (!email) problems.push({ kind: 'missing', column: 'email' });
    else if (!EMAIL.test(email)) problems.push({ kind: 'bad_email' });
    if (!name) problems.push({ kind: 'missing', column: 'name' });
    const role = (roleText === '' ? 'member' : roleText) as Role;
    if (!ROLES.includes(role)) problems.push({ kind: 'bad_role', value: roleText });
    const key = email.toLowerCase();
    if (email) {
      const first = seen.get(key);
      if (first !== undefined) problems.push({ kind: 'duplicate', line: first });
      else seen.set(key, line);
      if (existing.has(key)) problems.push({ kind: 'exists' });
    }
    return { line, email, name, role, ...(password ? { password } : {}), problems };
  });
  return { rows };
}
