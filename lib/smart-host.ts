// The outbound side in AWS: the outbound EXPRESS workflow (the same ASL document the local runtime
// runs), the SES Mail Manager AUTH ingress point (TLS required, password in Secrets Manager) whose
// rule set writes each message to outbox/smtp/ where an S3 trigger starts the workflow, the
// IAM-authenticated HTTPS submission (function URL), the SES configuration set with a bounce and
// complaint destination, and SES send permission limited to the identities and that configuration set.

import { Aws, CfnOutput, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { SegConfig } from '../lambdas/config/schema.ts';
import { ENV, KEYS } from '../lambdas/handlers/deps.ts';
import type { FunctionName } from './functions.ts';
import { arnPlaceholder } from './workflow/inbound-definition.ts';
import {
  OUTBOUND_FUNCTIONS,
  type OutboundFunction,
  outboundDefinitionString,
} from './workflow/outbound-definition.ts';

/** Which function serves each task of the outbound definition (parse, the attachment and antivirus scanners and quarantine are shared). */
export const OUTBOUND_FUNCTION_NAMES: Readonly<Record<OutboundFunction, FunctionName>> = {
  Parse: 'parse',
  ScanDlp: 'scan-dlp',
  ScanAttachments: 'scan-attachments',
  ScanAntivirus: 'scan-antivirus',
  OutboundAbuse: 'outbound-abuse',
  OutboundDecide: 'outbound-decide',
  Send: 'send',
  Block: 'block',
  Quarantine: 'quarantine',
};

/** Where the Mail Manager rule set writes: only this prefix triggers outbox ingest (HTTPS submissions start the workflow themselves). */
export const MAIL_MANAGER_PREFIX = `${KEYS.outboxPrefix}smtp/`;

export interface SmartHostProps {
  readonly config: SegConfig;
  readonly bucket: s3.IBucket;
  readonly functions: Readonly<Record<FunctionName, nodejs.NodejsFunction>>;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

export class SmartHost extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly submitUrl: lambda.FunctionUrl;
  readonly ingressPoint: ses.CfnMailManagerIngressPoint;
  readonly configurationSet: ses.ConfigurationSet;
  readonly feedbackTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: SmartHostProps) {
    super(scope, id);
    const { config, bucket, functions: fns } = props;
    const stack = Stack.of(this);

    // The workflow, from the shared document.
    const logGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const targets = OUTBOUND_FUNCTIONS.map((fn) => fns[OUTBOUND_FUNCTION_NAMES[fn]]);
    this.stateMachine = new sfn.StateMachine(this, 'Workflow', {
      stateMachineType: sfn.StateMachineType.EXPRESS,
      definitionBody: sfn.DefinitionBody.fromString(outboundDefinitionString()),
      definitionSubstitutions: Object.fromEntries(
        OUTBOUND_FUNCTIONS.map((fn) => [arnPlaceholder(fn), fns[OUTBOUND_FUNCTION_NAMES[fn]].functionArn]),
      ),
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [...new Set(targets)].map((fn) => fn.functionArn),
      }),
    );
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray trace submission and CloudWatch Logs delivery support no resource-level permission.',
    });
    // The reconciler re-drives outbound submissions whose run died.
    for (const starter of [fns.submit, fns['outbox-ingest'], fns.reconcile]) {
      starter.addEnvironment(ENV.outboundStateMachineArn, this.stateMachine.stateMachineArn);
      this.stateMachine.grantStartExecution(starter);
    }

    // HTTPS submission for applications: AWS refuses unsigned calls before the function runs.
    this.submitUrl = fns.submit.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    // SES sending: a configuration set (TLS required, bounces and complaints to an encrypted topic),
    // and permission to send only as the verified identities and only with that configuration set.
    const key = new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'seg outbound: SES feedback topic and the smart host password',
    });
    this.feedbackTopic = new sns.Topic(this, 'Feedback', { masterKey: key, enforceSSL: true });
    key.grant(new iam.ServicePrincipal('ses.amazonaws.com'), 'kms:GenerateDataKey*', 'kms:Decrypt');
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: config.outbound.configurationSet,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    this.configurationSet.addEventDestination('BouncesAndComplaints', {
      destination: ses.EventDestination.snsTopic(this.feedbackTopic),
      events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT, ses.EmailSendingEvent.REJECT],
    });
    const identities =
      config.outbound.identities.length > 0 ? config.outbound.identities : config.domains.map((d) => d.name);
    const sendResources = [
      ...identities.map((i) => `arn:${Aws.PARTITION}:ses:${stack.region}:${Aws.ACCOUNT_ID}:identity/${i}`),
      `arn:${Aws.PARTITION}:ses:${stack.region}:${Aws.ACCOUNT_ID}:configuration-set/${config.outbound.configurationSet}`,
    ];
    // Release sends held outbound mail; it has the same limits.
    for (const sender of [fns.send, fns.block, fns.release]) {
      sender.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['ses:SendEmail', 'ses:SendRawEmail'], resources: sendResources }),
      );
    }

    // The smart host: Mail Manager ingress point of type AUTH, TLS required, writing to outbox/smtp/.
    const password = new secretsmanager.Secret(this, 'SmtpPassword', {
      description: 'SMTP AUTH password of the seg smart host (Mail Manager ingress point)',
      encryptionKey: key,
      generateSecretString: { excludePunctuation: true, passwordLength: 40 },
    });
    password.grantRead(new iam.ServicePrincipal('ses.amazonaws.com'));
    key.grant(new iam.ServicePrincipal('ses.amazonaws.com'), 'kms:Decrypt');
    Validations.of(password).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The password is also set in the organisation's mail server (relayhost SASL); it is rotated by hand on both sides at once.",
    });
    const writer = new iam.Role(this, 'RuleSetWriter', {
      assumedBy: new iam.ServicePrincipal('ses.amazonaws.com'),
      description: 'Lets the Mail Manager rule set write submitted messages under outbox/smtp/',
    });
    writer.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`${MAIL_MANAGER_PREFIX}*`)],
      }),
    );
    Validations.of(writer).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${MAIL_MANAGER_PREFIX}*]`,
      reason:
        'Object keys under outbox/smtp/ are per-message ids chosen by Mail Manager; access is limited to that prefix.',
    });
    const ruleSet = new ses.CfnMailManagerRuleSet(this, 'RuleSet', {
      rules: [
        {
          name: 'to-outbox',
          actions: [
            {
              writeToS3: {
                s3Bucket: bucket.bucketName,
                s3Prefix: MAIL_MANAGER_PREFIX,
                roleArn: writer.roleArn,
              },
            },
          ],
        },
      ],
    });
    const trafficPolicy = new ses.CfnMailManagerTrafficPolicy(this, 'TrafficPolicy', {
      defaultAction: 'DENY',
      maxMessageSizeBytes: config.limits.maxMessageBytes,
      policyStatements: [
        {
          action: 'ALLOW',
          conditions: [
            {
              tlsExpression: {
                evaluate: { attribute: 'TLS_PROTOCOL' },
                operator: 'MINIMUM_TLS_VERSION',
                value: 'TLS1_2',
              },
            },
          ],
        },
      ],
    });
    this.ingressPoint = new ses.CfnMailManagerIngressPoint(this, 'IngressPoint', {
      type: 'AUTH',
      tlsPolicy: 'REQUIRED',
      ruleSetId: ruleSet.attrRuleSetId,
      trafficPolicyId: trafficPolicy.attrTrafficPolicyId,
      ingressPointConfiguration: { secretArn: password.secretArn },
    });

    // Each message Mail Manager writes starts the outbound workflow.
    bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.LambdaDestination(fns['outbox-ingest']),
      { prefix: MAIL_MANAGER_PREFIX },
    );

    // CDK's singleton that applies bucket notifications: its role has the basic execution policy only.
    const notifications = stack.node.tryFindChild(
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
    );
    if (notifications)
      Validations.of(notifications).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's bucket-notification handler writes only its own CloudWatch Logs with this managed policy.",
      });

    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { key, value, description });
    output('OutboundStateMachineArn', this.stateMachine.stateMachineArn, 'Outbound workflow');
    output('SmartHostEndpoint', this.ingressPoint.attrARecord, 'SMTP AUTH smart host (port 587, STARTTLS)');
    output(
      'SmartHostPasswordSecret',
      password.secretArn,
      'Secrets Manager secret holding the smart host password',
    );
    output(
      'SubmitUrl',
      this.submitUrl.url,
      'HTTPS submission (SigV4-signed POST: {mailFrom, recipients, raw})',
    );
  }
}
