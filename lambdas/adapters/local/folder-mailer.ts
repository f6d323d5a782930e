// Mailer for the local runtime's default delivery: writes each delivered message, byte for byte, to
// <folder>/<messageId>-<recipient>.eml. It never sends anything over the network.

import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { headerValues } from '../../contracts/header-block.ts';
import type { Envelope } from '../../engine/types.ts';
import type { Mailer, MailerResult } from '../../ports/index.ts';

/** The gateway's message id, from the Received field the listener (or SES) added: `with SMTP id <id>`. */
function gatewayMessageId(raw: Uint8Array): string | undefined {
  for (const value of headerValues(raw, 'received')) {
    const id = /\bwith E?SMTP id ([a-z0-9]+)/i.exec(value)?.[1];
    if (id) return id;
  }
  return undefined;
}

/** Keeps file names portable: no path separators or shell-hostile characters from an address. */
const safe = (text: string): string => text.replace(/[^A-Za-z0-9@._+-]/g, '_').slice(0, 200);

export class FolderMailer implements Mailer {
  constructor(private readonly folder: string) {}

  async send(input: { envelope: Envelope; raw: Uint8Array; domain: string }): Promise<MailerResult> {
    await mkdir(this.folder, { recursive: true });
    const messageId = gatewayMessageId(input.raw) ?? randomUUID();
    const files: string[] = [];
    for (const recipient of input.envelope.recipients) {
      const file = join(this.folder, `${safe(messageId)}-${safe(recipient.toLowerCase())}.eml`);
      // Write then rename, so a reader never sees half a message.
      const partial = `${file}.${randomUUID()}.tmp`;
      await writeFile(partial, input.raw);
      await rename(partial, file);
      files.push(file);
    }
    return { response: `250 written ${files.length} file(s) to ${this.folder}` };
  }
}
