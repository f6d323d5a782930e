// SES receiving: one receipt rule set with ONE rule for every protected recipient (TLS required, spam
// and virus scan on, S3 action then Lambda action), and its activation through the cut-over custom
// resource. One rule because SES runs each matching rule separately with only the recipients it
// matched: with a rule per domain, a message to two domains would be ingested twice, each time with
// part of its envelope. SES has ONE active rule set per region and account (see ReceivingSetup).

import type { CustomResource } from 'aws-cdk-lib';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sesActions from 'aws-cdk-lib/aws-ses-actions';
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
  ) {}
  bind(): ses.ReceiptRuleActionConfig {
    return { s3Action: { bucketName: this.bucket.bucketName, objectKeyPrefix: this.prefix } };
  }
}

/** The receipt rule set, its rules, the SES write permission on the bucket and the activation. */
export class ReceiptRules extends Construct {
  readonly ruleSet: ses.ReceiptRuleSet;
  readonly rule: ses.ReceiptRule;
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

    this.rule = new ses.ReceiptRule(this, 'Rule', {
      ruleSet: this.ruleSet,
      recipients: ruleRecipients(props.domains),
      tlsPolicy: ses.TlsPolicy.REQUIRE,
      scanEnabled: true,
      enabled: true,
      actions: [
        new StoreInS3(props.bucket, KEYS.inboundPrefix),
        new sesActions.Lambda({
          function: props.ingest,
          invocationType: sesActions.LambdaInvocationType.EVENT,
        }),
      ],
    });
    if (bucketPolicy) this.rule.node.addDependency(bucketPolicy);

    if (props.setup) {
      this.activation = props.setup.activate(this.ruleSet.receiptRuleSetName, props.replaceActive ?? false, [
        this.rule,
      ]);
    }
  }
}
