// Mailer for the local runtime's default delivery: writes each delivered message, byte for byte, to
// <folder>/<messageId>-<recipient>.eml. It never sends anything over the network.

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { headerValues } from '../../contracts/header-block.ts';
import type { Mailer, MailerInput, MailerResult } from '../../ports/index.ts';

/** The gateway's message id, from the Received field the listener (or SES) added: `with SMTP id <id>`. */
function gatewayMessageId(raw: Uint8Array): string | undefined {
  for (const value of headerValues(raw, 'received')) {
    const id = /\bwith E?SMTP id ([a-z0-9]+)/i.exec(value)?.[1];
    if (id) return id;
  }
  return undefined;
}

/**
 * A portable file name part that never maps two texts to one name: every byte outside a safe set is
 * written %XX ('%' itself included), so `a!b@`, `a#b@` and `a_b@` stay apart; a long result keeps a
 * readable prefix and a hash of the whole text.
 */
export function safe(text: string): string {
  const encoded = [...Buffer.from(text, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9@._+-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  if (encoded.length <= 200) return encoded;
  return `${encoded.slice(0, 150)}~${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
}

export class FolderMailer implements Mailer {
  constructor(private readonly folder: string) {}

  async send(input: MailerInput): Promise<MailerResult> {
    await mkdir(this.folder, { recursive: true });
    const messageId = gatewayMessageId(input.raw) ?? randomUUID();
    // Write every copy, record the attempt, then rename: a reader never sees half a message, and the
    // renames are the commit the attempt record covers.
    const copies: { partial: string; file: string }[] = [];
    for (const recipient of input.envelope.recipients) {
      const file = join(this.folder, `${safe(messageId)}-${safe(recipient.toLowerCase())}.eml`);
      const partial = `${file}.${randomUUID()}.tmp`;
      await writeFile(partial, input.raw);
      copies.push({ partial, file });
    }
    try {
      await input.beforeCommit?.();
    } catch (error) {
      await Promise.all(copies.map((c) => rm(c.partial, { force: true })));
      throw error;
    }
    const files: string[] = [];
    for (const { partial, file } of copies) {
      await rename(partial, file);
      files.push(file);
    }
    return { response: `250 written ${files.length} file(s) to ${this.folder}` };
  }
}
