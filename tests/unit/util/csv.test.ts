import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { csvCell, csvLine } from '../../../src/util/csv';

describe('spreadsheet-safe CSV (the Probe page export)', () => {
  it('writes formula-looking fields as text, and reads back to the same text plus the apostrophe', () => {
    const hostile = ["=cmd|' /C calc'!A0", '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1'];
    for (const h of hostile) expect(csvCell(h).replace(/^"/, '')[0]).toBe("'");
    const line = csvLine(['q1', "=cmd|' /C calc'!A0", 'a, "b"', '0.2500', '-0.25', 'plain']);
    const back = Papa.parse<string[]>(line).data[0];
    expect(back).toEqual(['q1', "'=cmd|' /C calc'!A0", 'a, "b"', '0.2500', '-0.25', 'plain']);
  });
});
