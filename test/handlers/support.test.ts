// Small pure pieces the handlers rely on: the connecting client from the Received header, header
// field reads, address extraction and Step Functions error descriptions.

import { describe, expect, it } from 'vitest';
import { addressesIn, headerValues } from '../../lambdas/handlers/header-block.ts';
import { connectionFrom } from '../../lambdas/handlers/parse.ts';
import { describeStatesError, groupByDomain } from '../../lambdas/handlers/support.ts';

const received = (value: string) => ({
  headers: [['received', value] as const, ['received', 'from x (y [10.0.0.1])'] as const],
});

describe('connectionFrom', () => {
  it('reads HELO and IP from the topmost Received header SES writes', () => {
    const header =
      'from mail-wr1-f41.google.com (mail-wr1-f41.google.com [209.85.221.41])\r\n by inbound-smtp.us-east-1.amazonaws.com with SMTP id x for a@example.com';
    expect(connectionFrom(received(header))).toEqual({
      helo: 'mail-wr1-f41.google.com',
      remoteIp: '209.85.221.41',
    });
  });

  it('reads an IPv6 literal', () => {
    expect(connectionFrom(received('from client.example ([IPv6:2001:db8::1]) by mx'))).toEqual({
      helo: 'client.example',
      remoteIp: '2001:db8::1',
    });
  });

  it('returns nothing when there is no Received header or it has another form', () => {
    expect(connectionFrom({ headers: [] })).toEqual({});
    expect(connectionFrom(received('by mx.example with local id 1'))).toEqual({});
  });
});

describe('header reads', () => {
  const raw = new TextEncoder().encode(
    'To: Alice <Alice@Example.com>, bob@example.org\r\nCc: "Carol, C." <carol@example.com>\r\nSubject: one\r\n two\r\n\r\nTo: body@example.com\r\n',
  );

  it('unfolds values and never reads the body', () => {
    expect(headerValues(raw, 'subject')).toEqual(['one two']);
    expect(headerValues(raw, 'to')).toEqual(['Alice <Alice@Example.com>, bob@example.org']);
  });

  it('extracts lowercase addresses from address lists', () => {
    expect(headerValues(raw, 'to').flatMap(addressesIn)).toEqual(['alice@example.com', 'bob@example.org']);
    expect(headerValues(raw, 'cc').flatMap(addressesIn)).toEqual(['carol@example.com']);
  });
});

describe('describeStatesError', () => {
  it('uses the Lambda error message from a JSON Cause', () => {
    const cause = JSON.stringify({ errorType: 'PermanentDeliveryError', errorMessage: '550 no such user' });
    expect(describeStatesError({ Error: 'PermanentDeliveryError', Cause: cause })).toBe(
      'PermanentDeliveryError: 550 no such user',
    );
  });

  it('keeps a plain Cause and bounds the length', () => {
    expect(describeStatesError({ Error: 'States.Timeout', Cause: 'x'.repeat(2000) })).toHaveLength(500);
  });
});

describe('groupByDomain', () => {
  it('groups recipients by lowercase domain in envelope order', () => {
    expect([...groupByDomain(['a@Example.com', 'b@example.org', 'c@example.com'])]).toEqual([
      ['example.com', ['a@Example.com', 'c@example.com']],
      ['example.org', ['b@example.org']],
    ]);
  });
});
