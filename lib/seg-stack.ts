// The seg stack: message bucket, quarantine tables, functions, the inbound workflow, SES receipt
// rules and identities, the failure queue of ingest, the alarms and the scheduled reconciler. It
// validates the region (SES receiving) at synth; the config is validated before it gets here (loadConfig).

import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { SegConfig } from '../lambdas/config/schema.ts';
import { ENV } from '../lambdas/handlers/deps.ts';
import { SegAlarms } from './alarms.ts';
import { type FunctionName, SegFunctions } from './functions.ts';
import { InboundWorkflow } from './inbound-workflow.ts';
import { MailIdentities } from './mail-identities.ts';
import { MessageBucket } from './message-bucket.ts';
import { QuarantineTables } from './quarantine-tables.ts';
import { ReceiptRules } from './receipt-rules.ts';
import { ReceivingSetup } from './receiving-setup.ts';
import { assertReceivingRegion } from './ses-regions.ts';
import { SmartHost } from './smart-host.ts';
import type { WorkflowFunction } from './workflow/inbound-definition.ts';

export interface SegStackProps extends StackProps {
  /** The validated seg.config.json. Its `region` is the stack's region unless `env.region` says otherwise. */
  readonly config: SegConfig;
  /**
   * Activate the receipt rule set on deploy. It never replaces another active rule set unless
   * `replaceActiveRuleSet` (or the config's `receiving.replaceActiveRuleSet`) says so.
   * @default true
   */
  readonly activateRuleSet?: boolean;
  /**
   * Replace another receipt rule set active in the region.
   * @default config.receiving.replaceActiveRuleSet
   */
  readonly replaceActiveRuleSet?: boolean;
  /**
   * How often the reconciler re-drives stored messages that have no final disposition.
   * @default Duration.minutes(15)
   */
  readonly reconcileEvery?: Duration;
  /**
   * How often freshclam refreshes the antivirus definitions (ClamAV asks mirrors' clients for at most hourly).
   * @default Duration.hours(2)
   */
  readonly avDefinitionsEvery?: Duration;
}

/** Stack output keys; the CLI's `--stack NAME` mode reads them. */
export const STACK_OUTPUTS = {
  bucketName: 'BucketName',
  quarantineTableName: 'QuarantineTableName',
  ledgerTableName: 'LedgerTableName',
  stateMachineArn: 'StateMachineArn',
  releaseFunctionName: 'ReleaseFunctionName',
} as const;

/** Which function serves each task of the workflow definition. */
export const WORKFLOW_FUNCTION_NAMES: Readonly<Record<WorkflowFunction, FunctionName>> = {
  Parse: 'parse',
  ScanAuth: 'scan-auth',
  ScanContent: 'scan-content',
  ScanAttachments: 'scan-attachments',
  ScanLists: 'scan-lists',
  ScanAntivirus: 'scan-antivirus',
  Decide: 'decide',
  Deliver: 'deliver',
  Quarantine: 'quarantine',
};

