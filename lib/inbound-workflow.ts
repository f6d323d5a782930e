// The inbound workflow as an EXPRESS state machine, deployed from the same ASL document the local
// runtime executes (lib/workflow/inbound-definition.ts); only the function ARNs are substituted.
// It does not build the definition with CDK's states constructs, on purpose: one document, two runtimes.

import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  arnPlaceholder,
  inboundDefinitionString,
  WORKFLOW_FUNCTIONS,
  type WorkflowFunction,
} from './workflow/inbound-definition.ts';

export interface InboundWorkflowProps {
  /** The Lambda function behind each task of the definition. */
  readonly functions: Readonly<Record<WorkflowFunction, lambda.IFunction>>;
  /**
   * Retention of the execution log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The inbound EXPRESS state machine with ALL-level logging (without execution data) and X-Ray. */
export class InboundWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: InboundWorkflowProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // Under /aws/vendedlogs/ CloudWatch Logs grants log delivery without growing the account's
      // 5,120-character log resource policy with every state machine (AWS's advice for Step Functions).
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-${id}`,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const definitionSubstitutions = Object.fromEntries(
      WORKFLOW_FUNCTIONS.map((fn) => [arnPlaceholder(fn), props.functions[fn].functionArn]),
    );
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.EXPRESS,
      definitionBody: sfn.DefinitionBody.fromString(inboundDefinitionString()),
      definitionSubstitutions,
      // Execution data would copy sender addresses and subjects into CloudWatch Logs. Failures only: a
      // successful run's ~55 state events (~18 KB) would be a fifth of a message's cost (docs/cost.md),
      // and the functions already log each decision and disposition by messageId.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: true,
    });

    // Exactly the workflow's functions, no version or alias wildcard.
    const targets = [...new Set(WORKFLOW_FUNCTIONS.map((fn) => props.functions[fn]))];
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: targets.map((fn) => fn.functionArn),
      }),
    );
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray trace submission and CloudWatch Logs delivery (logs:CreateLogDelivery and related) support no resource-level permission.',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        'Failed runs are logged (level ERROR, with error and cause). Every state event of every successful run (~55 events, ~18 KB a message) would cost a fifth of what a message costs (docs/cost.md); the functions log each decision and disposition by messageId, and the verdict trace is in S3.',
    });
  }
}
