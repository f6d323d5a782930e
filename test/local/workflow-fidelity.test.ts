// Proves the local runtime runs the workflow CDK deploys: the definition the running gateway's runner
// holds (placeholders intact) deep-equals the synthesized StateMachine's DefinitionString, and every
// DefinitionSubstitutions key has an in-process handler built from the deployed factories.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_OUTPUT_KEYS } from '../../bin/commands/quarantine.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { type LocalGateway, startLocalGateway } from '../../lambdas/local/gateway.ts';
import { localFunctionArn } from '../../lambdas/local/local-workflow.ts';
import { STACK_OUTPUTS } from '../../lib/seg-stack.ts';
import { arnPlaceholder, WORKFLOW_FUNCTIONS } from '../../lib/workflow/inbound-definition.ts';
import { synthTemplate, testConfig } from '../infra/synth.ts';

describe('local workflow fidelity', () => {
  const config = testConfig({ local: { smtpPort: 0 } });
  const template = synthTemplate(config);
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const props = machine?.Properties as {
    DefinitionString: string;
    DefinitionSubstitutions: Record<string, unknown>;
  };
  let dataDir: string;
  let gateway: LocalGateway;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-fidelity-'));
    gateway = await startLocalGateway({
      config,
      dataDir,
      smtpPort: 0,
      resolver: offlineResolver,
      reconcileIntervalMs: false,
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await gateway?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs exactly the definition the stack deploys', () => {
    expect(typeof props.DefinitionString).toBe('string');
    expect(gateway.workflow.definition).toEqual(JSON.parse(props.DefinitionString));
  });

  it('executes that definition with each placeholder replaced by a local function ARN, and nothing else changed', () => {
    let substituted = props.DefinitionString;
    for (const key of Object.keys(props.DefinitionSubstitutions)) {
      const fn = WORKFLOW_FUNCTIONS.find((f) => arnPlaceholder(f) === key);
      expect(fn, key).toBeDefined();
      substituted = substituted.replaceAll(`\${${key}}`, localFunctionArn(fn!));
    }
    expect(gateway.workflow.executedDefinition).toEqual(JSON.parse(substituted));
  });

  it('has an in-process handler for every DefinitionSubstitutions key', () => {
    const bound = new Set(gateway.workflow.bindings.map((b) => arnPlaceholder(b.fn)));
    for (const key of Object.keys(props.DefinitionSubstitutions)) {
      expect(bound.has(key), key).toBe(true);
      const fn = WORKFLOW_FUNCTIONS.find((f) => arnPlaceholder(f) === key)!;
      expect(typeof gateway.handlers.workflow[fn]).toBe('function');
    }
  });

  it('reads the stack outputs the stack declares', () => {
    for (const key of Object.values(STACK_OUTPUT_KEYS)) {
      expect(Object.values(STACK_OUTPUTS)).toContain(key);
      expect(Object.keys(template.findOutputs(key))).toEqual([key]);
    }
  });
});
