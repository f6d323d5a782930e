// CloudWatch alarms for mail that is stuck: ingest events that failed every retry, and workflow runs
// that ended in the Undisposed Fail state (ExecutionsFailed) or timed out. With an address set, an
// encrypted SNS topic mails them. It does not alarm on verdicts: a spam wave is the gateway working.

import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface SegAlarmsProps {
  /** The on-failure destination of ingest. */
  readonly ingestFailures: sqs.IQueue;
  /** The inbound workflow; its failed executions are messages with no disposition. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Where to mail the alarms.
   * @default no topic; the alarms show in the CloudWatch console only
   */
  readonly email?: string;
}

/** The gateway's alarms and, when `email` is set, the topic that mails them. */
export class SegAlarms extends Construct {
  /** An ingest invocation failed every retry: the message is stored but its workflow never started. */
  readonly ingestFailed: cloudwatch.Alarm;
  /** A workflow run failed (even the fail-safe quarantine could not record the message) or timed out. */
  readonly undisposed: cloudwatch.Alarm;
  readonly topic?: sns.Topic;

  constructor(scope: Construct, id: string, props: SegAlarmsProps) {
    super(scope, id);
    // One event is enough: every one is a message nobody has looked at yet.
    const period = Duration.minutes(5);
    this.ingestFailed = new cloudwatch.Alarm(this, 'IngestFailed', {
      alarmDescription:
        'Ingest failed every retry for a received message; its event is in the ingest failure queue. The reconciler re-ingests it with its real envelope and deletes it within 15 minutes, which clears this alarm; if it stays on, re-ingest keeps failing: read the reconcile and ingest logs.',
      metric: props.ingestFailures.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.undisposed = new cloudwatch.Alarm(this, 'Undisposed', {
      alarmDescription:
        'An inbound workflow run failed (the Undisposed state) or timed out: a message has no disposition. The reconciler re-drives it; search the logs for invocation failed.',
      // A run that outlives the EXPRESS 5-minute limit is counted as timed out, not failed: same result.
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        usingMetrics: {
          failed: props.stateMachine.metricFailed({ period, statistic: 'Sum' }),
          timedOut: props.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
        },
        label: 'Executions failed or timed out',
        period,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (!props.email) return;
    // CloudWatch may act for this account's alarms in this region only (confused deputy).
    const stack = Stack.of(this);
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    const cloudWatchService = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    // A customer managed key: the AWS managed SNS key's policy does not let CloudWatch publish.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the seg alarm topic',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudWatchService],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { masterKey: key, enforceSSL: true });
    // enforceSSL writes a topic policy holding only its Deny, and a topic policy replaces the default
    // one that let CloudWatch publish: without this statement no alarm mail would ever arrive.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [cloudWatchService],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    for (const alarm of [this.ingestFailed, this.undisposed]) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
    }
  }
}
