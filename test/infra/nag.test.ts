// cdk-nag AwsSolutions: every finding is fixed or acknowledged in code with a reason, for the plain
// configuration and for one that uses every optional feature (VPC delivery, Route 53 records, alarm mail).

import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildStack, testConfig } from './synth.ts';

const fullConfig = testConfig({
  domains: [
    {
      name: 'example.com',
      route: { host: '10.0.0.25', port: 25 },
      hostedZoneId: 'Z0123456789ABC',
      manageMx: true,
    },
    { name: 'example.org', route: { host: 'mail.example.org', authSecretName: 'seg/smtp/example.org' } },
  ],
  vpc: { vpcId: 'vpc-0abc', subnetIds: ['subnet-01', 'subnet-02'] },
  notifications: { email: 'ops@example.com' },
});

/** Unacknowledged findings as "RuleId at path" lines, so a failure names what to fix. */
function findings(config = testConfig()): string[] {
  const stack = buildStack(config);
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning for the default configuration', () => {
    expect(findings()).toEqual([]);
  });

  it('reports no unacknowledged error or warning with VPC delivery, hosted zones and alarm mail', () => {
    expect(findings(fullConfig)).toEqual([]);
  });

  it('gives every acknowledgement a reason', () => {
    const stack = buildStack(fullConfig);
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.values(m.data as Record<string, string>));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const reason of acknowledged) expect(String(reason).length).toBeGreaterThan(30);
  });
});
