// The function behind the receiving cut-over custom resources (lambdas/deploy/receiving-setup.ts):
// activating seg's rule set without replacing another one by surprise, and waiting for an SES
// identity to be verified before a managed MX record moves mail. Its grants name only what it calls.

import { CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import type { ReceivingSetupProps } from '../lambdas/deploy/receiving-setup.ts';
import { REPO_ROOT } from './bundling.ts';

export interface ReceivingSetupConstructProps {
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** One provider function for the stack's cut-over resources. */
export class ReceivingSetup extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReceivingSetupConstructProps = {}) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: `${REPO_ROOT}/lambdas/deploy/receiving-setup-function.ts`,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}/package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // Waiting for an identity's verification may take minutes; the function answers before it ends.
      timeout: Duration.minutes(14),
      logGroup: this.logGroup,
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        minify: true,
      },
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:DescribeActiveReceiptRuleSet', 'ses:SetActiveReceiptRuleSet'],
        resources: ['*'],
      }),
    );
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:DescribeActiveReceiptRuleSet and ses:SetActiveReceiptRuleSet support no resource-level permission; identity reads are scoped to the configured domains.',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AWSLambdaBasicExecutionRole only allows writing to CloudWatch Logs; the function has its own log group.',
    });
  }

  private resource(id: string, properties: ReceivingSetupProps, after: readonly IDependable[]) {
    const resource = new CustomResource(this, id, {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::SegReceivingSetup',
      properties,
    });
    for (const dependency of after) resource.node.addDependency(dependency);
    return resource;
  }

  /**
   * Makes `ruleSetName` the region's active rule set once `after` exist. Refuses (the deploy fails and
   * rolls back) when another set is active, unless `replaceActive`; on delete deactivates only ours.
   */
  activate(ruleSetName: string, replaceActive: boolean, after: readonly IDependable[]): CustomResource {
    return this.resource(
      'ActiveRuleSet',
      { Kind: 'ActiveRuleSet', RuleSetName: ruleSetName, ReplaceActive: String(replaceActive) },
      after,
    );
  }

  /** Completes only once SES shows `domain` verified (fails the deploy, MX untouched, if it does not in time). */
  verified(domain: string, n: number, after: readonly IDependable[]): CustomResource {
    const stack = Stack.of(this);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:GetEmailIdentity'],
        resources: [stack.formatArn({ service: 'ses', resource: 'identity', resourceName: domain })],
      }),
    );
    return this.resource(`Verified${n}`, { Kind: 'VerifiedIdentity', Identity: domain }, after);
  }
}
