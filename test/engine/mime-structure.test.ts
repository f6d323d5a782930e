import { describe, expect, it } from 'vitest';
import { inspectMimeStructure } from '../../lambdas/engine/mime-structure.ts';

const limits = { maxParts: 500, maxDepth: 20 };

describe('inspectMimeStructure', () => {
  it('reads a Content-Type folded over lines, among long folded fields, and finds its parts', () => {
    const src =
      'Received: from a.example\r\n\tby b.example\r\n\twith SMTP; Mon, 30 Nov 2026 10:00:00 +0000\r\n' +
      'Content-Type: multipart/alternative;\r\n\tboundary="b1"\r\nSubject: folded\r\n  subject\r\n\r\n' +
      '--b1\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b1\r\nContent-Type: image/png\r\n' +
      'Content-Transfer-Encoding:\r\n base64\r\n\r\niVBORw0KGgo=\r\n--b1--\r\n';
    const structure = inspectMimeStructure(src, limits);
    expect(structure).toEqual({ parts: 3, maxDepth: 1, problems: [], htmlOnly: true });
  });

  it('reads the base64 encoding from a folded field and reports a part that breaks it', () => {
    const src =
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n' +
      'Content-Transfer-Encoding:\r\n\tbase64\r\n\r\nnot base64 at all!\r\n--b--\r\n';
    expect(inspectMimeStructure(src, limits).problems).toEqual(['unreadable: part 2 has invalid base64']);
  });

  it('reports each base64 part with a character base64 cannot hold, and not the clean part between', () => {
    const part = (body: string) =>
      `--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}\r\n`;
    const src =
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n' +
      part('QUJD\r\nREVG\r\nR0g*SQ==') +
      part('QUJD\r\nREVG') +
      part('QUJD\r\n\r\nREVG!') +
      '--b--\r\n';
    expect(inspectMimeStructure(src, limits).problems).toEqual([
      'unreadable: part 2 has invalid base64',
      'unreadable: part 4 has invalid base64',
    ]);
  });

  it('takes a field only at the start of a line, not inside another field', () => {
    const src = 'Subject: see\r\n Content-Type: multipart/mixed; boundary=x\r\n\r\nbody\r\n';
    expect(inspectMimeStructure(src, limits)).toEqual({
      parts: 1,
      maxDepth: 0,
      problems: [],
      htmlOnly: false,
    });
  });
});
