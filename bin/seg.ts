// The seg command line: scan, eval, serve, quarantine, av and config. Each command lives in
// bin/commands and is loaded on use, so `seg scan` does not pay for the AWS SDK or the servers.
import { Command, InvalidArgumentError, Option } from 'commander';
import { SPLITS } from './commands/corpus-split.ts';

const program = new Command('seg')
  .description('seg: a Secure Email Gateway you can run on one machine or deploy to AWS')
  .showHelpAfterError();

/** A TCP port number, or commander's one-line "invalid argument" error. */
const portNumber = (value: string): number => {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new InvalidArgumentError('a port is a number from 0 to 65535.');
  return port;
};

const run = (exitCode: number | undefined) => {
  if (exitCode) process.exitCode = exitCode;
};

program
  .command('scan')
  .description('print a verdict for each message (a .eml file, or every file under a folder)')
  .argument('<paths...>', 'message files or folders')
  .option('--json', 'one JSON object per message')
  .option('-c, --config <file>', 'seg.config.json (default: embedded defaults)')
  .addOption(
    new Option('--dns <mode>', 'DNS for SPF/DKIM/DMARC').choices(['offline', 'system']).default('offline'),
  )
  .addOption(
    new Option(
      '--av <mode>',
      'antivirus: auto = clamd when one answers, on = require clamd (AV_ERROR holds mail), off = none',
    )
      .choices(['auto', 'on', 'off'])
      .default('auto'),
  )
  .action(async (paths: string[], opts) => {
    const { scanCommand } = await import('./commands/scan.ts');
    run(await scanCommand(paths, opts));
  });

program
  .command('eval')
  .description(
    'measure detection on labeled folders: DIR/{ham,spam,phish}/ or DIR/<source>/{ham,spam,phish}/',
  )
  .argument('<dirs...>', 'labeled corpus folders')
  .option('--json', 'print one JSON object with per-label and per-source figures')
  .option('-c, --config <file>', 'seg.config.json (default: embedded defaults)')
  .option('--limit <n>', 'scan at most n messages per label and source', (v) => Number.parseInt(v, 10))
  .option(
    '--exclude-trained',
    "skip the messages in the classifier model's training part (its recorded split)",
  )
  .option('--model <file>', 'score with this classifier model instead of the built-in one')
  .option('--verdicts <file>', 'write one line per message (TSV; gzipped when the name ends in .gz)')
  .action(async (dirs: string[], opts) => {
    const { evalCommand } = await import('./commands/eval.ts');
    run(await evalCommand(dirs, opts));
  });

program
  .command('train')
  .description('train the text classifier on the training part of labeled folders and write the model')
  .argument('[dirs...]', 'labeled folders: DIR/{ham,spam,phish}/ or DIR/<source>/{ham,spam,phish}/')
  .option('-o, --out <file>', 'model file to write (e.g. lambdas/engine/model/classifier-v1.json)')
  .option(
    '--text <dirs...>',
    'text-only training corpora (a "Subject:" line, then the body) under ham/ and spam/',
  )
  .addOption(
    new Option('--split <name>', 'which messages train (see bin/commands/corpus-split.ts)')
      .choices([...SPLITS])
      .default('hash70'),
  )
  .option('--explain [n]', 'print the n strongest features of each class (default 30)', (v) =>
    Number.parseInt(v, 10),
  )
  .action(async (dirs: string[], opts) => {
    const { trainCommand } = await import('./commands/train.ts');
    run(await trainCommand(dirs, opts));
  });

const feeds = program
  .command('feeds')
  .description('known-bad URL and domain feeds the URL scanner checks (local files, never downloaded)');
feeds
  .command('update')
  .description('import a list (one URL or domain a line, # comments) into the feeds folder')
  .argument('<file>', 'the list to import')
  .option('--name <name>', 'feed name (default: the file name)')
  .option('--dir <dir>', 'feeds folder (default: detection.feedsDir of the config)')
  .option('-c, --config <file>', 'seg.config.json')
  .action(async (file: string, opts) => {
    const { feedsCommand } = await import('./commands/feeds.ts');
    run(await feedsCommand('update', { ...opts, file }));
  });
feeds
  .command('list')
  .description('show the feeds and how many entries they hold')
  .option('--dir <dir>', 'feeds folder (default: detection.feedsDir of the config)')
  .option('-c, --config <file>', 'seg.config.json')
  .action(async (opts) => {
    const { feedsCommand } = await import('./commands/feeds.ts');
    run(await feedsCommand('list', opts));
  });

