// A command's result on standard output: JSON for scripts (`| jq`), or a table for a person at a
// terminal (hydra's and kcadm.sh's --output / -o). The default follows where the output goes.
import { columns } from './command.js';
import type { OutputFormat } from './parse.js';

export function defaultFormat(stdoutIsTTY: boolean | undefined): OutputFormat {
  return stdoutIsTTY === true ? 'table' : 'json';
}

export function render(result: unknown, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(result, null, 2)}\n`;
  return `${table(result)}\n`;
}

type Row = Record<string, unknown>;

const isRow = (value: unknown): value is Row => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One cell: scalars as they are, lists one item per line, nested objects as `key=value`. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cell).join('\n');
  if (isRow(value)) {
    return Object.entries(value)
      .map(([k, v]) => `${k}=${cell(v)}`)
      .join(', ');
  }
  return String(value);
}

/** Rows of objects: a header of their fields, one line per row. */
function listTable(rows: Row[]): string {
  if (rows.length === 0) return '(none)';
  const fields = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const matrix = [fields, ...rows.map((row) => fields.map((f) => cell(row[f]).replaceAll('\n', ', ')))];
  const widths = fields.map((_, i) => Math.max(...matrix.map((line) => (line[i] ?? '').length)));
  return matrix
    .map((line) =>
      line
        .map((text, i) => text.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One object: a field per line; a multi-line value continues under its first line. */
function recordTable(record: Row): string {
  const rows: [string, string][] = [];
  for (const [field, value] of Object.entries(record)) {
    const [first = '', ...rest] = cell(value).split('\n');
    rows.push([field, first], ...rest.map((line): [string, string] => ['', line]));
  }
  return columns(rows, '').join('\n');
}

export function table(result: unknown): string {
  if (Array.isArray(result) && result.every(isRow)) return listTable(result);
  // A page of the admin API ({items, nextCursor…}): the items as rows.
  if (isRow(result) && Array.isArray(result.items) && result.items.every(isRow)) return listTable(result.items);
  if (isRow(result)) return recordTable(result);
  return cell(result);
}