/** The whole gateway in one stack. */
export class SegStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly quarantineTable: dynamodb.Table;
  readonly ledgerTable: dynamodb.Table;
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Readonly<Record<FunctionName, lambda.Function>>;
  /** Where ingest invocations that failed every retry land. */
  readonly ingestFailures: sqs.Queue;
  readonly alarms: SegAlarms;

  constructor(scope: Construct, id: string, props: SegStackProps) {
    const { config } = props;
    const region = assertReceivingRegion(props.env?.region ?? config.region);
    super(scope, id, { ...props, env: { ...props.env, region } });

    const messages = new MessageBucket(this, 'Messages', { messageDays: config.retention.messageDays });
    this.bucket = messages.bucket;
    const tables = new QuarantineTables(this, 'Tables');
    this.quarantineTable = tables.quarantine;
    this.ledgerTable = tables.ledger;

    const fns = new SegFunctions(this, 'Functions', {
      config,
      bucket: this.bucket,
      quarantineTable: this.quarantineTable,
      ledgerTable: this.ledgerTable,
    }).functions;
    this.functions = fns;

    const workflowFns = Object.fromEntries(
      Object.entries(WORKFLOW_FUNCTION_NAMES).map(([task, name]) => [task, fns[name]]),
    ) as Record<WorkflowFunction, lambda.Function>;
    this.stateMachine = new InboundWorkflow(this, 'Inbound', { functions: workflowFns }).stateMachine;
    for (const starter of [fns.ingest, fns.reconcile]) {
      starter.addEnvironment(ENV.stateMachineArn, this.stateMachine.stateMachineArn);
      this.stateMachine.grantStartExecution(starter);
    }

    // SES invokes ingest asynchronously: two retries, then the event is kept in this queue.
    this.ingestFailures = new sqs.Queue(this, 'IngestFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.ingestFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the on-failure destination of ingest; the reconciler re-ingests its events.',
    });
    fns.ingest.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.ingestFailures),
      retryAttempts: 2,
    });
    // The reconciler drains the queue through the same ingest logic, so a message keeps its real envelope.
    // SQS-managed encryption: no KMS key policy to grant.
    this.ingestFailures.grantConsumeMessages(fns.reconcile);
    fns.reconcile.addEnvironment(ENV.ingestFailureQueueUrl, this.ingestFailures.queueUrl);

    this.alarms = new SegAlarms(this, 'Alarms', {
      ingestFailures: this.ingestFailures,
      stateMachine: this.stateMachine,
      ...(config.notifications.email ? { email: config.notifications.email } : {}),
    });

    // The cut-over resources: activation, then (per managed MX) verification, then the MX record.
    const activate = props.activateRuleSet ?? true;
    const setup =
      activate || config.domains.some((d) => d.manageMx)
        ? new ReceivingSetup(this, 'ReceivingSetup')
        : undefined;
    const receiving = new ReceiptRules(this, 'Receiving', {
      domains: config.domains,
      bucket: this.bucket,
      ingest: fns.ingest,
      ...(activate && setup ? { setup } : {}),
      replaceActive: props.replaceActiveRuleSet ?? config.receiving.replaceActiveRuleSet,
    });
    // Every stored message is noticed here: the reconciler ingests any whose ingest never ran.
    receiving.arrivals.grantConsumeMessages(fns.reconcile);
    fns.reconcile.addEnvironment(ENV.arrivalQueueUrl, receiving.arrivals.queueUrl);
    new MailIdentities(this, 'Identities', {
      domains: config.domains,
      region,
      ...(setup ? { setup } : {}),
      ...(receiving.activation ? { activation: receiving.activation } : {}),
    });
    // Outbound: the DLP-checked smart host sending through SES.
    new SmartHost(this, 'Outbound', { config, bucket: this.bucket, functions: fns });

    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Re-drives stored inbound messages that have no final disposition',
      schedule: events.Schedule.rate(props.reconcileEvery ?? Duration.minutes(15)),
      targets: [new targets.LambdaFunction(fns.reconcile, { retryAttempts: 2 })],
    });

    // freshclam refreshes the antivirus definitions into av-definitions/; scanners pull them at most hourly.
    new events.Rule(this, 'AvDefinitionsSchedule', {
      description: 'Refreshes the ClamAV definitions (freshclam) into the message bucket',
      schedule: events.Schedule.rate(props.avDefinitionsEvery ?? Duration.hours(2)),
      targets: [new targets.LambdaFunction(fns['av-definitions'], { retryAttempts: 2 })],
    });

    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { key, value, description });
    output(
      STACK_OUTPUTS.bucketName,
      this.bucket.bucketName,
      'Raw messages, parse results and verdict traces',
    );
    output(STACK_OUTPUTS.quarantineTableName, this.quarantineTable.tableName, 'Quarantine items');
    output(STACK_OUTPUTS.ledgerTableName, this.ledgerTable.tableName, 'Disposition ledger');
    output(STACK_OUTPUTS.stateMachineArn, this.stateMachine.stateMachineArn, 'Inbound workflow');
    output(STACK_OUTPUTS.releaseFunctionName, fns.release.functionName, 'Releases a quarantined message');
  }
}
