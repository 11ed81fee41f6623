// report.json: the report data as it is (format tdpfuzz-report/1).
import type { ReportData } from './data';

export function renderJson(r: ReportData): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
