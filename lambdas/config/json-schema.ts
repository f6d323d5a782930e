// The JSON Schema of seg.config.json, generated from the zod validator so the two cannot drift.
// `seg config schema` prints it; seg.config.schema.json is the committed copy editors use.
import { z } from 'zod';
import { ConfigSchema } from './schema.ts';

export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'seg.config.json',
    description: 'Configuration of the seg Secure Email Gateway, read by the CDK app and the local runtime',
  };
}
