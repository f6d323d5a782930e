// SES receiving: one receipt rule set with one rule per protected domain (TLS required, spam and
// virus scan on, S3 action then Lambda action), and a custom resource that makes the rule set the
// active one. SES has ONE active rule set per region and account: activating ours replaces any other.

import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sesActions from 'aws-cdk-lib/aws-ses-actions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { DomainConfig } from '../lambdas/config/schema.ts';
import { KEYS } from '../lambdas/handlers/deps.ts';

/** Construct id of the singleton provider function AwsCustomResource adds to the stack. */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;

export interface ReceiptRulesProps {
  readonly domains: readonly DomainConfig[];
  /** Where SES stores each raw message, under `inbound/`. */
  readonly bucket: s3.Bucket;
  /** Invoked asynchronously (InvocationType Event) after the S3 action stored the message. */
  readonly ingest: lambda.IFunction;
  /**
   * Make the rule set the region's active one on deploy (and deactivate it on delete).
   * @default true
   */
  readonly activate?: boolean;
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
  readonly rules: readonly ses.ReceiptRule[];

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

    const rules: ses.ReceiptRule[] = [];
    props.domains.forEach((domain, i) => {
      const rule = new ses.ReceiptRule(this, `Rule${i}`, {
        ruleSet: this.ruleSet,
        // Rules are chained so CloudFormation creates them one at a time, in config order.
        after: rules[i - 1],
        recipients: domain.recipients ? [...domain.recipients] : [domain.name],
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
      if (bucketPolicy) rule.node.addDependency(bucketPolicy);
      rules.push(rule);
    });
    this.rules = rules;

    if (props.activate ?? true) this.activate(rules);
  }

  private activate(rules: readonly ses.ReceiptRule[]) {
    const ruleSetName = this.ruleSet.receiptRuleSetName;
    const setActive: cr.AwsSdkCall = {
      service: 'SES',
      action: 'setActiveReceiptRuleSet',
      parameters: { RuleSetName: ruleSetName },
      physicalResourceId: cr.PhysicalResourceId.of(`active-receipt-rule-set`),
    };
    const activation = new cr.AwsCustomResource(this, 'Activate', {
      onCreate: setActive,
      onUpdate: setActive,
      // No RuleSetName deactivates every rule set: ours must not stay active once its rules are gone,
      // and an active rule set cannot be deleted.
      onDelete: { service: 'SES', action: 'setActiveReceiptRuleSet', parameters: {} },
      // SetActiveReceiptRuleSet has no resource-level permissions.
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['ses:SetActiveReceiptRuleSet'], resources: ['*'] }),
      ]),
      installLatestAwsSdk: false,
    });
    for (const rule of rules) activation.node.addDependency(rule);
    // The custom resource provider is one Lambda function per stack, shared by every AwsCustomResource.
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AwsCustomResource provider function only writes its own logs with this AWS policy.',
      });
    }
    Validations.of(activation).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:SetActiveReceiptRuleSet supports no resource-level permission; it is the only action allowed.',
    });
  }
}
