// CSV files from spreadsheets, as the import pages read them: RFC 4180 fields (quotes, doubled
// quotes, line breaks inside quotes), a comma or semicolon delimiter, an optional byte-order mark.
// Each record keeps the line of the file it starts on, so a preview names the line a person sees
// in their spreadsheet even after blank lines or a quoted multi-line field.

/** One record of a CSV file and the line of the file it starts on (1-based). */
export interface CsvRow {
  line: number;
  fields: string[];
}

/** Splits CSV text into records, skipping blank lines (line numbers stay those of the file). */
export function parseCsv(text: string): CsvRow[] {
  const src = text.replace(/^\uFEFF/, '');
  const firstLine = src.split(/\r?\n/, 1)[0] ?? '';
  // Spreadsheets in locales with a decimal comma (French among them) separate with semicolons.
  const sep = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  const rows: CsvRow[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === sep) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      row.push(field);
      rows.push({ line: start, fields: row });
      row = [];
      field = '';
      line++;
      start = line;
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push({ line: start, fields: row });
  }
  // Blank lines are not records.
  return rows.filter((r) => r.fields.some((f) => f.trim() !== ''));
}
