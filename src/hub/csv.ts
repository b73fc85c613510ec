// CSV (RFC 4180) for exports: every field quoted when it needs to be; objects as JSON.
// Fields that a spreadsheet would run as a formula (=, +, -, @ first) get a leading quote.
export function csvField(v: unknown): string {
  let s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: unknown[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}
