// Proves the state machine CDK deploys is the document the local runtime executes: the template's
// DefinitionString is inboundDefinitionString() byte for byte, and every ARN placeholder in it is
// substituted with a Lambda function of the same stack.

import { describe, expect, it } from 'vitest';
import {
  arnPlaceholder,
  inboundDefinition,
  inboundDefinitionString,
  WORKFLOW_FUNCTIONS,
} from '../../lib/workflow/inbound-definition.ts';
import { synthTemplate } from './synth.ts';

describe('inbound workflow fidelity', () => {
  const template = synthTemplate();
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const props = machine?.Properties as {
    DefinitionString: unknown;
    DefinitionSubstitutions: Record<string, unknown>;
  };
  const functions = template.findResources('AWS::Lambda::Function');

  it('deploys exactly the shared definition string', () => {
    expect(props.DefinitionString).toBe(inboundDefinitionString());
    expect(JSON.parse(props.DefinitionString as string)).toEqual(inboundDefinition());
  });

  it('substitutes one function ARN per workflow function and nothing else', () => {
    expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual(
      WORKFLOW_FUNCTIONS.map(arnPlaceholder).sort(),
    );
  });

  it('resolves every placeholder in the definition to a Lambda function of this stack', () => {
    const placeholders = [...(props.DefinitionString as string).matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]);
    expect(placeholders.length).toBeGreaterThan(0);
    for (const placeholder of placeholders) {
      const value = props.DefinitionSubstitutions[placeholder as string] as {
        'Fn::GetAtt': [string, string];
      };
      expect(value, placeholder).toBeDefined();
      const [logicalId, attribute] = value['Fn::GetAtt'];
      expect(attribute).toBe('Arn');
      expect(functions[logicalId], `${placeholder} -> ${logicalId}`).toBeDefined();
    }
  });
});
