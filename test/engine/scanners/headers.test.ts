import { describe, expect, it } from 'vitest';
import { headers } from '../../../lambdas/engine/scanners/headers.ts';
import { ctxFrom, fixture, inputFrom } from '../helpers.ts';

const symbolsOf = async (raw: string | Buffer) =>
  (await headers.scan(await inputFrom(raw), ctxFrom())).map((f) => f.symbol).sort();
const RECEIVED =
  'Received: from mx.sender.example ([192.0.2.10]) by mx.example.com; Mon, 02 Mar 2026 10:00:05 +0000';
const message = (lines: string[]): string =>
  `${[RECEIVED, ...lines, 'Subject: s', ''].join('\r\n')}\r\nbody\r\n`;

describe('headers scanner', () => {
  it('emits HEADER_DATE_FUTURE and HEADER_MESSAGE_ID_MALFORMED for a forged date and id', async () => {
    const findings = await headers.scan(await inputFrom(fixture('header-forged-date.eml')), ctxFrom());
    expect(findings).toEqual([
      {
        symbol: 'HEADER_DATE_FUTURE',
        evidence: 'Date Sat, 02 Jan 2027 10:00:00 +0000, received 2026-03-02T10:00:05.000Z',
      },
      { symbol: 'HEADER_MESSAGE_ID_MALFORMED', evidence: 'not-a-message-id' },
    ]);
  });

  it('emits HEADER_DATE_PAST for a date more than a year before receipt', async () => {
    const raw = message([
      'From: a@elsewhere.example',
      'Date: Tue, 01 Jan 2024 00:00:00 +0000',
      'Message-ID: <1@x.example>',
    ]);
    expect(await symbolsOf(raw)).toEqual(['HEADER_DATE_PAST']);
  });

  it('emits the missing-header symbols for a message with no Date, Message-ID or From', async () => {
    expect(await symbolsOf(message([]))).toEqual([
      'HEADER_FROM_MISSING',
      'HEADER_MISSING_DATE',
      'HEADER_MISSING_MESSAGE_ID',
    ]);
  });

  it('emits HEADER_FROM_MULTIPLE for two From headers', async () => {
    const raw = message([
      'From: a@elsewhere.example',
      'From: ceo@example.com',
      'Date: Mon, 02 Mar 2026 09:59:00 +0000',
      'Message-ID: <1@x.example>',
    ]);
    expect(await symbolsOf(raw)).toEqual(['HEADER_FROM_MULTIPLE']);
  });

  it('emits HEADER_DATE_MALFORMED for an unreadable Date', async () => {
    const raw = message(['From: a@elsewhere.example', 'Date: yesterday-ish', 'Message-ID: <1@x.example>']);
    expect(await symbolsOf(raw)).toEqual(['HEADER_DATE_MALFORMED']);
  });

  it('emits nothing for well-formed headers dated minutes before receipt', async () => {
    expect(await symbolsOf(fixture('vip-display-name-spoof.eml'))).toEqual([]);
  });
});
