import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BUCKET_ACCESS } from '../../lambdas/handlers/access.ts';
import { FUNCTION_NAMES, IMAGE_FUNCTIONS } from '../../lib/functions.ts';
import { buildStack, synthTemplate, testConfig } from './synth.ts';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/** Every statement of the inline policies attached to a function's role. */
function statementsOf(template: ReturnType<typeof synthTemplate>, fn: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`Functions${fn.replace('-', '')}ServiceRole`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
const s3Prefixes = (statements: Statement[], action: string) =>
  statements
    .filter((s) => actionsOf([s]).includes(action))
    .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
    .map((r) => JSON.stringify(r).match(/"\/([a-z-]+\/)\*"/)?.[1])
    .sort();

describe('functions', () => {
  const template = synthTemplate();

  it('creates one ARM64 function per entry file on a current Node.js runtime', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (f) =>
        JSON.stringify(f.Properties.Environment ?? '').includes('SEG_BUCKET') &&
        f.Properties.PackageType !== 'Image',
    );
    expect(fns).toHaveLength(FUNCTION_NAMES.length - IMAGE_FUNCTIONS.length);
    for (const fn of fns) {
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Runtime).toMatch(/^nodejs(22|24)\.x$/);
      expect(fn.Properties.Environment.Variables).toMatchObject({
        SEG_BUCKET: { Ref: expect.stringMatching(/^MessagesBucket/) },
      });
      // No source maps to load at a cold start (lib/bundling.ts): the bundles are readable as built.
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBeUndefined();
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining([
          'SEG_BUCKET',
          'SEG_QUARANTINE_TABLE',
          'SEG_LEDGER_TABLE',
          'POWERTOOLS_LOG_LEVEL',
        ]),
      );
      // The config is inlined into the bundle, not passed through the 4 KB environment.
      expect(fn.Properties.Environment.Variables.SEG_CONFIG_JSON).toBeUndefined();
    }
  });

  it('grants each function exactly the bucket prefixes BUCKET_ACCESS declares', () => {
    for (const fn of FUNCTION_NAMES) {
      const statements = statementsOf(template, fn);
      const access = BUCKET_ACCESS[fn];
      expect(s3Prefixes(statements, 's3:GetObject'), `${fn} reads`).toEqual([...access.read].sort());
      expect(s3Prefixes(statements, 's3:PutObject'), `${fn} writes`).toEqual([...access.write].sort());
      const list = statements.filter((s) => actionsOf([s]).includes('s3:ListBucket'));
      expect(
        list.map((s) => s.Condition),
        `${fn} lists`,
      ).toEqual(access.list.length ? [{ StringLike: { 's3:prefix': access.list.map((p) => `${p}*`) } }] : []);
      const s3Actions = actionsOf(statements).filter((a) => a.startsWith('s3:'));
      expect(new Set(s3Actions), fn).toEqual(
        new Set(s3Actions.filter((a) => ['s3:GetObject', 's3:PutObject', 's3:ListBucket'].includes(a))),
      );
    }
  });

  it('traces every function with X-Ray, like the state machine', () => {
    const ours = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Properties.Environment?.Variables?.SEG_BUCKET,
    );
    expect(ours).toHaveLength(FUNCTION_NAMES.length);
    for (const fn of ours) expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it('gives scanners bucket read access and nothing else', () => {
    for (const fn of ['scan-auth', 'scan-content', 'scan-lists', 'scan-attachments', 'scan-antivirus']) {
      // X-Ray trace submission is every function's, and touches no data.
      const actions = actionsOf(statementsOf(template, fn)).filter((a) => !a.startsWith('xray:'));
      expect(
        actions.every((a) => a === 's3:GetObject'),
        fn,
      ).toBe(true);
    }
  });

  it('lets deliver read the message, use the ledger and read only the route secret', () => {
    const statements = statementsOf(template, 'deliver');
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']),
    );
    const secrets = statements.filter((s) => actionsOf([s]).includes('secretsmanager:GetSecretValue'));
    expect(JSON.stringify(secrets)).toMatch(/secret:seg\/smtp\/example\.com-\?\?\?\?\?\?/);
    expect(actionsOf(statements)).not.toContain('s3:PutObject');
  });

  it.each(['quarantine', 'deliver'])(
    'lets %s write items and get one by key (an unconfirmed delivery), but not query or scan the table',
    (name) => {
      const statements = statementsOf(template, name);
      const quarantineTableStatements = statements.filter((s) =>
        JSON.stringify(s.Resource).includes('TablesQuarantine'),
      );
      expect(actionsOf(quarantineTableStatements)).toEqual(
        expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem']),
      );
      expect(actionsOf(quarantineTableStatements)).not.toContain('dynamodb:Scan');
      expect(actionsOf(quarantineTableStatements)).not.toContain('dynamodb:Query');
    },
  );

  it('lets the reconciler list nothing (the pending index is its work list), update deferred items and write only envelopes', () => {
    const statements = statementsOf(template, 'reconcile');
    expect(actionsOf(statements)).not.toContain('s3:ListBucket');
    const ledgerStatements = statements.filter((s) => JSON.stringify(s.Resource).includes('TablesLedger'));
    expect(actionsOf(ledgerStatements)).toEqual(expect.arrayContaining(['dynamodb:Query']));
    expect(JSON.stringify(ledgerStatements)).toContain('/index/*');
    const quarantineTableStatements = statements.filter((s) =>
      JSON.stringify(s.Resource).includes('TablesQuarantine'),
    );
    expect(actionsOf(quarantineTableStatements)).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem']),
    );
    // Re-ingesting a failed ingest event stores its envelope, as ingest does; nothing else.
    expect(s3Prefixes(statements, 's3:PutObject')).toEqual(['envelopes/']);
  });

  it('lets ingest write the pending index row in the ledger table, and the ledger carry the byDue index', () => {
    const ingest = statementsOf(template, 'ingest').filter((s) =>
      JSON.stringify(s.Resource).includes('TablesLedger'),
    );
    expect(actionsOf(ingest)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem']));
    expect(actionsOf(ingest)).not.toContain('dynamodb:Scan');
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'byDue',
          KeySchema: [
            { AttributeName: 'pendingIndex', KeyType: 'HASH' },
            { AttributeName: 'dueAt', KeyType: 'RANGE' },
          ],
        }),
      ]),
    });
  });

  it('lets only the reconciler consume the ingest failure queue, whose URL is in its environment', () => {
    const queueId = Object.keys(template.findResources('AWS::SQS::Queue'))[0] ?? '';
    const onQueue = (fn: string) =>
      statementsOf(template, fn).filter((s) => JSON.stringify(s.Resource).includes(queueId));
    const reconcile = onQueue('reconcile');
    expect(actionsOf(reconcile)).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']),
    );
    expect(actionsOf(reconcile)).not.toContain('sqs:SendMessage');
    for (const s of reconcile) expect(s.Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    for (const fn of FUNCTION_NAMES.filter((f) => f !== 'reconcile')) {
      expect(actionsOf(onQueue(fn)), fn).not.toContain('sqs:ReceiveMessage');
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ SEG_INGEST_FAILURE_QUEUE_URL: { Ref: queueId } }),
      },
    });
    const withQueueUrl = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) =>
      JSON.stringify(template.toJSON().Resources[id].Properties.Environment ?? {}).includes(
        'SEG_INGEST_FAILURE_QUEUE_URL',
      ),
    );
    expect(withQueueUrl.map((id) => id.replace(/[A-F0-9]{8}$/, ''))).toEqual(['Functionsreconcile']);
  });

  it('sends failed asynchronous ingest events to an encrypted queue after two retries', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^Functionsingest') },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestFailures'), 'Arn'] } },
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('runs the reconciler every 15 minutes', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Functionsreconcile'), 'Arn'] } }),
      ],
    });
  });

  it('places the delivering functions (deliver, release, reconcile) in the VPC subnets and nothing else', () => {
    const vpcTemplate = synthTemplate(
      testConfig({
        domains: [{ name: 'example.com', route: { host: '10.0.0.25', port: 25 } }],
        vpc: { vpcId: 'vpc-0abc', subnetIds: ['subnet-01', 'subnet-02'] },
      }),
    );
    const inVpc = Object.entries(vpcTemplate.findResources('AWS::Lambda::Function')).filter(
      ([, f]) => f.Properties.VpcConfig,
    );
    expect(inVpc.map(([id]) => id.replace(/[A-F0-9]{8}$/, '')).sort()).toEqual([
      'Functionsdeliver',
      'Functionsreconcile',
      'Functionsrelease',
    ]);
    for (const [, fn] of inVpc) expect(fn.Properties.VpcConfig.SubnetIds).toEqual(['subnet-01', 'subnet-02']);
    vpcTemplate.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0abc' });
  });
});

describe('offline synth', () => {
  it('needs no context lookup, even with a VPC and a concrete account', () => {
    const stack = buildStack(
      testConfig({
        domains: [
          { name: 'example.com', route: { host: '10.0.0.25', port: 25 }, hostedZoneId: 'Z0123456789ABC' },
        ],
        vpc: { vpcId: 'vpc-0abc', subnetIds: ['subnet-01'] },
      }),
    );
    const assembly = App.of(stack)?.synth() as { manifest: { missing?: unknown[] } } | undefined;
    expect(assembly?.manifest.missing ?? []).toEqual([]);
  });
});
