// Lambda entry for the outbound block step (record, and notify the sender through SES).
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { awsOutboundDeps } from '../adapters/aws/outbound-deps.ts';
import { createBlockHandler } from '../handlers/block.ts';

const deps = awsOutboundDeps(['store', 'ledger', 'quarantine'], ['sender']);
export const handler = withLambdaContext(createBlockHandler(deps), deps);
