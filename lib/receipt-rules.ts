// SES receiving: one receipt rule set with ONE rule for every protected recipient (TLS required, spam
// and virus scan on, S3 action then Lambda action; the S3 action also notifies an arrival queue, the
// reconciler's backstop for an ingest that never ran), and its activation through the cut-over custom
// resource. One rule because SES runs each matching rule separately with only the recipients it
// matched: with a rule per domain, a message to two domains would be ingested twice, each time with
// part of its envelope. SES has ONE active rule set per region and account (see ReceivingSetup).

import type { CustomResource } from 'aws-cdk-lib';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sesActions from 'aws-cdk-lib/aws-ses-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type DomainConfig, ruleRecipients } from '../lambdas/config/schema.ts';
import { KEYS } from '../lambdas/handlers/deps.ts';
import type { ReceivingSetup } from './receiving-setup.ts';

export interface ReceiptRulesProps {
  readonly domains: readonly DomainConfig[];
  /** Where SES stores each raw message, under `inbound/`. */
  readonly bucket: s3.Bucket;
  /** Invoked asynchronously (InvocationType Event) after the S3 action stored the message. */
  readonly ingest: lambda.IFunction;
  /**
   * Make the rule set the region's active one on deploy (and deactivate it on delete) with this
   * custom resource provider.
   * @default - not activated; the README says how to activate it by hand
   */
  readonly setup?: ReceivingSetup;
  /**
   * Replace another rule set that is active in the region; without it the deploy fails instead.
   * @default false
   */
  readonly replaceActive?: boolean;
}

/**
 * The SES S3 action without the permission the aws-ses-actions version adds: that one only checks
 * aws:SourceAccount, while this construct grants PutObject under inbound/ to this rule set alone.
 */
class StoreInS3 implements ses.IReceiptRuleAction {
  constructor(
    private readonly bucket: s3.IBucket,
    private readonly prefix: string,
    private readonly notify: sns.ITopic,
  ) {}
  bind(): ses.ReceiptRuleActionConfig {
    return {
      s3Action: {
        bucketName: this.bucket.bucketName,
        objectKeyPrefix: this.prefix,
        topicArn: this.notify.topicArn,
      },
    };
  }
}

/** The receipt rule set, its rules, the SES write permission on the bucket and the activation. */
export class ReceiptRules extends Construct {
  readonly ruleSet: ses.ReceiptRuleSet;
  readonly rule: ses.ReceiptRule;
  /**
   * SES's notice of every message the S3 action stored (mail and receipt, the envelope included), for the
   * reconciler to ingest any message whose ingest never ran. Delayed 15 minutes: by then ingest has run.
   */
  readonly arrivals: sqs.Queue;
  /** The activation custom resource, when the stack activates the rule set. */
  readonly activation?: CustomResource;

  constructor(scope: Construct, id: string, props: ReceiptRulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.ruleSet = new ses.ReceiptRuleSet(this, 'RuleSet');

    // Any rule of this rule set, and nothing else, may write mail and invoke ingest.
    const ruleArns = stack.formatArn({
      service: 'ses',
      resource: 'receipt-rule-set',
      resourceName: `${this.ruleSet.receiptRuleSetName}:receipt-rule/*`,
    });
    // The aws-ses-actions Lambda action reuses a permission named AllowSes when it exists; this one
    // adds the source ARN to the account condition the action would set on its own.
    props.ingest.addPermission('AllowSes', {
      principal: new iam.ServicePrincipal('ses.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: stack.account,
      sourceArn: ruleArns,
    });

    // SES checks this permission when the rule is created, so every rule depends on the policy.
    props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesToStoreInboundMail',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [props.bucket.arnForObjects(`${KEYS.inboundPrefix}*`)],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': ruleArns },
        },
      }),
    );
    const bucketPolicy = props.bucket.policy;

    // The arrival notices: SES may publish for this rule set only, encrypted with a key SES may use
    // (the AWS managed SNS key's policy does not let SES publish).
    const fromThisRuleSet = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': ruleArns },
    };
    const sesService = new iam.ServicePrincipal('ses.amazonaws.com');
    const key = new kms.Key(this, 'ArrivalsKey', {
      description: 'Encrypts the SES arrival notices of seg',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [sesService],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromThisRuleSet,
      }),
    );
    const topic = new sns.Topic(this, 'Arrivals', { masterKey: key, enforceSSL: true });
    const published = topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesToNotifyArrivals',
        principals: [sesService],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromThisRuleSet,
      }),
    );
    this.arrivals = new sqs.Queue(this, 'ArrivalQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      deliveryDelay: Duration.minutes(15),
    });
    Validations.of(this.arrivals).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'The reconciler leaves a notice it cannot read in the queue for a person (logged); a dead-letter queue would hide it.',
    });
    topic.addSubscription(new subscriptions.SqsSubscription(this.arrivals, { rawMessageDelivery: true }));

    this.rule = new ses.ReceiptRule(this, 'Rule', {
      ruleSet: this.ruleSet,
      recipients: ruleRecipients(props.domains),
      tlsPolicy: ses.TlsPolicy.REQUIRE,
      scanEnabled: true,
      enabled: true,
      actions: [
        new StoreInS3(props.bucket, KEYS.inboundPrefix, topic),
        new sesActions.Lambda({
          function: props.ingest,
          invocationType: sesActions.LambdaInvocationType.EVENT,
        }),
      ],
    });
    if (bucketPolicy) this.rule.node.addDependency(bucketPolicy);
    if (published.policyDependable) this.rule.node.addDependency(published.policyDependable);

    if (props.setup) {
      this.activation = props.setup.activate(this.ruleSet.receiptRuleSetName, props.replaceActive ?? false, [
        this.rule,
      ]);
    }
  }
}
