import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../lambdas/config/passwords.ts';
import { SubmitterSchema } from '../../lambdas/config/schema.ts';

describe('submitter passwords', () => {
  it('verifies the password a hash was made from and no other', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', hash)).toBe(false);
  });

  it('salts every hash, so equal passwords do not give equal hashes', async () => {
    expect(await hashPassword('same password here')).not.toBe(await hashPassword('same password here'));
  });

  it('makes hashes the config accepts, and never stores the password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).not.toContain('correct');
    expect(
      SubmitterSchema.safeParse({ username: 'a', passwordHash: hash, allowedFrom: ['example.com'] }).success,
    ).toBe(true);
    expect(
      SubmitterSchema.safeParse({ username: 'a', passwordHash: 'hunter2', allowedFrom: ['example.com'] })
        .success,
    ).toBe(false);
  });

  it('refuses a malformed hash instead of throwing', async () => {
    expect(await verifyPassword('x', 'scrypt$bad')).toBe(false);
  });
});
