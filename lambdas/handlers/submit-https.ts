// The HTTPS submission for applications: a Lambda function URL with AWS_IAM auth (AWS refuses an
// unsigned call before this runs). Body: JSON {mailFrom, recipients, raw: base64 MIME}. The signed
// caller's ARN is the submitter. Answers 202 with the submission id, or 400 saying what is wrong.

import { z } from 'zod';
import type { OutboundHandlerDeps } from './deps.ts';
import { createSubmitHandler } from './submit.ts';

const Body = z.object({
  mailFrom: z.string().regex(/^[^\s@]+@[^\s@]+$/),
  recipients: z
    .array(z.string().regex(/^[^\s@]+@[^\s@]+$/))
    .min(1)
    .max(1000),
  raw: z.string().min(1).describe('base64 of the MIME message'),
});

interface FunctionUrlEvent {
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: { readonly authorizer?: { readonly iam?: { readonly userArn?: string } } };
}

const answer = (statusCode: number, body: object) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export function createHttpsSubmitHandler(
  deps: Pick<
    OutboundHandlerDeps,
    'config' | 'bucket' | 'store' | 'pending' | 'outboundStarter' | 'clock' | 'logger'
  >,
) {
  const submit = createSubmitHandler(deps);
  return async (event: FunctionUrlEvent) => {
    const submitter = event.requestContext?.authorizer?.iam?.userArn;
    if (!submitter) return answer(403, { error: 'a SigV4-signed request is required' });
    let json: unknown;
    try {
      const text = event.isBase64Encoded
        ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
        : (event.body ?? '');
      json = JSON.parse(text);
    } catch {
      return answer(400, { error: 'the body must be JSON: {mailFrom, recipients, raw}' });
    }
    const parsed = Body.safeParse(json);
    if (!parsed.success)
      return answer(400, {
        error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
    const raw = Buffer.from(parsed.data.raw, 'base64');
    if (raw.byteLength > deps.config.limits.maxMessageBytes)
      return answer(413, { error: 'message too large' });
    const { submissionId } = await submit({
      raw,
      envelope: { mailFrom: parsed.data.mailFrom, recipients: parsed.data.recipients },
      submitter,
    });
    return answer(202, { submissionId });
  };
}
