// The Lambda functions, one per entry file in lambdas/functions: NodejsFunctions bundled locally with
// esbuild (no Docker), and the two antivirus functions as one container image with Debian's ClamAV
// (av/lambda/Dockerfile, built by `cdk deploy`, never by synth), plus their least-privilege grants on
// the bucket, tables and secrets. It does not wire triggers (SES, schedule, workflow): the stack does that.

import { join } from 'node:path';
import {
  Annotations,
  type CfnElement,
  Duration,
  Fn,
  IgnoreMode,
  Size,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { SegConfig } from '../lambdas/config/schema.ts';
import { DELIVER_FUNCTION_TIMEOUT_S } from '../lambdas/contracts/delivery-budget.ts';
import { BUCKET_ACCESS, type BucketAccess } from '../lambdas/handlers/access.ts';
import { ENV, SERVICE } from '../lambdas/handlers/deps.ts';
import { bundlingOptions, cdkBundling, REPO_ROOT } from './bundling.ts';

/** Every Lambda entry file under lambdas/functions, by name (the keys of BUCKET_ACCESS). */
export const FUNCTION_NAMES = [
  'ingest',
  'parse',
  'scan-auth',
  'scan-content',
  'scan-lists',
  'scan-attachments',
  'scan-antivirus',
  'av-definitions',
  'decide',
  'deliver',
  'quarantine',
  'release',
  'reconcile',
  'scan-dlp',
  'outbound-abuse',
  'outbound-decide',
  'send',
  'block',
  'submit',
  'outbox-ingest',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile when the entry list and the bucket access table name different functions. */
export const FUNCTIONS_MATCH_BUCKET_ACCESS: Same<FunctionName, keyof typeof BUCKET_ACCESS> = true;

/** The functions that relay mail downstream (reconcile retries deferred deliveries). */
const DELIVERING: readonly FunctionName[] = ['deliver', 'release', 'reconcile'];

/** The functions that run in the ClamAV container image rather than as a Node.js bundle. */
export const IMAGE_FUNCTIONS: readonly FunctionName[] = ['scan-antivirus', 'av-definitions'];

export interface FunctionSpec {
  readonly memoryMb: number;
  /** Below the workflow state's TimeoutSeconds, so Step Functions sees the function's own error. */
  readonly timeout: Duration;
}

/** Memory and timeout per function (docs/cost.md prices GB-seconds with these memory sizes). */
export const SPECS: Record<FunctionName, FunctionSpec> = {
  ingest: { memoryMb: 256, timeout: Duration.seconds(30) },
  // Parsing a 40 MB message with attachments needs memory; the workflow state allows 120 s.
  parse: { memoryMb: 1536, timeout: Duration.seconds(110) },
  'scan-auth': { memoryMb: 512, timeout: Duration.seconds(55) },
  // Content and lists parse the message again (no parsed copy is stored): a 40 MB message's parse
  // holds about 100 MB beside the raw bytes, and CPU comes with memory (a full vCPU at 1,769 MB).
  'scan-content': { memoryMb: 1024, timeout: Duration.seconds(55) },
  'scan-lists': { memoryMb: 1024, timeout: Duration.seconds(55) },
  // Extraction holds decoded attachments and archive members (attachments.limits.maxTotalBytes, 100 MB).
  'scan-attachments': { memoryMb: 1536, timeout: Duration.seconds(55) },
  // clamd holds the official database in memory (~1.5 GB, twice while reloading); the first message
  // of a cold start waits for it to load (~30 s), so the workflow state allows 150 s.
  'scan-antivirus': { memoryMb: 4096, timeout: Duration.seconds(140) },
  // freshclam downloads ~300 MB on a cold /tmp.
  'av-definitions': { memoryMb: 1024, timeout: Duration.minutes(10) },
  decide: { memoryMb: 256, timeout: Duration.seconds(25) },
  deliver: { memoryMb: 1024, timeout: Duration.seconds(DELIVER_FUNCTION_TIMEOUT_S) },
  quarantine: { memoryMb: 256, timeout: Duration.seconds(55) },
  release: { memoryMb: 1024, timeout: Duration.seconds(120) },
  reconcile: { memoryMb: 256, timeout: Duration.seconds(300) },
  // Attachment text extraction (Office XML, PDF) for DLP needs the parse step's memory.
  'scan-dlp': { memoryMb: 1536, timeout: Duration.seconds(55) },
  'outbound-abuse': { memoryMb: 256, timeout: Duration.seconds(25) },
  'outbound-decide': { memoryMb: 256, timeout: Duration.seconds(25) },
  send: { memoryMb: 1024, timeout: Duration.seconds(110) },
  block: { memoryMb: 256, timeout: Duration.seconds(55) },
  submit: { memoryMb: 512, timeout: Duration.seconds(30) },
  'outbox-ingest': { memoryMb: 512, timeout: Duration.seconds(30) },
};

export interface SegFunctionsProps {
  /** The validated configuration; inlined into every bundle, so it is not bound by the 4 KB env limit. */
  readonly config: SegConfig;
  readonly bucket: s3.IBucket;
  readonly quarantineTable: dynamodb.ITable;
  readonly ledgerTable: dynamodb.ITable;
  /**
   * Lambda runtime.
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Log retention of every function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: string;
}

/** The functions of the gateway and their grants. */
export class SegFunctions extends Construct {
  readonly functions: Readonly<Record<FunctionName, lambda.Function>>;

  constructor(scope: Construct, id: string, props: SegFunctionsProps) {
    super(scope, id);
    const { config, bucket } = props;
    const vpcPlacement = config.vpc ? this.deliveryVpc(config.vpc) : undefined;

    const bundling = bundlingOptions(config);
    const make = (name: FunctionName): lambda.Function => {
      const spec = SPECS[name];
      const logGroup = new logs.LogGroup(this, `${name}-logs`, {
        retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      });
      // Delivery may need port 25, which Lambda only allows from a VPC; nothing else needs the VPC.
      const placement = DELIVERING.includes(name) ? vpcPlacement : undefined;
      const common = {
        architecture: lambda.Architecture.ARM_64,
        memorySize: spec.memoryMb,
        timeout: spec.timeout,
        logGroup,
        environment: {
          [ENV.bucket]: bucket.bucketName,
          [ENV.quarantineTable]: props.quarantineTable.tableName,
          [ENV.ledgerTable]: props.ledgerTable.tableName,
          [ENV.logLevel]: props.logLevel ?? 'INFO',
          [ENV.serviceName]: SERVICE,
          [ENV.metricsNamespace]: SERVICE,
          ...(bundling.nodeOptions ? { NODE_OPTIONS: bundling.nodeOptions } : {}),
        },
        // The state machine traces too, so one X-Ray trace follows a message through every function.
        tracing: lambda.Tracing.ACTIVE,
        ...(placement ?? {}),
      };
      if (IMAGE_FUNCTIONS.includes(name)) {
        return new lambda.DockerImageFunction(this, name, {
          ...common,
          code: antivirusImage(name, config),
          // The official database (~300 MB) plus clamd's temporary files live in /tmp.
          ephemeralStorageSize: Size.gibibytes(2),
        });
      }
      return new nodejs.NodejsFunction(this, name, {
        ...common,
        entry: join(REPO_ROOT, 'lambdas', 'functions', `${name}.ts`),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        runtime: props.runtime ?? lambda.Runtime.NODEJS_24_X,
        bundling: cdkBundling(config),
      });
    };

    const fns = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, make(name)])) as Record<
      FunctionName,
      lambda.Function
    >;
    this.functions = fns;

    // S3: each function reads, writes and lists exactly the prefixes BUCKET_ACCESS declares; an
    // integration test checks the handlers' real accesses against the same table.
    const bucketId = Stack.of(this).getLogicalId(bucket.node.defaultChild as CfnElement);
    const objects = (fn: lambda.IFunction, action: string, prefixes: readonly string[]) => {
      if (prefixes.length === 0) return;
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [action],
          resources: prefixes.map((p) => bucket.arnForObjects(`${p}*`)),
        }),
      );
      for (const prefix of prefixes) {
        Validations.of(fn).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
          reason: `Object keys under ${prefix} are per-message ids unknown at deploy time; access is limited to that prefix.`,
        });
      }
    };
    for (const name of FUNCTION_NAMES) {
      const access: BucketAccess = BUCKET_ACCESS[name];
      objects(fns[name], 's3:GetObject', access.read);
      objects(fns[name], 's3:PutObject', access.write);
      if (access.list.length > 0) {
        fns[name].addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['s3:ListBucket'],
            resources: [bucket.bucketArn],
            conditions: { StringLike: { 's3:prefix': access.list.map((p) => `${p}*`) } },
          }),
        );
      }
    }

    // DynamoDB: the ledger makes every side effect idempotent; the steps that hold mail write items.
    // Ingest writes the message's pending-index row (in the ledger table); deliver and quarantine remove it.
    props.ledgerTable.grantWriteData(fns.ingest);
    // Outbound submission writes the pending row too; send and block (below) remove it.
    props.ledgerTable.grantWriteData(fns.submit);
    props.ledgerTable.grantWriteData(fns['outbox-ingest']);
    props.ledgerTable.grantReadWriteData(fns.deliver);
    props.ledgerTable.grantReadWriteData(fns.quarantine);
    props.ledgerTable.grantReadWriteData(fns.release);
    // Reconcile claims and settles deferred deliveries, and queries the byStatus index for due ones.
    props.ledgerTable.grantReadWriteData(fns.reconcile);
    // Deliver and quarantine also get an item by key: an unconfirmed delivery moves the recipient's
    // item, or adds one. No Query or Scan: neither lists the quarantine.
    // Send too: an SES call that died mid-way is held as an UNCONFIRMED item, like a delivery.
    for (const fn of [fns.quarantine, fns.deliver, fns.send]) {
      props.quarantineTable.grantWriteData(fn);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [props.quarantineTable.tableArn],
        }),
      );
    }
    // Outbound: send and block claim and settle per recipient; abuse counts per sender (ledger rows).
    for (const name of ['send', 'block', 'outbound-abuse'] as const)
      props.ledgerTable.grantReadWriteData(fns[name]);
    props.quarantineTable.grantWriteData(fns.block);
    props.quarantineTable.grantReadWriteData(fns.release);
    props.quarantineTable.grantReadWriteData(fns.reconcile);
    const ledgerId = Stack.of(this).getLogicalId(props.ledgerTable.node.defaultChild as CfnElement);
    for (const fn of [
      fns.ingest,
      fns.submit,
      fns['outbox-ingest'],
      fns.deliver,
      fns.quarantine,
      fns.release,
      fns.reconcile,
      fns.send,
      fns.block,
      fns['outbound-abuse'],
    ]) {
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${ledgerId}.Arn>/index/*]`,
        reason:
          "The grant covers the ledger table's own index (byDue, the pending index the reconciler queries) and no other table.",
      });
    }
    const quarantineId = Stack.of(this).getLogicalId(props.quarantineTable.node.defaultChild as CfnElement);
    for (const fn of [fns.quarantine, fns.deliver, fns.send, fns.release, fns.reconcile, fns.block]) {
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${quarantineId}.Arn>/index/*]`,
        reason:
          "The grant covers the quarantine table's own indexes (byRecipient, byStatus) and no other table.",
      });
    }

    // Secrets Manager: only the SMTP AUTH secrets named by the routes.
    const secretNames = [
      ...new Set(config.domains.flatMap((d) => (d.route.authSecretName ? [d.route.authSecretName] : []))),
    ];
    secretNames.forEach((name, i) => {
      const secret = secretsmanager.Secret.fromSecretNameV2(this, `RouteSecret${i}`, name);
      for (const name of DELIVERING) secret.grantRead(fns[name]);
    });

    this.acknowledgeFindings(fns, vpcPlacement !== undefined);
  }

  /** The configured VPC and subnets, from their ids only (Vpc.fromLookup would need AWS at synth). */
  private deliveryVpc(vpcConfig: NonNullable<SegConfig['vpc']>) {
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'DeliveryVpc', {
      vpcId: vpcConfig.vpcId,
      // Not Stack.availabilityZones: with a concrete account that is a context lookup, which needs AWS at synth.
      // The subnets are given explicitly, so the zone list is never used to pick subnets.
      availabilityZones: [Fn.select(0, Fn.getAzs())],
    });
    const subnets = vpcConfig.subnetIds.map((subnetId, i) => {
      const subnet = ec2.Subnet.fromSubnetId(this, `DeliverySubnet${i}`, subnetId);
      // Nothing here reads the subnet's route table; the warning about its absence does not apply.
      Annotations.of(subnet).acknowledgeWarning(
        '@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'route table not used',
      );
      return subnet;
    });
    return { vpc, vpcSubnets: { subnets } };
  }

  private acknowledgeFindings(fns: Record<FunctionName, lambda.Function>, inVpc: boolean) {
    for (const [name, fn] of Object.entries(fns)) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permission; no other statement uses *.',
      });
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'AWSLambdaBasicExecutionRole only allows writing to CloudWatch Logs; each function has its own log group.',
      });
      if (inVpc && DELIVERING.includes(name as FunctionName)) {
        Validations.of(fn).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
          reason:
            'A VPC-attached function needs this AWS policy to manage its network interfaces (port 25 delivery).',
        });
      }
    }
  }
}

/**
 * The antivirus image: Debian's clamav-daemon and the two antivirus entries, built from the repository by
 * av/lambda/Dockerfile when `cdk deploy` publishes assets (synth only stages the context, which
 * .dockerignore limits to the sources). The validated config travels as a build argument.
 */
function antivirusImage(name: FunctionName, config: SegConfig): lambda.DockerImageCode {
  return lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
    file: 'av/lambda/Dockerfile',
    platform: Platform.LINUX_ARM64,
    ignoreMode: IgnoreMode.DOCKER,
    buildArgs: { SEG_CONFIG_JSON: JSON.stringify(config) },
    cmd: [`${name}.handler`],
  });
}
