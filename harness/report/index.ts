// Writes every report format of a campaign, merge or worker run into its output directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../store/fsutil';
import type { ReportData } from './data';
import { renderHtml, type HtmlExtras } from './html';
import { renderJson } from './json';
import { renderJunit } from './junit';
import { renderMarkdown } from './markdown';
import { renderText } from './text';

export interface ReportPaths { markdown: string; json: string; junit: string; html: string; text: string }

/**
 * Write report.md, report.json, report.junit.xml, report.html and report.txt (mail-ready) into outDir (atomically). `html`
 * is what only report.html shows: the campaign's stats time series (the coverage-over-time chart) and its engine.
 */
export function writeReports(outDir: string, r: ReportData, html: HtmlExtras = {}): ReportPaths {
  fs.mkdirSync(outDir, { recursive: true });
  const paths: ReportPaths = {
    markdown: path.join(outDir, 'report.md'),
    json: path.join(outDir, 'report.json'),
    junit: path.join(outDir, 'report.junit.xml'),
    html: path.join(outDir, 'report.html'),
    text: path.join(outDir, 'report.txt'),
  };
  writeFileAtomic(paths.markdown, renderMarkdown(r));
  writeFileAtomic(paths.json, renderJson(r));
  writeFileAtomic(paths.junit, renderJunit(r));
  writeFileAtomic(paths.html, renderHtml(r, html));
  writeFileAtomic(paths.text, renderText(r));
  return paths;
}
