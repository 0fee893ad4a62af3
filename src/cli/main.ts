import { readFileSync } from 'node:fs';
import { ConfigError, ENV_HELP } from '../config/load-config.js';
import { EXIT, UsageError } from './args.js';
import { catalog } from './commands/catalog.js';
import { keys } from './commands/keys.js';
import { migrate } from './commands/migrate.js';
import { segments } from './commands/segments.js';
import { serve } from './commands/serve.js';
import { trackingPlan } from './commands/tracking-plan.js';
import { users } from './commands/users.js';
import { worker } from './commands/worker.js';
import { workflows } from './commands/workflows.js';

const HELP = `Usage: smashsend <command> [options]

Commands:
  serve [--no-worker]                     serve the Events API (and the worker, unless --no-worker)
  worker                                  run the background worker alone
  keys create [--workspace W] [--name N]  create an API key (printed on the last line)
  keys list [--json]                      list API keys, with when each was last used
  keys revoke KEY                         revoke a key by id or secret
  segments list|show ID|apply FILE.json   segments of a workspace [--workspace W]: list, one, create/update
  catalog export [--workspace W] [--out F]
                                          the event catalogue (names, volumes, property types) as JSON
  tracking-plan apply FILE.json|show|delete
                                          the workspace's tracking plan [--workspace W]: set from a file, print, remove
  users create --email E [--workspace W]… [--password-stdin]
                                          create a dashboard user
  migrate                                 apply schema migrations
  workflows list|show|pause|activate      list workflows, print one, pause or activate it
  workflows apply FILE.json               create or update a workflow from a file

Options: --help (also per command: smashsend keys --help), --version, --debug (stack traces)

Every command prints the store it opened (its absolute path) on stderr.

Exit status: 0 ok, 1 failure (store, network, listen address, key not found), 2 usage error
(unknown command or option, missing or empty value).

Environment:
${ENV_HELP.map(([k, v]) => `  ${k.padEnd(27)} ${v}`).join('\n')}`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { serve, worker, keys, users, migrate, workflows, segments, catalog, 'tracking-plan': trackingPlan };

/** The version of package.json at the package root (two levels above dist/cli/ and src/cli/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [cmd, ...rest] = args;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP);
    return EXIT.ok;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    console.log(packageVersion());
    return EXIT.ok;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    console.error(`smashsend: unknown ${cmd.startsWith('-') ? 'option' : 'command'} ${JSON.stringify(cmd)} (see smashsend --help)`);
    return EXIT.usage;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`smashsend ${cmd}: ${err.message} (see smashsend ${cmd} --help)`);
      return EXIT.usage;
    }
    // One line unless --debug: operators want the reason, not a stack.
    const line = err instanceof Error ? err.message : String(err);
    console.error(`smashsend ${cmd}: ${line}`);
    if (debug && err instanceof Error && !(err instanceof ConfigError)) console.error(err.stack);
    return EXIT.failure;
  }
}
