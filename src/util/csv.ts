/**
 * CSV cells safe to open in a spreadsheet: quoted where CSV needs it, and a cell that a spreadsheet would run
 * as a formula (starting with =, +, -, @, a tab or a carriage return; e.g. `=cmd|' /C calc'!A0`) is written
 * with a leading apostrophe, so it shows as text. Plain numbers ("-0.25") stay numbers.
 */
const FORMULA = /^[=+\-@\t\r]/;
const NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

export function csvCell(value: string | number): string {
  let s = String(value);
  if (FORMULA.test(s) && !NUMBER.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvLine(values: readonly (string | number)[]): string {
  return values.map(csvCell).join(',');
}