program
  .command('serve')
  .description(
    'run the gateway on this machine: SMTP on 127.0.0.1, embedded S3 and DynamoDB, the same workflow',
  )
  .option('-c, --config <file>', 'seg.config.json (default: ./seg.config.json, else embedded defaults)')
  .option('-p, --port <port>', 'inbound SMTP port (default 2525)', portNumber)
  .option('-d, --data-dir <dir>', 'where messages, quarantine and delivered mail are kept (default .seg)')
  .action(async (opts) => {
    const { serveCommand } = await import('./commands/serve.ts');
    await serveCommand(opts);
  });

program
  .command('reconcile')
  .description(
    're-drive accepted messages without a final disposition and retry due deferred deliveries, now',
  )
  .option('-c, --config <file>', 'seg.config.json (default: ./seg.config.json, else embedded defaults)')
  .option('-d, --data-dir <dir>', 'local data folder (default .seg)')
  .option('--json', 'print what the run did as JSON')
  .action(async (opts) => {
    const { reconcileCommand } = await import('./commands/reconcile.ts');
    run(await reconcileCommand(opts));
  });

const quarantine = program
  .command('quarantine')
  .description('review quarantined messages (local, or a deployed stack)');
const common = (cmd: Command) =>
  cmd
    .option('--json', 'machine-readable output')
    .option('--stack <name>', 'use the deployed CloudFormation stack instead of the local store')
    .option('-c, --config <file>', 'seg.config.json')
    .option('-d, --data-dir <dir>', 'local data folder (default .seg)');

common(quarantine.command('list').description('list quarantined messages, newest first'))
  .option(
    '--status <status>',
    'QUARANTINED (default), DELIVERY_FAILED, DEFERRED, DELIVERED, RELEASED or DELETED',
  )
  .option('-r, --recipient <address>', 'only messages held for this recipient (any status unless --status)')
  .action(async (opts) => {
    const { quarantineCommand } = await import('./commands/quarantine.ts');
    run(await quarantineCommand('list', opts));
  });
for (const [action, description] of [
  ['show', 'show a quarantined message and its verdict trace'],
  ['release', 'deliver a quarantined message (exactly once)'],
  ['delete', 'mark a quarantined message deleted'],
] as const) {
  const cmd = common(quarantine.command(action).description(description))
    .argument('<messageId>')
    .option('-r, --recipient <address>', 'only this recipient (default: all recipients of the message)');
  if (action === 'release')
    cmd.option(
      '--force',
      'administrators only: release a message that holds malware (AV_INFECTED), or an UNCONFIRMED delivery after checking it never arrived',
    );
  cmd.action(async (messageId: string, opts) => {
    const { quarantineCommand } = await import('./commands/quarantine.ts');
    run(await quarantineCommand(action, { ...opts, messageId }));
  });
}

const av = program
  .command('av')
  .description(
    'the local antivirus engine: a clamd with the project signature database under <dataDir>/clamav',
  );
for (const [action, description] of [
  ['start', 'start clamd in the background (seg serve and seg scan find it)'],
  ['stop', 'stop the clamd that `seg av start` started'],
  ['status', 'say whether clamd answers, and its version (exit 1 when it does not)'],
] as const) {
  av.command(action)
    .description(description)
    .option('-c, --config <file>', 'seg.config.json (default: ./seg.config.json, else embedded defaults)')
    .option('-d, --data-dir <dir>', 'data folder (default .seg)')
    .action(async (opts) => {
      const { avCommand } = await import('./commands/av.ts');
      run(await avCommand(action, opts));
    });
}

const config = program.command('config').description('check the configuration or print its JSON Schema');
config
  .command('check')
  .argument('[file]', 'configuration file', 'seg.config.json')
  .action(async (file: string) => {
    const { loadConfig } = await import('../lambdas/config/load-config.ts');
    loadConfig(file);
    console.log(`${file}: valid`);
  });
config.command('schema').action(async () => {
  const { configJsonSchema } = await import('../lambdas/config/json-schema.ts');
  console.log(JSON.stringify(configJsonSchema(), null, 2));
});
config
  .command('hash-password')
  .description('read a password on stdin (never an argument: those show in ps), print its scrypt hash')
  .action(async () => {
    const { hashPassword } = await import('../lambdas/config/passwords.ts');
    if (process.stdin.isTTY) process.stderr.write('password (input is echoed; pipe it to hide it): ');
    let input = '';
    for await (const chunk of process.stdin) {
      input += String(chunk);
      if (process.stdin.isTTY && input.includes('\n')) break;
    }
    const password = input.split(/\r?\n/)[0] ?? '';
    if (password.length < 12)
      throw Object.assign(new Error('use a password of at least 12 characters'), { name: 'UsageError' });
    console.log(await hashPassword(password));
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Known errors (bad config, bad input) print their message only; anything else keeps its stack.
  const e = error as Error;
  console.error(e.name === 'ConfigError' || e.name === 'UsageError' ? e.message : e.stack);
  process.exitCode = 1;
}
