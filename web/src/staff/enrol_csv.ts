// Bulk enrolment from a CSV file (read by ../csv.ts): the role spellings and the per-row check
// against the institution's people and the course's enrolments.
import type { CsvRow } from '../csv';
import type { CourseRole, Enrolment } from './course_api';

export const ROLES: CourseRole[] = ['student', 'teaching_assistant', 'instructor', 'observer'];

/** Spellings a spreadsheet may use for a role, in English and French. */
const ROLE_ALIASES: Record<string, CourseRole> = {
  student: 'student',
  students: 'student',
  learner: 'student',
  etudiant: 'student',
  étudiant: 'student',
  étudiante: 'student',
  etudiante: 'student',
  teaching_assistant: 'teaching_assistant',
  'teaching assistant': 'teaching_assistant',
  ta: 'teaching_assistant',
  assistant: 'teaching_assistant',
  instructor: 'instructor',
  teacher: 'instructor',
  enseignant: 'instructor',
  enseignante: 'instructor',
  observer: 'observer',
  observateur: 'observer',
  observatrice: 'observer',
};

export function parseRole(s: string): CourseRole | undefined {
  return ROLE_ALIASES[s.trim().toLowerCase()];
}

export type RowProblem =
  | { kind: 'no_email' }
  | { kind: 'bad_email' }
  | { kind: 'bad_role'; role: string }
  | { kind: 'unknown_person' }
  | { kind: 'duplicate'; line: number }
  | { kind: 'inactive' };

export interface PlannedRow {
  /** The line of the file (1-based, the header counted). */
  line: number;
  email: string;
  role?: CourseRole;
  name?: string;
  userId?: string;
  /** What applying the row will do; absent when it has a problem. */
  action?: 'enrol' | 'change_role' | 'nothing';
  /** The role the person has in the course now, if enrolled. */
  currentRole?: CourseRole;
  problem?: RowProblem;
}

export interface Person {
  id: string;
  email: string;
  name: string;
  active: boolean;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Checks every record of a parsed file. The header (a first row naming an `email` column) says
 * which columns hold the email and the role; without one, the first column is the email and the
 * second the role. A missing role is `defaultRole`.
 */
export function planRows(rows: CsvRow[], people: Person[], enrolled: Enrolment[], defaultRole: CourseRole): PlannedRow[] {
  if (rows.length === 0) return [];
  const header = rows[0]!.fields.map((h) => h.trim().toLowerCase());
  const hasHeader = header.some((h) => h === 'email' || h === 'e-mail' || h === 'courriel' || h === 'adresse e-mail');
  const emailCol = hasHeader ? header.findIndex((h) => ['email', 'e-mail', 'courriel', 'adresse e-mail'].includes(h)) : 0;
  const roleCol = hasHeader ? header.findIndex((h) => h === 'role' || h === 'rôle') : 1;
  const byEmail = new Map(people.map((p) => [p.email.toLowerCase(), p]));
  const enrolledRole = new Map(enrolled.map((e) => [e.user_id, e.role]));
  const seen = new Map<string, number>();
  const out: PlannedRow[] = [];
  for (const { line, fields: r } of rows.slice(hasHeader ? 1 : 0)) {
    const email = (r[emailCol] ?? '').trim();
    const roleText = roleCol >= 0 ? (r[roleCol] ?? '').trim() : '';
    const row: PlannedRow = { line, email };
    if (!email) row.problem = { kind: 'no_email' };
    else if (!EMAIL.test(email)) row.problem = { kind: 'bad_email' };
    else if (roleText && !parseRole(roleText)) row.problem = { kind: 'bad_role', role: roleText };
    else if (seen.has(email.toLowerCase())) row.problem = { kind: 'duplicate', line: seen.get(email.toLowerCase())! };
    else {
      const person = byEmail.get(email.toLowerCase());
      row.role = roleText ? parseRole(roleText) : defaultRole;
      if (!person) row.problem = { kind: 'unknown_person' };
      else {
        row.name = person.name;
        row.userId = person.id;
        if (!person.active) row.problem = { kind: 'inactive' };
        else {
          row.currentRole = enrolledRole.get(person.id);
          row.action = !row.currentRole ? 'enrol' : row.currentRole === row.role ? 'nothing' : 'change_role';
        }
      }
    }
    if (email) seen.set(email.toLowerCase(), seen.get(email.toLowerCase()) ?? line);
    out.push(row);
  }
  return out;
}
