import { ENV_HELP } from '../config/load-config.js';
import { keys } from './commands/keys.js';
import { migrate } from './commands/migrate.js';
import { serve } from './commands/serve.js';
import { worker } from './commands/worker.js';

const HELP = `Usage: smashsend <command> [options]

Commands:
  serve [--no-worker]                     serve the Events API (and the worker, unless --no-worker)
  worker                                  run the background worker alone
  keys create [--workspace W] [--name N]  create an API key (printed on the last line)
  keys list                               list API keys
  keys revoke KEY                         revoke a key by id or secret
  migrate                                 apply schema migrations

Options: --help (per command), --debug (print stack traces)

Environment:
${ENV_HELP.map(([k, v]) => `  ${k.padEnd(27)} ${v}`).join('\n')}`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { serve, worker, keys, migrate };

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [cmd, ...rest] = args;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP);
    return cmd ? 0 : 1;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    console.error(`smashsend: unknown command "${cmd}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    // One line unless --debug: operators want the reason, not a stack.
    console.error(`smashsend ${cmd}: ${debug && err instanceof Error ? err.stack : err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
