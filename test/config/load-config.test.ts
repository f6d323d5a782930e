import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../lambdas/config/json-schema.ts';
import {
  ConfigError,
  EMBEDDED_DEFAULT_CONFIG,
  loadConfig,
  parseConfig,
} from '../../lambdas/config/load-config.ts';

describe('parseConfig', () => {
  it('fills defaults for a minimal file', () => {
    const config = parseConfig({ domains: [{ name: 'example.org', route: { host: 'mx.example.org' } }] });
    expect(config.domains[0]?.route.port).toBe(587);
    expect(config.policy.thresholds).toEqual({ tag: 5, quarantine: 10, reject: 25 });
    expect(config.local.smtpPort).toBe(2525);
    expect(config.delivery.maxQueueHours).toBe(120);
  });

  it('refuses a delivery queue that outlives the retention of the message or the item', () => {
    const domains = [{ name: 'example.org', route: { host: 'mx.example.org' } }];
    expect(() =>
      parseConfig({
        domains,
        delivery: { maxQueueHours: 72 },
        retention: { messageDays: 3, quarantineDays: 3 },
      }),
    ).not.toThrow();
    expect(() =>
      parseConfig({
        domains,
        delivery: { maxQueueHours: 73 },
        retention: { messageDays: 3, quarantineDays: 3 },
      }),
    ).toThrow(/delivery\.maxQueueHours/);
    expect(() =>
      parseConfig({ domains, delivery: { maxQueueHours: 49 }, retention: { quarantineDays: 2 } }),
    ).toThrow(/deleted before their last retry/);
  });

  it('refuses quarantine items that outlive their messages', () => {
    const domains = [{ name: 'example.org', route: { host: 'mx.example.org' } }];
    expect(() =>
      parseConfig({
        domains,
        delivery: { maxQueueHours: 24 },
        retention: { quarantineDays: 7, messageDays: 7 },
      }),
    ).not.toThrow();
    expect(() =>
      parseConfig({
        domains,
        delivery: { maxQueueHours: 24 },
        retention: { quarantineDays: 8, messageDays: 7 },
      }),
    ).toThrow(/retention\.quarantineDays.*could not be released/s);
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      parseConfig({
        domains: [{ name: 'Not A Domain', route: { host: 'x', port: 25 } }],
        policy: { thresholds: { tag: 50 }, weights: { NO_SUCH_SYMBOL: 1 } },
        surprise: true,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/domains\.0\.name/);
    expect(problems).toMatch(/thresholds/);
    expect(problems).toMatch(/weights/);
    expect(problems).toMatch(/surprise/);
    expect(problems).toMatch(/port 25 needs `vpc`/);
  });

  it('refuses an empty domain list', () => {
    expect(() => parseConfig({ domains: [] })).toThrow(/domains/);
  });

  it('accepts the embedded defaults', () => {
    expect(parseConfig(EMBEDDED_DEFAULT_CONFIG).domains[0]?.name).toBe('example.com');
  });
});

describe('loadConfig', () => {
  it('names the file and the JSON error for a broken file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'seg-config-')), 'seg.config.json');
    writeFileSync(file, '{ "domains": [');
    expect(() => loadConfig(file)).toThrow(/seg\.config\.json[\s\S]*not valid JSON/);
  });
});

describe('seg.config.schema.json', () => {
  it('matches the schema generated from the validator', () => {
    const committed = JSON.parse(readFileSync('seg.config.schema.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});
