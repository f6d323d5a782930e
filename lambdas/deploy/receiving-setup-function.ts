// Lambda entry of the receiving cut-over custom resource (lib/receiving-setup.ts). Not in the mail path.
import { SESClient } from '@aws-sdk/client-ses';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { clientConfig } from '../adapters/aws/client-config.ts';
import { type CustomResourceEvent, handleCustomResource } from './receiving-setup.ts';

const ses = new SESClient(clientConfig());
const sesv2 = new SESv2Client(clientConfig());

export const handler = (event: CustomResourceEvent, context: { getRemainingTimeInMillis(): number }) =>
  handleCustomResource(event, { ses, sesv2, remainingMs: () => context.getRemainingTimeInMillis() });
